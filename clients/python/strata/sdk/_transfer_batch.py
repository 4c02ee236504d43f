"""Small blobs of a version downloaded in batches: one BatchReadBlobs call (and one access check on
the server) per up to 1,000 files or 4 MiB, instead of one ReadBlob stream per file.

Each blob is checked against the size and sha256 the manifest gave, written to a temp file next to the
destination and renamed onto it, so a destination never holds wrong bytes. A blob that is missing
from the answer or does not verify is fetched again on its own through the streamed, resumable path;
a server without BatchReadBlobs (UNIMPLEMENTED) makes every file take that path.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc

from strata.client import Client
from strata.errors import StrataError
from strata.registry.v1 import registry_service_pb2 as registry_pb

from ._transfer_common import packed
from ._transfer_download import PARTIAL_SUFFIX

MAX_BLOB = 1 << 20  # the server's limits (services/registry/domain_blob.py)
MAX_BYTES = 4 << 20
MAX_DIGESTS = 1000

Entry = tuple[str, str, int]  # (path, sha256, size)


@dataclass
class BatchReader:
    """Reads small blobs of one version (or draft) with BatchReadBlobs."""

    client: Client
    version: str
    supported: bool = True  # False after an UNIMPLEMENTED answer: every file takes the streamed path

    def read(self, sha256s: list[str]) -> dict[str, bytes]:
        """{sha256: bytes} as the server sent them (unverified); empty when the server lacks the RPC."""
        if not self.supported:
            return {}
        request = registry_pb.BatchReadBlobsRequest(version=self.version, sha256s=sha256s)
        try:
            response = self.client.registry.BatchReadBlobs(request, timeout=120)
        except StrataError as e:
            if e.code != grpc.StatusCode.UNIMPLEMENTED:
                raise
            self.supported = False
            return {}
        return {b.digest.sha256: b.data for b in response.blobs}


def batchable(size: int) -> bool:
    return 0 < size <= MAX_BLOB


def batches(groups: list[list[Entry]]) -> Iterator[list[list[Entry]]]:
    """Groups (entries sharing one blob) packed into batches within the server's limits."""
    return packed(groups, lambda group: group[0][2], MAX_DIGESTS, MAX_BYTES)


def verified(data: bytes | None, sha256: str, size: int) -> bool:
    return data is not None and len(data) == size and hashlib.sha256(data).hexdigest() == sha256


def place(data: bytes, sha256: str, dest: Path) -> None:
    """Write verified bytes onto dest atomically (a temp file of this thread, then a rename)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{sha256[:16]}.{os.getpid()}-{threading.get_ident()}{PARTIAL_SUFFIX}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
