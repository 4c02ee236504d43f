"""One path rule for run files and artifact manifests: every class of bad path is refused by
AddRunFiles, by artifact manifests and by the SDK before anything is sent, with the same reason and
nothing written. Names an older server stored are shown escaped by the CLI listings, and a download
fetches every other file, then names the bad ones and exits non-zero."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from types import SimpleNamespace

import grpc
import pytest
from strata.cli.main import main as cli
from strata.common.v1 import blob_pb2
from strata.errors import Reason, StrataError
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import upload_pb2
from strata.registry.v1 import artifact_pb2
from strata.registry.v1 import registry_service_pb2 as rpb
from strata.sdk import run_files, transfer
from strata.sdk.artifact import Artifact, fetch_artifact
from strata.sdk.transfer import DownloadIncomplete
from strata.wire.paths import path_problem, printable

from tests.fixtures.files import ensure_run, make_version, sql
from tests.fixtures.servers import ServerThread

pytestmark = pytest.mark.timeout(120)

ENTITY, PROJECT = "paths", "hostile"
PARENT = f"entities/{ENTITY}/projects/{PROJECT}"
INVALID = grpc.StatusCode.INVALID_ARGUMENT
WRITTEN = ("run_files", "artifact_versions", "manifest_entries", "audit_events", "blobs", "project_blobs")

BAD_PATHS = {
    "newline": "logs/a\nb.txt",
    "carriage-return": "a\rb",
    "ansi-escape": "\x1b[31mred\x1b[0m.txt",
    "c1-csi": "a\x9b2Jb",
    "delete": "a\x7fb",
    "nul": "a\x00b",
    "bidi-override": "invoice\u202etxt.exe",
    "bidi-embedding": "a\u202ab",
    "bidi-isolate": "a\u2066b\u2069",
    "direction-mark": "a\u200fb",
    "zero-width-space": "a\u200bb",
    "byte-order-mark": "\ufeffa.txt",
    "line-separator": "a\u2028b",
    "tag-character": "flag\U000e0041",
    "over-1024-bytes": "x" * 1025,
    "over-1024-bytes-multibyte": "é" * 513,  # 513 characters, 1,026 bytes
    "absolute": "/etc/passwd",
    "drive": "C:evil.txt",
    "dot-dot": "../outside",
    "inner-dot-dot": "a/../../b",
    "dot": "./a",
    "empty-segment": "a//b",
    "trailing-slash": "a/",
    "backslash": "a\\b",
}
ALL_BAD = [*[(p, Reason.UNSAFE_PATH) for p in BAD_PATHS.values()], ("", Reason.FIELD_REQUIRED)]
IDS = [*BAD_PATHS, "empty"]


@pytest.fixture(scope="module")
def digest(server: ServerThread) -> blob_pb2.BlobDigest:
    """A blob the project holds, so only the path can be wrong."""
    data = b"content of a run file"
    d = blob_pb2.BlobDigest(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    ensure_run(server, ENTITY, PROJECT, "refused")
    with server.client() as c:
        c.ingest.BatchUploadBlobs(
            pb.BatchUploadBlobsRequest(parent=PARENT, blobs=[pb.BlobContent(digest=d, data=data)])
        )
    return d


def _counts(server: ServerThread) -> dict[str, int]:
    return {t: sql(server, f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in WRITTEN}


def _refused(server: ServerThread, call, reason: str, field: str) -> None:  # type: ignore[no-untyped-def]
    before = _counts(server)
    with pytest.raises(StrataError) as e:
        call()
    assert (e.value.code, e.value.reason, e.value.field) == (INVALID, reason, field), str(e.value)
    assert _counts(server) == before, "a refused call wrote rows"


def test_the_rule_accepts_ordinary_names_up_to_1024_bytes() -> None:
    for ok in [
        "model.pt",
        "checkpoints/e1/weights.safetensors",
        "日本語/ファイル.txt",
        "a" * 1024,
        "é" * 512,
    ]:
        assert path_problem(ok) is None, ok
    assert path_problem("a\ud800b") is not None  # a lone surrogate (protobuf cannot even carry it)


@pytest.mark.parametrize(("path", "reason"), ALL_BAD, ids=IDS)
def test_add_run_files_refuses(
    server: ServerThread, digest: blob_pb2.BlobDigest, path: str, reason: str
) -> None:
    run = f"{PARENT}/runs/refused"
    files = [upload_pb2.RunFile(path="ok.txt", blob=digest), upload_pb2.RunFile(path=path, blob=digest)]
    with server.client() as c:
        _refused(
            server,
            lambda: c.ingest.AddRunFiles(pb.AddRunFilesRequest(run=run, files=files)),
            reason,
            "files[1].path",
        )


@pytest.mark.parametrize(("path", "reason"), ALL_BAD, ids=IDS)
def test_artifact_manifests_refuse(
    server: ServerThread, digest: blob_pb2.BlobDigest, path: str, reason: str
) -> None:
    entries = [
        artifact_pb2.ManifestEntry(path="ok.txt", blob=digest),
        artifact_pb2.ManifestEntry(path=path, blob=digest),
    ]
    request = rpb.CreateArtifactVersionRequest(parent=PARENT, artifact="ds", type="dataset", entries=entries)
    with server.client() as c:
        _refused(server, lambda: c.registry.CreateArtifactVersion(request), reason, "entries[1].path")


@pytest.mark.parametrize(("path", "reason"), ALL_BAD, ids=IDS)
def test_the_sdk_refuses_before_sending(server: ServerThread, tmp_path: Path, path: str, reason: str) -> None:
    local = tmp_path / "f.bin"
    local.write_bytes(os.urandom(64))  # content the server has never seen: an upload would write a blob
    with server.client() as c:
        _refused(
            server,
            lambda: run_files.upload_run_files(c, f"{PARENT}/runs/refused", [("ok", local), (path, local)]),
            reason,
            "files[1]",
        )
    if path:  # an empty name means "the local file's name" to add_file
        with pytest.raises(StrataError) as e:
            Artifact("ds", "dataset").add_file(local, path)
        assert (e.value.code, e.value.reason) == (INVALID, reason)


def test_printable_escapes_what_a_terminal_would_obey() -> None:
    shown = printable("evil\x1b[2J\nname\u202eexe.txt\\x")
    assert shown == "evil\\x1b[2J\\nname\\u202eexe.txt\\\\x"
    assert shown.isprintable()


# --- names an older server stored ---

LONG_VALID = "L" * 1024  # within the rule, but longer than any file system's name limit
TOO_LONG = "T" * 1500
HOSTILE = "evil\x1b[2J\nrm -rf \u202eexe.txt"


def _stored_run(server: ServerThread, tmp_path: Path) -> tuple[str, dict[str, bytes]]:
    """A run with two good files, one long-but-valid name, and two names only an older server would
    have accepted (written with SQL), all pointing at blobs the project holds."""
    run = ensure_run(server, ENTITY, PROJECT, f"old-{os.urandom(3).hex()}")
    good = {"good/a.txt": b"first good file", "z-last.txt": b"last good file"}
    for name, data in good.items():
        (tmp_path / name.replace("/", "_")).write_bytes(data)
    with server.client() as c:
        local = [(name, tmp_path / name.replace("/", "_")) for name in good]
        run_files.upload_run_files(c, run, [*local, (LONG_VALID, local[0][1])], progress=False)
    sha = hashlib.sha256(good["good/a.txt"]).hexdigest()
    for path in (TOO_LONG, HOSTILE):
        sql(
            server,
            """INSERT INTO run_files (run_id, path, sha256, size)
               SELECT r.id, $2, $3, $4 FROM runs r JOIN projects p ON p.id = r.project_id
               WHERE p.name = $5 AND r.run_id = $1""",
            run.rsplit("/", 1)[1],
            path,
            sha,
            len(good["good/a.txt"]),
            PROJECT,
        )
    return run, good


def test_files_ls_shows_stored_names_escaped(
    server: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run, _ = _stored_run(server, tmp_path)
    capsys.readouterr()
    assert cli(["--addr", server.addr, "files", "ls", run]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    lines = out.splitlines()
    assert len(lines) == 5  # the newline inside a name did not split it
    assert lines[0].endswith(LONG_VALID) and lines[1].endswith(TOO_LONG)
    assert lines[2].endswith("evil\\x1b[2J\\nrm -rf \\u202eexe.txt")
    assert [line.split()[-1] for line in lines[3:]] == ["good/a.txt", "z-last.txt"]


def test_files_get_fetches_the_rest_and_names_the_bad_ones(
    server: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRATA_CACHE_DIR", str(tmp_path / "cache"))
    run, good = _stored_run(server, tmp_path)
    dest = tmp_path / "out"
    capsys.readouterr()
    assert cli(["--addr", server.addr, "files", "get", run, "--dest", str(dest), "-q"]) == 1
    for name, data in good.items():
        assert (dest / name).read_bytes() == data
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\u202e" not in err
    failed = [line for line in err.splitlines() if line.lstrip().startswith("failed:")]
    assert len(failed) == 3, err
    assert any(LONG_VALID in line for line in failed)  # the file system refused the name
    assert any(TOO_LONG in line and Reason.UNSAFE_PATH in line for line in failed)
    assert any(
        "evil\\x1b[2J\\nrm -rf \\u202eexe.txt" in line and Reason.UNSAFE_PATH in line for line in failed
    )
    assert sorted(p.name for p in dest.rglob("*") if p.is_file()) == ["a.txt", "z-last.txt"]


def _uploaded(server: ServerThread, local: Path, data: bytes) -> blob_pb2.BlobDigest:
    """Write `data` to `local` and upload it to the project; returns its digest."""
    local.write_bytes(data)
    with server.client() as c:
        return transfer.upload_files(c, PARENT, [(local.name, local)], progress=False)[local.name]


def test_artifact_files_and_download_do_the_same(
    server: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small files take the batched read; a name the file system refuses falls back to the next path
    of the same content, and a hostile name is skipped."""
    monkeypatch.setenv("STRATA_CACHE_DIR", str(tmp_path / "cache"))
    data = b"artifact file"
    d = _uploaded(server, tmp_path / "a.bin", data)
    name = f"old-{os.urandom(3).hex()}"
    paths = [LONG_VALID, HOSTILE, "ok/a.bin", "ok/same.bin"]
    make_version(server, ENTITY, PROJECT, name, [(p, d.sha256, d.size) for p in paths])
    ref = f"{ENTITY}/{PROJECT}/{name}:v0"
    capsys.readouterr()
    assert cli(["--addr", server.addr, "artifact", "files", ref]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and len(out.splitlines()) == 4
    assert "evil\\x1b[2J\\nrm -rf \\u202eexe.txt" in out
    root = tmp_path / "art"
    assert cli(["--addr", server.addr, "artifact", "download", ref, "--root", str(root)]) == 1
    assert (root / "ok" / "a.bin").read_bytes() == data
    assert (root / "ok" / "same.bin").read_bytes() == data
    err = capsys.readouterr().err
    assert "\x1b" not in err and "evil\\x1b[2J\\nrm -rf \\u202eexe.txt" in err
    assert LONG_VALID[:200] + "..." in err  # named (cut to 200 characters in the message)


def test_a_stored_reference_outside_the_rule_is_not_fetched(
    server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reference entry an older server stored under "../" is reported, never fetched out of root."""
    monkeypatch.setenv("STRATA_CACHE_DIR", str(tmp_path / "cache"))
    data = b"blob next to the reference"
    d = _uploaded(server, tmp_path / "b.bin", data)
    name = f"ref-{os.urandom(3).hex()}"
    version = make_version(server, ENTITY, PROJECT, name, [("ok.bin", d.sha256, d.size)])
    sql(
        server,
        """INSERT INTO manifest_entries (version_id, path, ref_uri, ref_etag, ref_size, ref_checksum)
           SELECT v.id, '../outside.txt', 'http://127.0.0.1:9/x', '"e"', 1, true
           FROM artifact_versions v JOIN artifacts a ON a.id = v.artifact_id WHERE a.name = $1""",
        name,
    )
    root = tmp_path / "root" / "art"
    with server.client() as c:
        art = fetch_artifact(SimpleNamespace(client=c), f"{ENTITY}/{PROJECT}/{name}:v0")
        with pytest.raises(DownloadIncomplete) as e:
            art.download(root, progress=False)
    assert version.endswith("/v0")
    assert [(p, err.reason) for p, err in e.value.failures] == [("../outside.txt", Reason.UNSAFE_PATH)]
    assert (root / "ok.bin").read_bytes() == data
    assert not (tmp_path / "root" / "outside.txt").exists()
