"""What upload_files does with a list of local files, and in which order.

* Large files (>= SPECULATE_MIN) this machine has not stored on the server before start uploading at
  once, while another thread hashes them: hashing 1 GiB takes ~0.6 s, which would otherwise pass
  before the first byte is sent. When the hash is known the thread asks FindMissingBlobs; if the
  project holds the blob already, the upload stops and its session is aborted. The commit always carries the client's sha256, so the server verifies the whole file as
  before. A large file stored before (an UploadedHint in the spool) is hashed first instead, so an
  unchanged re-upload sends nothing.
* Every other file is hashed in batches (one thread-pool task per ~64 small files, not one per file:
  10,000 tiny tasks spent more time in the pool's locks than in hashing), and FindMissingBlobs is
  asked per 5,000 digests as soon as they are ready, while the next ones hash.
* Missing blobs are then uploaded: small ones batched, large ones through resumable sessions.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path

from strata.client import Client
from strata.errors import StrataError

from . import _transfer_upload as up
from ._transfer_common import MiB, hash_file, hash_files, packed
from ._transfer_progress import Progress, make_progress

SPECULATE_MIN = 64 * MiB
HASH_BATCH_FILES = 64
HASH_BATCH_BYTES = 32 * MiB
SMALL_HASHERS = 2  # hashing small files holds the GIL: more threads only contend (measured: 1-2 best)
_small_hashers = threading.BoundedSemaphore(SMALL_HASHERS)


class _Bar:
    """One progress bar for the whole call, created when the first byte is about to move."""

    def __init__(self, progress: bool | None) -> None:
        self.progress = progress
        self.bar: Progress | None = None
        self.files = 0

    def add(self, files: int, nbytes: int) -> Progress:
        if self.bar is None:
            self.bar = make_progress(0, "upload", self.progress)
        self.files += files
        self.bar.grow(nbytes, f"upload {self.files} file(s)")
        return self.bar

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class Speculative:
    """A large file uploaded while it is being hashed (see the module docstring)."""

    def __init__(
        self, client: Client, parent: str, path: Path, size: int, bar: Progress, hash_pool: ThreadPoolExecutor
    ) -> None:
        self.client, self.parent = client, parent
        self.upload = up.LargeUpload(client, parent, up.LocalBlob(path, "", size), bar)
        self.upload.digest = hash_pool.submit(self._hash_and_check)

    def _hash_and_check(self) -> up.LocalBlob:
        blob = up.LocalBlob(self.upload.blob.path, *hash_file(self.upload.blob.path))
        if blob.size != self.upload.blob.size:
            return blob  # changed since stat: the upload fails as "changed" when it needs the digest
        self.upload.note_digest(blob.sha256)
        try:
            if not up.find_missing(self.client, self.parent, [blob]):
                self.upload.present.set()  # held already: stop sending, abort the session
        except StrataError:
            pass  # no shortcut then: the upload goes on, and the commit deduplicates anyway
        return blob

    def run(self) -> up.LocalBlob:
        self.upload.run()
        self.upload.sha256()
        return self.upload.blob


def upload_paths(
    client: Client, parent: str, paths: Sequence[Path], progress: bool | None, workers: int
) -> list[up.LocalBlob]:
    """LocalBlob (path, sha256, size) of each path, after making sure the project holds every blob."""
    stats = {p: p.stat() for p in dict.fromkeys(paths)}
    speculate = [
        p
        for p, st in stats.items()
        if st.st_size >= SPECULATE_MIN and not up.UploadedHint(client, p, st).exists()
    ]
    up.prune_states()
    bar = _Bar(progress)
    blobs: dict[Path, up.LocalBlob] = {}
    with (
        ThreadPoolExecutor(workers, thread_name_prefix="strata-hash") as hash_pool,
        ThreadPoolExecutor(workers, thread_name_prefix="strata-upload") as send_pool,
    ):
        try:
            sending: list[Future[object]] = []
            if speculate:
                progress_bar = bar.add(len(speculate), sum(stats[p].st_size for p in speculate))
                for path in speculate:
                    spec = Speculative(client, parent, path, stats[path].st_size, progress_bar, hash_pool)
                    sending.append(send_pool.submit(_store, blobs, path, spec))
            speculated = set(speculate)
            rest = [p for p in stats if p not in speculated]
            for hashed, missing in _hash_and_find(client, parent, rest, stats, hash_pool):
                blobs.update((b.path, b) for b in hashed)
                if missing:
                    progress_bar = bar.add(len(missing), sum(b.size for b in missing))
                    sending += [send_pool.submit(job) for job in _jobs(client, parent, missing, progress_bar)]
            for future in sending:
                future.result()
        finally:
            bar.close()
    for path, st in stats.items():
        if st.st_size >= SPECULATE_MIN:
            up.UploadedHint(client, path, st).save()
    return [blobs[p] for p in paths]


def _hash_and_find(
    client: Client,
    parent: str,
    paths: list[Path],
    stats: dict[Path, os.stat_result],
    pool: ThreadPoolExecutor,
) -> Iterator[tuple[list[up.LocalBlob], list[up.LocalBlob]]]:
    """(hashed blobs, blobs the project lacks) per group of up to FIND_BATCH files, in order; the next
    groups keep hashing on the pool while FindMissingBlobs answers."""
    batches = list(_batches(paths, stats))
    results = iter(pool.map(_hash_batch, batches))
    seen: set[str] = set()
    group: list[up.LocalBlob] = []
    for i, batch in enumerate(batches):
        group += [up.LocalBlob(p, sha, n) for p, (sha, n) in zip(batch, next(results), strict=True)]
        if len(group) >= up.FIND_BATCH or i == len(batches) - 1:
            fresh = [b for b in group if b.sha256 not in seen]
            seen.update(b.sha256 for b in fresh)
            yield group, up.find_missing(client, parent, fresh) if fresh else []
            group = []


def _hash_batch(paths: list[Path]) -> list[tuple[str, int]]:
    if len(paths) == 1:
        return hash_files(paths)  # a large file: hashlib releases the GIL, threads run in parallel
    with _small_hashers:
        return hash_files(paths)


def _batches(paths: list[Path], stats: dict[Path, os.stat_result]) -> Iterator[list[Path]]:
    return packed(paths, lambda p: stats[p].st_size, HASH_BATCH_FILES, HASH_BATCH_BYTES)


def _jobs(
    client: Client, parent: str, missing: list[up.LocalBlob], bar: Progress
) -> list[Callable[[], object]]:
    small = [b for b in missing if b.size <= up.SMALL_FILE]
    large = sorted((b for b in missing if b.size > up.SMALL_FILE), key=lambda b: -b.size)
    jobs: list[Callable[[], object]] = [
        partial(up.upload_batch, client, parent, batch, bar) for batch in up.pack_batches(small)
    ]
    jobs += [partial(_upload_large, client, parent, b, bar) for b in large]
    return jobs


def _store(blobs: dict[Path, up.LocalBlob], path: Path, spec: Speculative) -> None:
    blobs[path] = spec.run()


def _upload_large(client: Client, parent: str, blob: up.LocalBlob, bar: Progress) -> object:
    return up.LargeUpload(client, parent, blob, bar).run()
