"""The artifact workflows of the product through the SDK against a real server: log, use, download, pin,
promote with aliases, lineage, cross-project use, dedupe, TTL, delete, incremental drafts, references."""

from __future__ import annotations

import http.server
import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import grpc
import pytest
import strata
from strata.errors import Reason, StrataError
from strata.sdk.artifact import Artifact, fetch_artifact, list_artifact_versions

from tests.registry.helpers import cli_env, sql


@pytest.fixture(scope="module", autouse=True)
def env(server):  # type: ignore[no-untyped-def]
    yield from cli_env(server, "ml-research")


@pytest.fixture
def work(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRATA_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def api(server):  # type: ignore[no-untyped-def]
    return SimpleNamespace(client=server.client())


def test_train_log_then_inference_pins_and_downloads(server, work) -> None:  # type: ignore[no-untyped-def]
    (work / "model.pth").write_bytes(b"weights v0")
    run = strata.init(project="text-classifier", job_type="train")
    art = strata.Artifact(
        "bert-classifier",
        type="model",
        description="BERT finetuned on customer support tickets",
        metadata={"epochs": 10, "f1_score": 0.89, "framework": "transformers==4.36.0"},
    )
    art.add_file("model.pth")
    logged = run.log_artifact(art)
    assert logged is art and art.version == "v0" and art.name == "bert-classifier:v0"
    (work / "model.pth").write_bytes(b"weights v1")
    second = strata.Artifact("bert-classifier", type="model", metadata={"f1_score": 0.91})
    second.add_file("model.pth")
    run.log_artifact(second)
    assert second.version == "v1"
    run.finish()

    inference = strata.init(project="text-classifier", job_type="inference")
    latest = inference.use_artifact("bert-classifier:latest", type="model")
    assert latest.version == "v1"
    assert (Path(latest.download()) / "model.pth").read_bytes() == b"weights v1"
    v0 = inference.use_artifact("bert-classifier:v0", type="model")
    assert v0.metadata == {"epochs": 10, "f1_score": 0.89, "framework": "transformers==4.36.0"}
    path = Path(v0.download())
    assert path == Path("artifacts/bert-classifier:v0") and (path / "model.pth").read_bytes() == b"weights v0"
    v0.verify()
    with pytest.raises(StrataError) as e:
        inference.use_artifact("bert-classifier:v0", type="dataset")
    assert e.value.reason == Reason.ARTIFACT_TYPE_MISMATCH
    inference.finish()


def test_promotion_by_alias_append_and_save(server, work) -> None:  # type: ignore[no-untyped-def]
    (work / "m.pth").write_bytes(b"candidate")
    run = strata.init(project="promote", job_type="eval")
    art = strata.Artifact("clf", type="model")
    art.add_file("m.pth")
    run.log_artifact(art, aliases=["staging"])
    staged = run.use_artifact("clf:staging")
    staged.aliases.append("production")
    staged.save()
    prod = run.use_artifact("clf:production")
    assert prod.version == staged.version and set(prod.aliases) == {"latest", "staging", "production"}
    prod.aliases.remove("staging")
    prod.save()
    assert "staging" not in run.use_artifact("clf:production").aliases
    run.finish()


def test_preprocess_lineage_links_raw_to_clean(server, work) -> None:  # type: ignore[no-untyped-def]
    for i in range(3):
        (work / "raw").mkdir(exist_ok=True)
        (work / "raw" / f"{i}.csv").write_text(f"ticket {i}\n")
    run = strata.init(project="text-classifier", job_type="preprocess")
    raw = strata.Artifact("support-tickets", type="dataset", metadata={"samples": 3})
    raw.add_dir("raw/")
    run.log_artifact(raw)
    run.finish()
    pre = strata.init(project="text-classifier", job_type="preprocess")
    used = pre.use_artifact("support-tickets:v0")
    clean = strata.Artifact("support-tickets-clean", type="dataset", metadata={"removed_duplicates": 1})
    with clean.new_file("clean.csv") as f:
        f.write("ticket 0\nticket 1\n")
    pre.log_artifact(clean)
    pre.finish()
    edges = sql(
        server,
        """SELECT r.run_id, a.name, le.kind FROM lineage_edges le JOIN runs r ON r.id = le.run_id
           JOIN artifact_versions v ON v.id = le.version_id JOIN artifacts a ON a.id = v.artifact_id
           WHERE r.run_id = $1 ORDER BY le.kind""",
        pre.id,
    )
    assert [(e["name"], e["kind"]) for e in edges] == [("support-tickets-clean", 1), ("support-tickets", 2)]
    assert used.logged_by().resource_name == run.resource_name


def test_cross_project_use_with_the_full_path(server, work) -> None:  # type: ignore[no-untyped-def]
    (work / "bert.pth").write_bytes(b"pretrained")
    run_a = strata.init(project="pretraining", entity="team-a", job_type="train")
    art = strata.Artifact("bert-base", type="model")
    art.add_file("bert.pth")
    run_a.log_artifact(art)
    run_a.finish()
    run_b = strata.init(project="finetuning", entity="team-b", job_type="train")
    base = run_b.use_artifact("team-a/pretraining/bert-base:latest")
    assert (Path(base.download()) / "bert.pth").read_bytes() == b"pretrained"
    run_b.finish()
    got = fetch_artifact(api(server), "team-a/pretraining/bert-base:v0")
    assert got.qualified_name == "team-a/pretraining/bert-base:v0"
    assert [a.version for a in list_artifact_versions(api(server), "team-a/pretraining/bert-base")] == ["v0"]


def test_identical_content_is_deduplicated_and_said(server, work, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("STRATA_QUIET", "0")
    (work / "same.bin").write_bytes(b"same")
    run = strata.init(project="dedupe")
    first, again = strata.Artifact("d", type="dataset"), strata.Artifact("d", type="dataset")
    first.add_file("same.bin")
    again.add_file("same.bin")
    run.log_artifact(first)
    run.log_artifact(again)
    run.finish()
    assert again.deduplicated and again.version == first.version == "v0"
    assert "no new version" in capsys.readouterr().err


def test_sixteen_concurrent_log_artifact_calls_get_v0_to_v15(server, work) -> None:  # type: ignore[no-untyped-def]
    run = strata.init(project="concurrent")

    def log(i: int) -> str:
        local = work / f"part-{i}.bin"
        local.write_bytes(f"writer {i}".encode())
        art = strata.Artifact("shared", type="dataset", metadata={"writer": i})
        art.add_file(local, "part.bin")
        run.log_artifact(art)
        return art.version

    with ThreadPoolExecutor(16) as pool:
        versions = list(pool.map(log, range(16)))
    run.finish()
    assert sorted(versions, key=lambda v: int(v[1:])) == [f"v{i}" for i in range(16)]
    for art in list_artifact_versions(api(server), "concurrent/shared"):
        root = Path(art.download(work / art.version))
        assert (root / "part.bin").read_bytes() == f"writer {art.metadata['writer']}".encode()


def test_ttl_aliases_and_delete(server, work) -> None:  # type: ignore[no-untyped-def]
    (work / "ckpt.pt").write_bytes(b"epoch 5")
    run = strata.init(project="ttl")
    art = strata.Artifact("temp-model", type="model")
    art.add_file("ckpt.pt")
    art.ttl = timedelta(days=7)
    run.log_artifact(art, aliases=["dev"])
    assert art.ttl == timedelta(days=7) and art.expires_at is not None
    art.ttl = None
    art.save()
    assert art.ttl is None and art.expires_at is None
    art.ttl = Artifact.INHERIT
    art.save()
    assert art.ttl is Artifact.INHERIT
    with pytest.raises(StrataError) as e:
        art.delete()
    assert e.value.reason == Reason.VERSION_HAS_ALIASES
    art.delete(delete_aliases=True)
    assert art.state == "DELETED"
    run.finish()


def test_download_prefix_verify_and_incremental_draft(server, work) -> None:  # type: ignore[no-untyped-def]
    data = work / "data"
    for split in ("train", "val"):
        (data / split).mkdir(parents=True)
        for i in range(5):
            (data / split / f"{i}.txt").write_text(f"{split} {i}")
    run = strata.init(project="incremental")
    art = strata.Artifact("ds", type="dataset")
    art.add_dir(data)
    run.log_artifact(art)
    part = Path(art.download(work / "part", path_prefix="val/"))
    assert sorted(p.relative_to(part).as_posix() for p in part.rglob("*.txt")) == [
        f"val/{i}.txt" for i in range(5)
    ]
    full = Path(art.download(work / "full"))
    art.verify(full)
    (full / "val" / "0.txt").write_text("tampered")
    with pytest.raises(ValueError):
        art.verify(full)
    blobs_before = sql(server, "SELECT count(*) AS n FROM blobs")[0]["n"]
    draft = art.new_draft()
    (work / "fixed.txt").write_text("train 3 fixed")
    draft.add_file(work / "fixed.txt", "train/3.txt", overwrite=True)
    draft.remove("val/4.txt")
    run.log_artifact(draft)
    run.finish()
    assert draft.version == "v1" and draft.file_count == 9
    assert sql(server, "SELECT count(*) AS n FROM blobs")[0]["n"] == blobs_before + 1
    out = Path(draft.download(work / "v1"))
    assert (out / "train" / "3.txt").read_text() == "train 3 fixed" and not (out / "val" / "4.txt").exists()


class _ETagHandler(http.server.BaseHTTPRequestHandler):
    body = b"reference v1"
    etag = '"v1"'

    def _headers(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        if self.etag:
            self.send_header("ETag", self.etag)
        self.end_headers()

    def do_HEAD(self) -> None:
        self._headers()

    def do_GET(self) -> None:
        if self.headers.get("If-Match") and self.headers["If-Match"] != self.etag:
            self.send_response(412)
            self.end_headers()
            return
        self._headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def test_https_reference_downloads_and_fails_clearly_when_changed(server, work) -> None:  # type: ignore[no-untyped-def]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ETagHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/labels.json"
    try:
        run = strata.init(project="refs")
        art = strata.Artifact("web", type="dataset")
        art.add_reference(url)
        run.log_artifact(art)
        entry = next(art.files()).entry
        assert (entry.reference.etag, entry.reference.size, entry.reference.checksum) == ('"v1"', 12, True)
        assert (Path(art.download(work / "a")) / "labels.json").read_bytes() == b"reference v1"
        _ETagHandler.body, _ETagHandler.etag = b"reference v2!", '"v2"'
        with pytest.raises(StrataError) as e:
            art.download(work / "b")
        assert (e.value.code, e.value.reason) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            Reason.REFERENCE_CHANGED,
        )
        _ETagHandler.etag = ""
        plain = strata.Artifact("web-plain", type="dataset")
        plain.add_reference(url)
        run.log_artifact(plain)
        assert not next(plain.files()).entry.reference.checksum
        assert not (Path(plain.download(work / "c")) / "labels.json").exists()  # not downloadable
        run.finish()
    finally:
        httpd.shutdown()
        _ETagHandler.body, _ETagHandler.etag = b"reference v1", '"v1"'


def test_s3_reference_downloads_and_fails_clearly_when_changed(server, work, seaweed, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.fixtures.seaweed import ACCESS_KEY, SECRET_KEY

    s3 = seaweed.client()
    bucket = "refs-bucket"
    if not s3.bucket_exists(bucket):
        s3.make_bucket(bucket)
    s3.put_object(bucket, "datasets/a.csv", io.BytesIO(b"a,b\n1,2\n"), 8)
    s3.put_object(bucket, "datasets/b.csv", io.BytesIO(b"c\n3\n"), 4)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{seaweed.endpoint}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    run = strata.init(project="refs")
    art = strata.Artifact("lake", type="dataset")
    assert sorted(art.add_reference(f"s3://{bucket}/datasets/", name="csv")) == ["csv/a.csv", "csv/b.csv"]
    run.log_artifact(art)
    root = Path(art.download(work / "lake"))
    assert (root / "csv" / "a.csv").read_bytes() == b"a,b\n1,2\n"
    art.verify(root)
    (root / "csv" / "b.csv").write_bytes(b"c\n4\n")  # same size, other content: the ETag (MD5) tells
    with pytest.raises(ValueError, match=r"b\.csv: content differs"):
        art.verify(root)
    s3.put_object(bucket, "datasets/a.csv", io.BytesIO(b"changed!"), 8)
    with pytest.raises(StrataError) as e:
        art.download(work / "lake2")
    assert e.value.reason == Reason.REFERENCE_CHANGED
    run.finish()


def test_api_artifact_and_versions_delegate_here(server, work) -> None:  # type: ignore[no-untyped-def]
    from strata.sdk import api as api_module

    (work / "x").write_bytes(b"x")
    run = strata.init(project="api")
    art = strata.Artifact("via-api", type="dataset")
    art.add_file("x")
    run.log_artifact(art, aliases=["best"])
    run.finish()
    a = api_module.Api(server.addr)
    assert a.artifact("ml-research/api/via-api:best").version == "v0"
    assert [v.version for v in a.artifact_versions("ml-research/api/via-api")] == ["v0"]
    assert json.loads(json.dumps(a.artifact("ml-research/api/via-api:best").metadata)) == {}
