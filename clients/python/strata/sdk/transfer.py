"""File transfers: content-addressed uploads that resume across processes, resumable verified
downloads through a client cache, and progress bars.

    from strata.sdk import transfer
    digests = transfer.upload_files(client, "entities/me/projects/p", [("model.pt", Path("model.pt"))])
    transfer.download_files(client, version_name, [("model.pt", sha256, size)], Path("out"))

The artifact SDK (strata.sdk.artifact) and run files (strata.sdk.run_files) are built on these:

* hash_file(path) -> (sha256_hex, size)
* upload_files(client, parent, files, *, progress=None, max_concurrency=8) -> {logical path: BlobDigest}
  hashes in threads, asks FindMissingBlobs in batches, uploads only what the
  project lacks (small files batched, large ones in resumable sessions), concurrently with a bound.
* download_files(client, version_name, entries, root, *, progress=None, max_concurrency=8) -> root
  entries are (path, sha256, size); each file is resumable, verified, atomic, and goes through the cache;
  files up to 1 MiB are read up to 1,000 per call (BatchReadBlobs).
* download_blob(client, version_name, sha256, size, dest, *, progress=None) -> dest

Logical paths follow the path rule of strata.wire.paths (relative, no "..", no control or invisible
format character, at most 1,024 bytes): an upload with a bad path raises StrataError INVALID_ARGUMENT
with reason UNSAFE_PATH before a byte moves (the server checks the same). A download never stops at
one bad entry: every other file is fetched, then DownloadIncomplete (a StrataError) names the
failures. `progress`: None shows a bar on a terminal unless STRATA_QUIET=1, False never, True always.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc

from strata.client import Client, RetryPolicy
from strata.common.v1 import blob_pb2
from strata.errors import Reason, StrataError

from . import _transfer_batch as _batch
from ._transfer_cache import BlobCache
from ._transfer_common import DownloadIncomplete, Retrier, hash_file, safe_relative_path
from ._transfer_download import Source, fetch, run_file_blob, version_blob
from ._transfer_plan import upload_paths
from ._transfer_progress import Progress, make_progress

__all__ = [
    "BlobCache",
    "DownloadIncomplete",
    "download_blob",
    "download_files",
    "filter_prefix",
    "hash_file",
    "list_dir_files",
    "safe_relative_path",
    "upload_files",
]

Entry = tuple[str, str, int]  # (path, sha256, size)


# --- uploads ---


def upload_files(
    client: Client,
    parent: str,
    files: Sequence[tuple[str, Path]],
    *,
    progress: bool | None = None,
    max_concurrency: int = 8,
) -> dict[str, blob_pb2.BlobDigest]:
    """Upload local files into the project `parent` ("entities/e/projects/p"); returns each logical
    path's digest. Only blobs the project does not hold yet move; interrupted large uploads resume
    (also from another process) where the server's durable offset stands."""
    checked = _check_logical_paths([logical for logical, _ in files])
    blobs = upload_paths(
        client,
        parent,
        [local if isinstance(local, Path) else Path(local) for _, local in files],
        progress,
        max(1, max_concurrency),
    )
    return {logical: blob.digest for logical, blob in zip(checked, blobs, strict=True)}


def _check_logical_paths(paths: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    for i, p in enumerate(paths):
        safe_relative_path(p, f"files[{i}]")
        if p in seen:
            raise StrataError(
                grpc.StatusCode.INVALID_ARGUMENT,
                Reason.DUPLICATE_PATH,
                f"path {p!r} appears twice",
                field=f"files[{i}]",
            )
        seen.add(p)
    return list(paths)


def list_dir_files(root: str | Path, prefix: str = "") -> list[tuple[str, Path]]:
    """(logical path, local path) of every regular file under root, sorted; logical paths are relative
    to root (under `prefix/` when given), with "/" separators. Symlinked directories are not followed."""
    root = Path(root)
    out: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            local = Path(dirpath) / name
            if not local.is_file():
                continue
            rel = local.relative_to(root).as_posix()
            out.append((f"{prefix.strip('/')}/{rel}" if prefix.strip("/") else rel, local))
    return out


# --- downloads ---


def filter_prefix(entries: Sequence[Entry], path_prefix: str | None) -> list[Entry]:
    """The entries whose path starts with path_prefix (a plain string prefix, as W&B's path_prefix:
    "data/train/" selects a folder, "data/train/0001.png" one file); all when it is empty."""
    if not path_prefix:
        return list(entries)
    return [e for e in entries if e[0].startswith(path_prefix)]


def download_files(
    client: Client,
    version_name: str,
    entries: Sequence[Entry],
    root: Path,
    *,
    progress: bool | None = None,
    max_concurrency: int = 8,
) -> Path:
    """Download the given manifest entries of an artifact version (or draft) under root. Files that are
    already there, or in the cache, cost a hash check; the rest are fetched, resumably and verified."""
    source_for = lambda path, sha: version_blob(client, version_name, sha)  # noqa: E731
    reader = _batch.BatchReader(client, version_name)
    return download_entries(entries, Path(root), source_for, client.retry, progress, max_concurrency, reader)


def download_blob(
    client: Client, version_name: str, sha256: str, size: int, dest: Path, *, progress: bool | None = None
) -> Path:
    """Download one blob of a version to `dest` (resumable, verified, atomic, through the cache)."""
    dest = Path(dest)
    cache = BlobCache.default()
    with make_progress(size, dest.name, progress) as bar:
        materialize(
            version_blob(client, version_name, sha256), sha256, size, dest, cache, bar, Retrier(client.retry)
        )
    if cache is not None:
        cache.evict()
        cache.close()
    return dest


def download_run_file_entries(
    client: Client,
    run: str,
    entries: Sequence[Entry],
    root: Path,
    *,
    progress: bool | None = None,
    max_concurrency: int = 8,
) -> Path:
    """Like download_files, for a run's files (read through the run)."""
    source_for = lambda path, sha: run_file_blob(client, run, path)  # noqa: E731
    return download_entries(entries, Path(root), source_for, client.retry, progress, max_concurrency)


def download_entries(
    entries: Sequence[Entry],
    root: Path,
    source_for: Callable[[str, str], Source],
    retry_policy: RetryPolicy,
    progress: bool | None,
    max_concurrency: int,
    batch_reader: _batch.BatchReader | None = None,
) -> Path:
    """Download entries under root, reading each blob from source_for(path, sha256); with a
    batch_reader, blobs up to 1 MiB are read many per call (BatchReadBlobs). One bad entry (a path
    that breaks the path rule, a name the file system refuses, a blob that fails) never stops the
    others: every other file is downloaded, then DownloadIncomplete names the failures."""
    failures: list[tuple[str, BaseException]] = []
    lock = threading.Lock()

    def fail(path: str, error: BaseException) -> None:
        with lock:
            failures.append((path, error))

    groups: dict[str, list[Entry]] = defaultdict(list)
    for i, (path, sha256, size) in enumerate(entries):
        try:
            safe_relative_path(path, f"entries[{i}]")
        except StrataError as e:
            fail(path, e)
            continue
        groups[sha256].append((path, sha256, size))
    cache = BlobCache.default()
    total = sum(size for _, _, size in entries)
    with make_progress(total, f"download {len(entries)} file(s)", progress) as bar:

        def copies(first: Entry, others: list[Entry]) -> None:
            for other_path, sha256, size in others:
                try:
                    _duplicate(root / first[0], root / other_path, sha256, cache)
                    bar.update(size)
                except Exception as e:
                    fail(other_path, e)

        def one(group: list[Entry]) -> None:
            """Fetch the group's blob to its first path the file system accepts, then copy it."""
            for n, (path, sha256, size) in enumerate(group):
                try:
                    materialize(
                        source_for(path, sha256), sha256, size, root / path, cache, bar, Retrier(retry_policy)
                    )
                except OSError as e:  # this name, not the blob: try the group's next path
                    fail(path, e)
                    continue
                except Exception as e:  # the blob itself failed: every path of it did
                    for other in group[n:]:
                        fail(other[0], e)
                    return
                copies(group[n], group[n + 1 :])
                return

        def batch(groups: list[list[Entry]]) -> None:
            assert batch_reader is not None
            todo = [g for g in groups if not _settled(g, root, cache, bar)]
            try:
                got = batch_reader.read([g[0][1] for g in todo]) if todo else {}
            except Exception:
                got = {}  # each blob then goes the streamed, verified path (which reports failures)
            pending = {id(g) for g in todo}
            for group in groups:
                if id(group) not in pending or _place_batched(group, got.get(group[0][1]), root, cache, bar):
                    copies(group[0], group[1:])
                else:
                    one(group)  # missing from the answer, wrong, or not placeable: the streamed path

        small: list[list[Entry]] = []
        large: list[list[Entry]] = []
        for g in groups.values():
            (small if batch_reader is not None and _batch.batchable(g[0][2]) else large).append(g)
        with ThreadPoolExecutor(max(1, max_concurrency), thread_name_prefix="strata-download") as pool:
            futures = [pool.submit(batch, b) for b in _batch.batches(small)]
            futures += [pool.submit(one, g) for g in large]
            for future in futures:
                future.result()
    if cache is not None:
        cache.evict()
        cache.close()
    if failures:
        raise DownloadIncomplete(root, failures)
    return root


def _settled(group: list[Entry], root: Path, cache: BlobCache | None, bar: Progress) -> bool:
    path, sha256, size = group[0]
    try:
        return _settle(sha256, size, root / path, cache, bar)
    except OSError:
        return False  # the streamed path reports it


def _place_batched(
    group: list[Entry], data: bytes | None, root: Path, cache: BlobCache | None, bar: Progress
) -> bool:
    """Write a blob read in a batch to the group's first path; False when it cannot (missing from the
    answer, wrong, or the name refused), and the caller takes the streamed path."""
    path, sha256, size = group[0]
    if not _batch.verified(data, sha256, size):
        return False
    assert data is not None
    try:
        _batch.place(data, sha256, root / path)
    except OSError:
        return False
    bar.update(size)
    if cache is not None:
        cache.adopt(sha256, size, root / path)
    return True


def materialize(
    source: Source,
    sha256: str,
    size: int,
    dest: Path,
    cache: BlobCache | None,
    bar: Progress,
    retrier: Retrier,
) -> Path:
    """Make dest hold the blob: keep it if it already verifies, else place it from the cache, else
    fetch it (and adopt the result into the cache)."""
    if not _settle(sha256, size, dest, cache, bar):
        fetch(source, sha256, size, dest, bar, retrier)
        if cache is not None:
            cache.adopt(sha256, size, dest)
    return dest


def _settle(sha256: str, size: int, dest: Path, cache: BlobCache | None, bar: Progress) -> bool:
    """True when dest holds the blob without a transfer: it is there already, empty, or in the cache."""
    if _verifies(dest, sha256, size):
        bar.update(size)
        return True
    if size == 0:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(b"")
        return True
    if cache is not None and cache.lookup(sha256, size) is not None and cache.place(sha256, dest):
        bar.update(size)
        return True
    return False


def _verifies(path: Path, sha256: str, size: int) -> bool:
    try:
        return path.stat().st_size == size and hash_file(path)[0] == sha256
    except OSError:
        return False


def _duplicate(src: Path, dest: Path, sha256: str, cache: BlobCache | None) -> None:
    """A second path with the same content: from the cache when possible, else a copy of the first."""
    if _verifies(dest, sha256, src.stat().st_size):
        return
    if cache is not None and cache.place(sha256, dest):
        return
    import shutil

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{sha256[:16]}.strata-copy")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)
