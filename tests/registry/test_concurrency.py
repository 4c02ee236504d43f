"""Many writers logging the same artifact at once: contiguous, gap-free numbers and intact manifests."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from strata.registry.v1 import registry_service_pb2 as pb

from tests.registry.helpers import entries, put_blob

E, P = "dave", "concurrency"
PARENT = f"entities/{E}/projects/{P}"


def _log_concurrently(server, artifact: str, contents: list[dict[str, bytes]]):  # type: ignore[no-untyped-def]
    """Each worker uploads, creates its draft, waits for all others, then commits at the same moment."""
    barrier = threading.Barrier(len(contents))

    def worker(files: dict[str, bytes]) -> pb.CommitArtifactVersionResponse:
        digests = {path: put_blob(server, E, P, data) for path, data in files.items()}
        with server.client() as c:
            draft = c.registry.CreateArtifactVersion(
                pb.CreateArtifactVersionRequest(
                    parent=PARENT, artifact=artifact, type="dataset", entries=entries(digests)
                )
            ).version
            barrier.wait(timeout=60)
            return c.registry.CommitArtifactVersion(pb.CommitArtifactVersionRequest(draft=draft.name))

    with ThreadPoolExecutor(len(contents)) as pool:
        return list(pool.map(worker, contents))


def test_sixteen_concurrent_logs_get_v0_to_v15_with_intact_manifests(server) -> None:  # type: ignore[no-untyped-def]
    contents = [
        {f"part-{j}.bin": f"writer {i} part {j}".encode() for j in range(20)} | {"id.txt": str(i).encode()}
        for i in range(16)
    ]
    results = _log_concurrently(server, "shared", contents)
    assert sorted(r.version.version for r in results) == list(range(16))
    assert not any(r.deduplicated for r in results)
    with server.client() as c:
        for r in results:
            listed = c.registry.ListManifestEntries(
                pb.ListManifestEntriesRequest(version=r.version.name)
            ).entries
            writer = _id_of(server, listed)
            expected = {path: put_blob(server, E, P, data) for path, data in contents[writer].items()}
            assert {e.path: (e.blob.sha256, e.blob.size) for e in listed} == expected
        latest = c.registry.ResolveArtifactVersion(
            pb.ResolveArtifactVersionRequest(ref=f"{E}/{P}/shared")
        ).version
        assert latest.version == 15
        history = c.registry.ListAliasHistory(
            pb.ListAliasHistoryRequest(artifact=f"{PARENT}/artifacts/shared", alias="latest", page_size=100)
        ).events
        assert [e.to_version.rsplit("/v", 1)[1] for e in history] == [str(n) for n in range(15, -1, -1)]


def _id_of(server, listed) -> int:  # type: ignore[no-untyped-def]
    sha = next(e for e in listed if e.path == "id.txt").blob.sha256
    for i in range(16):
        if put_blob(server, E, P, str(i).encode())[0] == sha:
            return i
    raise AssertionError("id.txt matches no writer")


def test_identical_content_logged_concurrently_is_one_version(server) -> None:  # type: ignore[no-untyped-def]
    same = {"weights.bin": b"identical", "config.json": b"{}"}
    results = _log_concurrently(server, "twins", [same] * 6)
    assert {r.version.name for r in results} == {f"{PARENT}/artifacts/twins/versions/v0"}
    assert sum(not r.deduplicated for r in results) == 1
