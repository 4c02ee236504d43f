"""Bulk bytes without needless copies: C calls on memoryviews, part payloads made of pieces, and the
allocator settings that keep multi-MiB buffers cheap and memory bounded.

Why this exists (measured on the 2-core machine, 1 GiB upload to SeaweedFS): half of the server's CPU
went to page faults. Every received 4 MiB message, its copy into a `bytes` payload and the 16 MiB join
of a part were each a fresh mmap (a fixed 1 MiB mmap threshold), so every byte was copied into
never-touched pages: a fault and a zeroed page per 4 KiB, 4.6 CPU-s per GiB in total. Now

* the payload of a received chunk stays a memoryview of the message (no copy), checked with CRC32C
  and hashed through C calls on that memory (`pinned`, `crc32c`);
* a part is the list of its chunks (`Pieces`): the blob store writes or sends them one after the other
  (S3: one HTTP body, Content-Length set), so it is never joined;
* `tune_malloc` lets buffers up to 16 MiB come from the heap, where freed messages are reused by the
  next ones instead of being unmapped and faulted in again, and trims the heap beyond 16 MiB of free
  space, with at most 2 arenas, so resident memory stays bounded (the benchmark checks it). It runs
  once, when the blob store is made (blobstore.make_blob_store), before worker threads pick arenas.
Together: ~1.9 CPU-s per GiB on the server.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
from collections.abc import Iterator, Sequence
from pathlib import Path

import google_crc32c

Buffer = bytes | bytearray | memoryview
Pieces = Sequence[Buffer]  # a part payload: its pieces, in order

MMAP_THRESHOLD = 16 << 20
TRIM_THRESHOLD = 16 << 20
ARENA_MAX = 2


def pieces_of(data: Buffer | Pieces) -> Sequence[Buffer]:
    return (data,) if isinstance(data, (bytes, bytearray, memoryview)) else data


def size_of(data: Buffer | Pieces) -> int:
    return sum(memoryview(p).nbytes for p in pieces_of(data))


def joined(data: Buffer | Pieces) -> bytes:
    pieces = pieces_of(data)
    return bytes(pieces[0]) if len(pieces) == 1 else b"".join(pieces)


# --- C calls on any buffer, without copying it ---


class _PyBuffer(ctypes.Structure):
    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.c_void_p),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.c_void_p),
        ("strides", ctypes.c_void_p),
        ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    ]


_get_buffer = ctypes.pythonapi.PyObject_GetBuffer
_get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
_get_buffer.restype = ctypes.c_int
_release_buffer = ctypes.pythonapi.PyBuffer_Release
_release_buffer.argtypes = [ctypes.POINTER(_PyBuffer)]
_release_buffer.restype = None


@contextlib.contextmanager
def pinned(data: Buffer) -> Iterator[tuple[int, int]]:
    """(address, length) of a contiguous buffer, held (not copied) for the duration of the block."""
    view = _PyBuffer()
    if _get_buffer(data, ctypes.byref(view), 0) != 0:  # PyBUF_SIMPLE: contiguous bytes
        raise BufferError("not a contiguous buffer")
    try:
        yield view.buf or 0, view.len
    finally:
        _release_buffer(ctypes.byref(view))


@functools.lru_cache(maxsize=1)
def _libcrc32c() -> ctypes.CDLL | None:
    """The C library behind google_crc32c (bundled in its wheel), called directly on memoryviews:
    google_crc32c.value() only takes `bytes`, which would mean a copy of every chunk."""
    package = Path(google_crc32c.__file__).parent
    candidates = sorted((package.parent / "google_crc32c.libs").glob("libcrc32c*.so*"))
    system = ctypes.util.find_library("crc32c")
    for name in [*map(str, candidates), *([system] if system else [])]:
        try:
            lib = ctypes.CDLL(name)
            fn = lib.crc32c_extend
        except (OSError, AttributeError):
            continue
        fn.argtypes = [ctypes.c_uint32, ctypes.c_void_p, ctypes.c_size_t]
        fn.restype = ctypes.c_uint32
        sample = bytes(range(256)) * 33
        if fn(0, ctypes.c_char_p(sample), len(sample)) == google_crc32c.value(sample):
            return lib
    return None


def crc32c(data: Buffer) -> int:
    """CRC32C of a buffer; memoryviews are not copied when the C library can be reached."""
    if isinstance(data, bytes):
        return int(google_crc32c.value(data))
    lib = _libcrc32c()
    if lib is None:
        return int(google_crc32c.value(bytes(data)))
    with pinned(data) as (address, length):
        return int(lib.crc32c_extend(0, address, length))


# --- the allocator ---


@functools.lru_cache(maxsize=1)
def tune_malloc() -> bool:
    """glibc settings for a process that moves multi-MiB buffers (see the module docstring); False
    (and nothing changed) off glibc. Same as MALLOC_MMAP_THRESHOLD_=16777216
    MALLOC_TRIM_THRESHOLD_=16777216 MALLOC_ARENA_MAX=2 in the environment."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = libc.mallopt if libc is not None else None
    except (OSError, AttributeError):
        return False
    if mallopt is None:
        return False
    m_trim_threshold, m_mmap_threshold, m_arena_max = -1, -3, -8
    ok = bool(mallopt(m_arena_max, ARENA_MAX))
    ok = bool(mallopt(m_mmap_threshold, MMAP_THRESHOLD)) and ok
    return bool(mallopt(m_trim_threshold, TRIM_THRESHOLD)) and ok
