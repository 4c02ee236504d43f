"""Audio and video rich values, W&B-shaped: `strata.Audio(data_or_path, sample_rate=, caption=)` and
`strata.Video(data_or_path, caption=, fps=, format=)`.

A file is stored as its bytes (WAV, MP3, OGG or FLAC audio; MP4, WebM, OGG or GIF video), its format
told by its first bytes. A numpy waveform is written as 16-bit PCM WAV with the standard library; numpy
frames (time, channel, height, width) are written as an animated GIF with Pillow (W&B's own default
for frames; MP4 or WebM frames would need an encoder Strata does not ship). As with images, run.log
copies an array once on the caller's thread and encodes it on the media thread.
"""

from __future__ import annotations

import io
import os
import wave
from pathlib import Path
from typing import Any

import numpy as np

from strata.ingest.v1 import media_pb2
from strata.wire.media_formats import AUDIO, VIDEO, sniff

from ._pixels import _bad, _has_pil
from .media import Encoded, Media

MAX_AV_BYTES = 100 * 1000 * 1000  # per audio or video value
MAX_CHANNELS = 8
MAX_FRAMES = 10_000


def _read_file(key: str, path: Path, kinds: dict[str, str], what: str) -> str:
    """The file's format, after checking it exists, is not too large and is one of `kinds`."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError as e:
        raise _bad(key, f"the {what} file {str(path)!r}: {e.strerror}") from None
    if size > MAX_AV_BYTES:
        raise _bad(key, f"{what} of {size} bytes (at most {MAX_AV_BYTES})")
    fmt = sniff(head)
    if fmt not in kinds:
        names = ", ".join(k.upper() for k in kinds)
        raise _bad(key, f"the {what} file {str(path)!r}: not a format Strata stores ({names})")
    return fmt


class Audio(Media):
    """A sound: a path to a WAV, MP3, OGG or FLAC file, or a numpy waveform ((samples,) or (samples,
    channels); floats in [-1, 1] or integers) with its `sample_rate`."""

    type = media_pb2.MEDIA_TYPE_AUDIO

    def __init__(self, data_or_path: Any, sample_rate: int | None = None, caption: str | None = None) -> None:
        self._source = data_or_path
        self.sample_rate = sample_rate
        self.caption = caption
        self._samples: np.ndarray | None = None
        self._format = ""

    def check(self, key: str) -> Media:
        if self.caption is not None and not isinstance(self.caption, str):
            raise _bad(key, "audio whose caption is not a string", TypeError)
        src = self._source
        if isinstance(src, (str, os.PathLike)):
            self._format = _read_file(key, Path(src), AUDIO, "audio")
            return self
        arr = np.asarray(src)
        if (
            not isinstance(self.sample_rate, int)
            or isinstance(self.sample_rate, bool)
            or self.sample_rate < 1
        ):
            raise _bad(key, "a numpy waveform without sample_rate= (samples per second)", ValueError)
        if (
            arr.ndim not in (1, 2)
            or (arr.ndim == 2 and not 1 <= arr.shape[1] <= MAX_CHANNELS)
            or not arr.size
        ):
            raise _bad(key, f"a waveform of shape {arr.shape} (use (samples,) or (samples, channels))")
        if arr.dtype.kind not in "iuf":
            raise _bad(key, f"a waveform of {arr.dtype} samples (numbers only)", TypeError)
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise _bad(key, "a waveform holding NaN or infinite samples")
        if arr.size * 2 > MAX_AV_BYTES:
            raise _bad(key, f"a waveform of {arr.size} samples (at most {MAX_AV_BYTES // 2})")
        snapshot = Audio(None, self.sample_rate, self.caption)
        snapshot._samples = np.array(arr, copy=True)  # later changes of the caller's array change nothing
        return snapshot

    def encode(self) -> Encoded:
        meta: dict[str, Any] = {} if self.caption is None else {"caption": self.caption}
        if self._samples is None:
            data = Path(self._source).read_bytes()
            return Encoded(self.type, data, {**meta, "format": sniff(data[:12]) or self._format})
        pcm = _int16(self._samples)
        channels = 1 if pcm.ndim == 1 else pcm.shape[1]
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(2)
            w.setframerate(int(self.sample_rate or 1))
            w.writeframes(pcm.astype("<i2").tobytes())
        seconds = len(pcm) / float(self.sample_rate or 1)
        info = {"format": "wav", "sample_rate": self.sample_rate, "channels": channels, "seconds": seconds}
        return Encoded(self.type, buf.getvalue(), {**meta, **info})


def _int16(samples: np.ndarray) -> np.ndarray:
    """16-bit PCM: floats are taken as [-1, 1], integers as they are (clipped to int16)."""
    scaled = (np.clip(samples, -1.0, 1.0) * 32767).round() if samples.dtype.kind == "f" else samples
    pcm: np.ndarray = np.clip(scaled, -32768, 32767).astype(np.int16)
    return pcm


class Video(Media):
    """A video: a path to an MP4, WebM, OGG or GIF file, or numpy frames (time, channel, height,
    width), channel 1, 3 or 4, written as an animated GIF at `fps` frames per second (needs Pillow)."""

    type = media_pb2.MEDIA_TYPE_VIDEO

    def __init__(
        self, data_or_path: Any, caption: str | None = None, fps: int | None = None, format: str | None = None
    ) -> None:
        self._source = data_or_path
        self.caption = caption
        self.fps = fps
        self.format = format
        self._frames: np.ndarray | None = None
        self._format = ""

    def check(self, key: str) -> Media:
        if self.caption is not None and not isinstance(self.caption, str):
            raise _bad(key, "a video whose caption is not a string", TypeError)
        src = self._source
        if isinstance(src, (str, os.PathLike)):
            self._format = _read_file(key, Path(src), VIDEO, "video")
            return self
        if self.format not in (None, "gif"):
            raise _bad(
                key,
                f"frames as format={self.format!r} (Strata writes frames as 'gif'; log an MP4 or WebM file)",
            )
        if not _has_pil():
            raise _bad(key, "video frames without Pillow installed (pip install pillow)", ImportError)
        fps = 4 if self.fps is None else self.fps
        if not isinstance(fps, (int, float)) or not 0 < fps <= 100:
            raise _bad(key, f"a video with fps={fps!r} (0 < fps <= 100)")
        frames = np.asarray(src)
        if frames.ndim != 4 or frames.shape[1] not in (1, 3, 4) or not 1 <= frames.shape[0] <= MAX_FRAMES:
            raise _bad(
                key,
                f"video frames of shape {frames.shape} (use (time, channel, height, width), channel 1, 3 or 4)",
            )
        if frames.nbytes > MAX_AV_BYTES:
            raise _bad(key, f"video frames of {frames.nbytes} bytes (at most {MAX_AV_BYTES})")
        snapshot = Video(None, self.caption, fps, "gif")
        snapshot._frames = np.array(frames, copy=True)
        return snapshot

    def encode(self) -> Encoded:
        meta: dict[str, Any] = {} if self.caption is None else {"caption": self.caption}
        if self._frames is None:
            data = Path(self._source).read_bytes()
            return Encoded(self.type, data, {**meta, "format": sniff(data[:12]) or self._format})
        from PIL import Image as PILImage

        frames = self._frames
        if frames.dtype.kind == "f":
            frames = np.clip(frames * 255 if frames.max(initial=0) <= 1 else frames, 0, 255)
        pixels = (
            np.clip(frames, 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)
        )  # time, height, width, channel
        images = [PILImage.fromarray(p[:, :, 0] if p.shape[2] == 1 else p[:, :, :3]) for p in pixels]
        buf = io.BytesIO()
        fps = float(self.fps or 4)
        images[0].save(
            buf, format="GIF", save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0
        )
        height, width = pixels.shape[1:3]
        info = {
            "format": "gif",
            "fps": fps,
            "frames": len(images),
            "width": int(width),
            "height": int(height),
        }
        return Encoded(self.type, buf.getvalue(), {**meta, **info})
