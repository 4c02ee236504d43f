"""A sha256 whose state can be saved and restored, so an upload's hash survives a server restart.

hashlib cannot export its state, so after a restart the server would have to read back everything
stored so far (impossible for S3 multipart parts before completion, and slow after). OpenSSL's
low-level SHA256_Init/Update/Final API works on a plain SHA256_CTX struct (8+2 state words, a
64-byte block buffer and two counters: 112 bytes, unchanged since OpenSSL 0.9): its bytes ARE the
state. We call it through ctypes (the call releases the GIL, and runs at the same speed as hashlib,
which uses the same library) and store those bytes in upload_sessions.hash_state with every durable
part.

When libcrypto or its SHA256_* symbols are missing, `available()` is False and the upload code falls
back to re-hashing the stored bytes at commit (documented in docs/guides/files.md#the-sha256-across-server-restarts). The state format is tagged
so a replica on a different architecture never misreads it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
from functools import lru_cache

from ...common.blobstore.buffers import pinned

_CTX_SIZE = 112
_TAG = b"ossl-sha256-ctx-le1:"


@lru_cache(maxsize=1)
def _lib() -> ctypes.CDLL | None:
    import sys

    if sys.byteorder != "little":
        return None
    name = ctypes.util.find_library("crypto")
    if not name:
        return None
    try:
        lib = ctypes.CDLL(name)
        for fn in (lib.SHA256_Init, lib.SHA256_Update, lib.SHA256_Final):
            fn.restype = ctypes.c_int
        lib.SHA256_Update.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    except (OSError, AttributeError):
        return None
    if not _self_test(lib):
        return None
    return lib


def _self_test(lib: ctypes.CDLL) -> bool:
    try:
        h = ResumableSha256(lib)
        h.update(b"strata" * 50)
        h2 = ResumableSha256.from_state(h.state(), lib)
        h2.update(b"!")
        return h2.hexdigest() == hashlib.sha256(b"strata" * 50 + b"!").hexdigest()
    except Exception:
        return False


class ResumableSha256:
    """sha256 with `state()` / `from_state()`; create with `new()` (None when unavailable)."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self._lib = lib
        self._ctx = ctypes.create_string_buffer(_CTX_SIZE)
        if lib.SHA256_Init(self._ctx) != 1:
            raise RuntimeError("SHA256_Init failed")

    @classmethod
    def from_state(cls, state: bytes, lib: ctypes.CDLL | None = None) -> ResumableSha256:
        lib = lib or _lib()
        if lib is None or not state.startswith(_TAG) or len(state) != len(_TAG) + _CTX_SIZE:
            raise ValueError("unusable sha256 state")
        h = cls(lib)
        ctypes.memmove(h._ctx, state[len(_TAG) :], _CTX_SIZE)
        return h

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Hash more bytes: any contiguous buffer, read in place (a memoryview is not copied)."""
        with pinned(data) as (address, length):
            ok = self._lib.SHA256_Update(self._ctx, address, length)
        if ok != 1:
            raise RuntimeError("SHA256_Update failed")

    def state(self) -> bytes:
        return _TAG + self._ctx.raw

    def hexdigest(self) -> str:
        ctx = ctypes.create_string_buffer(self._ctx.raw, _CTX_SIZE)  # Final must not spoil our state
        out = ctypes.create_string_buffer(32)
        if self._lib.SHA256_Final(out, ctx) != 1:
            raise RuntimeError("SHA256_Final failed")
        return out.raw.hex()


def new() -> ResumableSha256 | None:
    lib = _lib()
    return ResumableSha256(lib) if lib is not None else None


def resume(state: bytes | None) -> ResumableSha256 | None:
    """The hash continued from a saved state; None when there is none or it cannot be used here."""
    if state is None:
        return None
    try:
        return ResumableSha256.from_state(bytes(state))
    except ValueError:
        return None
