"""Blob storage: an async interface with a local-folder backend and an S3 backend (minio client).

Keys are opaque strings chosen by the services ("blobs/ab/cd/<sha256>", "uploads/<id>"). Large objects
are written as multipart uploads whose parts carry their byte offset, so an upload can continue after
a server restart, and read back as ranged streams; neither side holds a whole object in memory.
"""

from __future__ import annotations

from dataclasses import asdict

from ..config import Settings
from .base import BlobNotFound, BlobStore, BlobStoreUnavailable
from .buffers import tune_malloc
from .local import LocalBlobStore
from .s3 import S3BlobStore


def make_blob_store(settings: Settings) -> BlobStore:
    tune_malloc()  # early, before worker threads pick their malloc arenas
    if settings.s3 is not None:
        return S3BlobStore(**asdict(settings.s3))  # S3Settings' fields are the constructor's arguments
    return LocalBlobStore(settings.blob_dir)


__all__ = [
    "BlobNotFound",
    "BlobStore",
    "BlobStoreUnavailable",
    "LocalBlobStore",
    "S3BlobStore",
    "make_blob_store",
]
