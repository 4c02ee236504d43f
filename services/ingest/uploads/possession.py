"""Proof of possession: which windows of a blob a challenge asks the client to hash.

For a blob stored only for other projects, FindMissingBlobs adds a challenge: a server-chosen nonce
and RANGES windows of the blob derived from it. The client answers sha256(nonce || those bytes); the
server reads just those windows back (a few hundred KiB, not the blob) and, if they match, grants the
project the blob without a transfer. The trade-off: a proof shows possession of the sampled windows,
not of every byte; with 8 windows of 64 KiB placed by a fresh nonce, someone holding a fraction f of a
file passes with probability about f^8.
"""

from __future__ import annotations

import hashlib

RANGES = 8
RANGE_LENGTH = 64 * 1024


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
