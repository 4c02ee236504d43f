"""Reading back what the SDK stored: PNG pixels, and an offline run's spooled images."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np


def decode_png(data: bytes) -> np.ndarray:
    """Pixels of a PNG written by strata (8-bit, filter 0 on every row, one IDAT)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, _, color = struct.unpack(">IIBB", data[16:26])
    channels = {0: 1, 2: 3, 6: 4}[color]
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, width * channels + 1)
    assert not raw[:, 0].any()
    pixels = raw[:, 1:].reshape(height, width, channels)
    return pixels[:, :, 0] if channels == 1 else pixels


def spooled_images(spool_path: Path, key: str) -> dict[tuple[int, int], np.ndarray]:
    """The images an (offline) run spooled under `key`, by (step, list position)."""
    from strata.sdk._media_log import spooled_entries

    blobs = spool_path / "media" / "blobs"
    return {
        (e.step, e.index): decode_png((blobs / e.blob.sha256).read_bytes())
        for e in spooled_entries(spool_path)
        if e.key == key
    }


def gradient(size: int, step: int, i: int) -> np.ndarray:
    """A size x size RGB gradient whose colours differ by step and list position (distinct images for
    media panels and exports)."""
    y, x = np.mgrid[0:size, 0:size]
    scale = 256 // size
    channels = (
        (x * scale + step * 25) % 256,
        (y * scale + i * 70) % 256,
        np.full((size, size), (255 - step * 20 - i * 50) % 256),
    )
    return np.stack(channels, axis=-1).astype(np.uint8)
