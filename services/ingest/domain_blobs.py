"""Content addressing and access (no gRPC, no SQL): which blobs a project must upload, small-blob
batches, and proof of possession.

Dedupe vs. access. Bytes are stored once per sha256 across every project. A project may reference a
blob (in a manifest or as a run file) only once it uploaded it or proved it holds it
(project_blobs), so a digest seen in a log or a screenshot grants nothing. For a blob stored only for
other projects, FindMissingBlobs lists it as missing and, when it is at least CHALLENGE_MIN_SIZE,
adds a challenge: a server-chosen nonce and RANGES windows of the blob derived from it. The client
answers sha256(nonce || those bytes); the server reads just those windows back (a few hundred KiB,
not the blob) and, if they match, grants the project the blob without a transfer. Smaller blobs are
simply uploaded again (a round trip costs more than the bytes) and deduplicated at commit, so nothing
new is stored either way. The trade-off: a proof shows possession of the sampled windows, not of every
byte; with 8 windows of 64 KiB placed by a fresh nonce, someone holding a fraction f of a file
passes with probability about f^8.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import asyncpg

from ..common.blobstore.streaming import transfer_stats
from ..common.context import Principal
from ..common.db import DEFAULT_TIMEOUT
from ..common.errors import InvalidArgument, Reason
from ..common.names import ProjectName
from ..common.projects import ensure_project, get_project
from . import store_blobs as store
from .domain_upload import Digest, check_digest

MAX_DIGESTS = 10_000
BATCH_MAX_BYTES = 4 * 1024 * 1024
CHALLENGE_MIN_SIZE = 1024 * 1024
MAX_CHALLENGES = 1000
CHALLENGE_TTL = 600.0
RANGES = 8
RANGE_LENGTH = 64 * 1024
PUT_CONCURRENCY = 16


@dataclass(frozen=True)
class Challenge:
    digest: Digest
    nonce: bytes
    ranges: list[tuple[int, int]]
    expire_time: datetime


@dataclass(frozen=True)
class Proof:
    digest: Digest
    nonce: bytes
    proof_sha256: str


def challenge_ranges(nonce: bytes, size: int) -> list[tuple[int, int]]:
    """The windows a proof covers, derived from the nonce (the whole blob when it is small)."""
    if size <= RANGES * RANGE_LENGTH:
        return [(0, size)]
    span = size - RANGE_LENGTH + 1
    offsets = [
        int.from_bytes(hashlib.sha256(nonce + i.to_bytes(4, "big")).digest()[:8], "big") % span
        for i in range(RANGES)
    ]
    return [(o, RANGE_LENGTH) for o in sorted(offsets)]


def check_digests(digests: Sequence[Digest], field: str) -> list[Digest]:
    if len(digests) > MAX_DIGESTS:
        raise InvalidArgument(field, Reason.OUT_OF_RANGE, f"at most {MAX_DIGESTS} digests per call")
    return [check_digest(d.sha256, d.size, f"{field}[{i}]") for i, d in enumerate(digests)]


class BlobAccess:
    def __init__(self, deps, timeout: float = DEFAULT_TIMEOUT) -> None:  # type: ignore[no-untyped-def]
        self.deps = deps
        self.timeout = timeout  # the caller's remaining deadline (db.timeout_from)
        self.pool: asyncpg.Pool = deps.pool
        self.blobs = deps.blobs

    def _create_entity(self) -> bool:
        return self.deps.authorizer.mode == "open-local"

    # --- FindMissingBlobs ---

    async def find_missing(
        self, principal: Principal, parent: ProjectName, digests: Sequence[Digest]
    ) -> tuple[list[Digest], list[Challenge]]:
        if not digests:
            raise InvalidArgument("digests", Reason.FIELD_REQUIRED, "at least one digest is required")
        wanted = list(dict.fromkeys(check_digests(digests, "digests")))
        async with self.pool.acquire(timeout=self.timeout) as conn, conn.transaction():
            project = await ensure_project(conn, parent, create_entity=self._create_entity())
            rows = await store.lookup(conn, project.id, [d.sha256 for d in wanted])
            known = {r["sha256"]: r for r in rows}
            present = {
                d
                for d in wanted
                if d.sha256 in known and known[d.sha256]["mine"] and known[d.sha256]["size"] == d.size
            }
            await store.touch(conn, [d.sha256 for d in present])
            foreign = [
                d
                for d in wanted
                if d not in present
                and d.sha256 in known
                and known[d.sha256]["size"] == d.size
                and d.size >= CHALLENGE_MIN_SIZE
            ][:MAX_CHALLENGES]
            challenges = [self._challenge(d) for d in foreign]
            await store.insert_challenges(
                conn, project.id, [(c.digest.sha256, c.nonce) for c in challenges], CHALLENGE_TTL
            )
        return [d for d in wanted if d not in present], challenges

    @staticmethod
    def _challenge(d: Digest) -> Challenge:
        nonce = os.urandom(16)
        expire = datetime.now(timezone.utc) + timedelta(seconds=CHALLENGE_TTL)
        return Challenge(d, nonce, challenge_ranges(nonce, d.size), expire)

    # --- ProveBlobPossession ---

    async def prove(
        self, principal: Principal, parent: ProjectName, proofs: Sequence[Proof]
    ) -> tuple[list[Digest], list[Digest]]:
        if not proofs:
            raise InvalidArgument("proofs", Reason.FIELD_REQUIRED, "at least one proof is required")
        if len(proofs) > MAX_DIGESTS:
            raise InvalidArgument("proofs", Reason.OUT_OF_RANGE, f"at most {MAX_DIGESTS} proofs per call")
        for i, p in enumerate(proofs):
            check_digest(p.digest.sha256, p.digest.size, f"proofs[{i}].digest")
        async with self.pool.acquire(timeout=self.timeout) as conn:
            project = await get_project(conn, parent)
            taken = await store.take_challenges(
                conn, project.id, [(p.digest.sha256, p.nonce) for p in proofs]
            )
            rows = await store.lookup(conn, project.id, [p.digest.sha256 for p in proofs])
        valid = {(r["sha256"], bytes(r["nonce"])) for r in taken}
        keys = {r["sha256"]: (r["storage_key"], r["size"]) for r in rows}
        sem = asyncio.Semaphore(PUT_CONCURRENCY)
        verdicts = await asyncio.gather(*(self._verify(p, valid, keys, sem) for p in proofs))
        accepted = [p.digest for p, ok in zip(proofs, verdicts, strict=True) if ok]
        if accepted:
            async with self.pool.acquire(timeout=self.timeout) as conn, conn.transaction():
                await store.touch(conn, [d.sha256 for d in accepted])
                await store.grant(conn, project.id, [d.sha256 for d in accepted])
        return accepted, [p.digest for p, ok in zip(proofs, verdicts, strict=True) if not ok]

    async def _verify(
        self,
        proof: Proof,
        valid: set[tuple[str, bytes]],
        keys: dict[str, tuple[str, int]],
        sem: asyncio.Semaphore,
    ) -> bool:
        sha, size = proof.digest.sha256, proof.digest.size
        if (sha, proof.nonce) not in valid or keys.get(sha, ("", -1))[1] != size:
            return False
        h = hashlib.sha256(proof.nonce)
        async with sem:
            for offset, length in challenge_ranges(proof.nonce, size):
                async for chunk in self.blobs.read(keys[sha][0], offset, length):
                    h.update(chunk)
        return hmac.compare_digest(h.hexdigest(), proof.proof_sha256)

    # --- BatchUploadBlobs ---

    async def batch_upload(
        self,
        principal: Principal,
        parent: ProjectName,
        blobs: Sequence[tuple[Digest, bytes]],
        request_size: int,
    ) -> list[Digest]:
        if request_size > BATCH_MAX_BYTES:
            raise InvalidArgument(
                "blobs", Reason.TOO_LARGE, f"a batch may carry at most {BATCH_MAX_BYTES} bytes"
            )
        transfer_stats(self.deps.extras).upload_bytes_received += sum(len(data) for _, data in blobs)
        await asyncio.to_thread(_verify_contents, blobs)
        unique = {d.sha256: (d, data) for d, data in blobs}
        async with self.pool.acquire(timeout=self.timeout) as conn:
            project = await ensure_project(conn, parent, create_entity=self._create_entity())
            existing = {r["sha256"] for r in await store.lookup(conn, project.id, list(unique))}
        fresh = [unique[sha] for sha in unique if sha not in existing]
        for _ in range(2):  # a second round only if GC removed an "existing" blob meanwhile
            vanished = await self._store_batch(project.id, fresh, sorted(existing))
            if not vanished:
                break
            fresh, existing = [unique[sha] for sha in vanished], set()
        return [d for d, _ in blobs]

    async def _store_batch(
        self, project_id: int, fresh: list[tuple[Digest, bytes]], existing: list[str]
    ) -> list[str]:
        """Put the new blobs, then make everything visible in one transaction; returns vanished shas."""
        keys = {d.sha256: f"blobs/{d.sha256[:2]}/{d.sha256}.{uuid.uuid4().hex[:12]}" for d, _ in fresh}
        sem = asyncio.Semaphore(PUT_CONCURRENCY)

        async def put(d: Digest, data: bytes) -> None:
            async with sem:
                await self.blobs.put(keys[d.sha256], data)

        await asyncio.gather(*(put(d, data) for d, data in fresh))
        redundant: list[str] = []
        try:
            async with self.pool.acquire(timeout=self.timeout) as conn, conn.transaction():
                holders = await store.insert_blobs(
                    conn, [(d.sha256, d.size, keys[d.sha256]) for d, _ in fresh]
                )
                redundant += [key for sha, key in keys.items() if holders.get(sha) != key]
                kept = set(await store.touch(conn, existing))
                await store.grant(conn, project_id, [d.sha256 for d, _ in fresh] + sorted(kept))
        except BaseException:
            redundant = list(keys.values())
            raise
        finally:
            await asyncio.gather(*(self.blobs.delete(k) for k in redundant), return_exceptions=True)
        return [sha for sha in existing if sha not in kept]


def _verify_contents(blobs: Sequence[tuple[Digest, bytes]]) -> None:
    for i, (d, data) in enumerate(blobs):
        check_digest(d.sha256, d.size, f"blobs[{i}].digest")
        if len(data) != d.size or hashlib.sha256(data).hexdigest() != d.sha256:
            raise InvalidArgument(
                f"blobs[{i}].data",
                Reason.DIGEST_MISMATCH,
                f"blob {i} does not match its digest; nothing was stored",
            )
