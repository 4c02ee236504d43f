"""Images' pixels: the checks run on the caller's thread, the private copy into recycled buffers (so
run.log of an image costs one copy), conversion to uint8, PNG written without Pillow, JPEG and other
formats through Pillow when it is installed, and PIL images brought to a mode whose array is pixels."""

from __future__ import annotations

import math
import struct
import threading
import zlib
from typing import Any

import numpy as np

MAX_IMAGE_BYTES = 50 * 1000 * 1000  # the server refuses larger images
PNG_LEVEL = 3  # zlib level: most of level 6's size for a third of its time


def _bad(key: str, message: str, kind: type[Exception] = ValueError) -> Exception:
    return kind(f"cannot log {message} under {key!r}")


def _checked_pixels(key: str, arr: np.ndarray) -> np.ndarray:
    """The pixels as HxW or HxWxC (C in 1, 3, 4), checked (shape, dtype, size; NaN and infinity for
    float pixels: an integer array cannot hold them); raises naming the key."""
    shape = arr.shape
    if len(shape) == 3 and shape[0] in (1, 3, 4) and shape[2] not in (1, 3, 4):
        arr = arr.transpose(1, 2, 0)  # channels first (a torch tensor's layout)
        shape = arr.shape
    if not (len(shape) == 2 or (len(shape) == 3 and shape[2] in (1, 3, 4))) or 0 in shape:
        raise _bad(key, f"an image of shape {shape} (use HxW, HxWxC or CxHxW with C in 1, 3, 4)")
    kind = arr.dtype.kind
    if kind not in "biuf":
        raise _bad(key, f"an image of dtype {arr.dtype}", TypeError)
    if arr.nbytes > 4 * MAX_IMAGE_BYTES:
        raise _bad(key, f"an image of {arr.nbytes} bytes of pixels")
    if kind == "f" and not bool(np.isfinite(arr).all()):
        raise _bad(key, "an image holding NaN or infinite values")
    return arr


def _private_pixels(key: str, arr: np.ndarray) -> np.ndarray:
    """A checked private copy of the pixels (see _checked_pixels)."""
    return _BUFFERS.copy(_checked_pixels(key, arr))


class _Buffers:
    """Recycled arrays for the private copies of image pixels, by shape and dtype. Copying into fresh
    memory costs its page faults (~80 µs for 256x256x3 here), copying into an array used before costs a
    memcpy. When the media thread falls behind, fewer arrays come back than are taken: a filler thread
    then keeps READY arrays of the last shape copied in the pool, their pages touched (numpy's fill,
    which releases the GIL), so the faults are not the training thread's. A C-contiguous array is
    copied by memoryview assignment, which keeps the GIL: numpy's copy releases it for large arrays,
    and taking it back while the media thread runs can cost more than the copy. At most KEEP_BYTES
    are kept.

    Fresh memory advised to use transparent huge pages (one fault per 2 MB) was tried: the median copy
    of a burst fell to ~9 µs, but the kernel's direct compaction stalled some faults for tens of ms,
    which a training loop must not see."""

    KEEP_BYTES = 64 * 1024 * 1024
    READY = 4
    READY_BYTES = 16 * 1024 * 1024  # at most this much memory made ready ahead (no large images)

    def __init__(self) -> None:
        self.free: dict[tuple[tuple[int, ...], np.dtype[Any]], list[tuple[np.ndarray, memoryview]]] = {}
        self.kept = 0  # bytes in `free`
        self._lock = threading.Lock()  # copy() runs in callers' threads, give() on media threads
        self._last: tuple[tuple[int, ...], np.dtype[Any]] | None = None  # the filler's shape
        self._low = threading.Event()  # set by copy() when fewer than READY arrays of a shape are free
        self._filler: threading.Thread | None = None

    def copy(self, arr: np.ndarray) -> np.ndarray:
        key = (arr.shape, arr.dtype)
        with self._lock:
            free = self.free.get(key)
            if free:
                out, flat = free.pop()
                self.kept -= out.nbytes
            else:
                out = np.empty(arr.shape, arr.dtype)
                flat = out.data.cast("B")
            if not free or len(free) < self.READY:
                self._wake_filler(key)
        try:
            flat[:] = arr.data.cast("B")
        except (TypeError, ValueError, NotImplementedError):  # not C-contiguous, or not a native format
            np.copyto(out, arr)
        return out

    def give(self, arr: np.ndarray) -> None:
        """Return an array made by copy() once nothing reads it any more."""
        with self._lock:
            self._keep(arr)

    def _keep(self, arr: np.ndarray) -> bool:
        """Under the lock: put `arr` in the pool unless that goes over KEEP_BYTES."""
        if self.kept + arr.nbytes > self.KEEP_BYTES:
            return False
        self.kept += arr.nbytes
        self.free.setdefault((arr.shape, arr.dtype), []).append((arr, arr.data.cast("B")))
        return True

    def _wake_filler(self, key: tuple[tuple[int, ...], np.dtype[Any]]) -> None:
        """Under the lock: have READY arrays of `key` made ready."""
        self._last = key
        if self._filler is None:
            self._filler = threading.Thread(target=self._fill_loop, name="strata-media-buffers", daemon=True)
            self._filler.start()
        self._low.set()

    def _fill_loop(self) -> None:
        while True:
            self._low.wait()
            self._low.clear()
            while self._last is not None:
                shape, dtype = self._last
                nbytes = math.prod(shape) * dtype.itemsize
                ready = min(self.READY, self.READY_BYTES // max(1, nbytes))
                with self._lock:
                    if (
                        len(self.free.get((shape, dtype), ())) >= ready
                        or self.kept + nbytes > self.KEEP_BYTES
                    ):
                        break
                fresh = np.empty(shape, dtype)
                fresh.fill(0)  # the page faults, here rather than in run.log (the GIL is released)
                with self._lock:
                    if not self._keep(fresh):
                        break


_BUFFERS = _Buffers()


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == np.uint8:
        out = arr
    elif arr.dtype.kind == "f":
        scale = 255.0 if arr.size and float(arr.max()) <= 1.0 else 1.0
        out = np.clip(arr * scale, 0, 255).round().astype(np.uint8)
    elif arr.dtype.kind == "b":
        out = arr.astype(np.uint8) * 255
    else:
        out = np.clip(arr, 0, 255).astype(np.uint8)
    return out[:, :, 0] if out.ndim == 3 and out.shape[2] == 1 else out


def png(pixels: np.ndarray) -> bytes:
    """PNG bytes of uint8 pixels (HxW grey, HxWx3 RGB, HxWx4 RGBA), without Pillow."""
    height, width = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    raw = np.empty((height, width * channels + 1), dtype=np.uint8)
    raw[:, 0] = 0  # filter byte 0 (none) on every row
    raw[:, 1:] = pixels.reshape(height, width * channels)
    color = {1: 0, 3: 2, 4: 6}[channels]
    header = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    idat = zlib.compress(raw.data, PNG_LEVEL)  # zlib releases the GIL while it compresses
    return b"".join(
        [b"\x89PNG\r\n\x1a\n", *_chunk(b"IHDR", header), *_chunk(b"IDAT", idat), *_chunk(b"IEND", b"")]
    )


def _chunk(tag: bytes, data: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    return struct.pack(">I", len(data)), tag, data, struct.pack(">I", zlib.crc32(data, zlib.crc32(tag)))


def _jpeg(pixels: np.ndarray) -> bytes:
    import io

    from PIL import Image as PILImage

    buf = io.BytesIO()
    PILImage.fromarray(pixels[:, :, :3] if pixels.ndim == 3 else pixels).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _sniff(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) of image file bytes (0 x 0 when unknown)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    try:
        import io

        from PIL import Image as PILImage

        with PILImage.open(io.BytesIO(data)) as img:
            return (img.format or "").lower(), img.width, img.height
    except Exception:  # no Pillow, or not an image it knows: stored as it is
        return ("jpeg" if data[:2] == b"\xff\xd8" else "unknown"), 0, 0


def _pil_rgb(img: Any) -> Any:
    """A PIL image in a mode whose array is pixels: L, RGB or RGBA. Palette images become RGB(A)
    (their array would be palette indices), CMYK, YCbCr, LAB and HSV become RGB, LA and PA become RGBA,
    1-bit becomes L, and 16/32-bit integer or float greys are scaled to 0..255 by their own range
    (W&B's Image does the same conversions)."""
    mode = img.mode
    if mode in ("L", "RGB", "RGBA"):
        return img
    if mode == "1":
        return img.convert("L")
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        grey = np.asarray(img, dtype=np.float64)
        low, high = (float(grey.min()), float(grey.max())) if grey.size else (0.0, 0.0)
        scaled = (grey - low) * (255.0 / (high - low)) if high > low else np.zeros_like(grey)
        return scaled.round().astype(np.uint8)
    alpha = "A" in mode or (mode == "P" and "transparency" in img.info)
    return img.convert("RGBA" if alpha else "RGB")


def _unsupported(key: str, message: str) -> None:
    from ._wandb import warn_once

    warn_once(key, message)


def _has_pil() -> bool:
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    return True
