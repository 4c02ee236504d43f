"""Images logged from arrays: run.log takes a private copy of the pixels, so changing (or reusing) the
array afterwards does not change what is stored, whatever the array's layout or dtype; bad pixels
raise in run.log naming the key; a full media queue makes run.log wait for room."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import strata
from strata.sdk._media_log import spooled_entries
from strata.sdk.media import _BUFFERS, Image, Text, _Pixels

from tests.fixtures.wait import poll_until
from tests.media.pngs import decode_png, spooled_images

pytestmark = [pytest.mark.usefixtures("spool"), pytest.mark.timeout(120)]


def test_a_training_loop_reusing_one_array_stores_each_steps_pixels() -> None:
    """The common shape of a training loop: one batch buffer, refilled in place after each run.log."""
    rng = np.random.default_rng(3)
    originals = [rng.integers(0, 256, (192, 128, 3), dtype=np.uint8) for _ in range(30)]
    buffer = np.empty((192, 128, 3), dtype=np.uint8)
    run = strata.init(project="media-pixels", entity="tester", mode="offline")
    for pixels in originals:
        buffer[:] = pixels
        run.log({"img": strata.Image(buffer), "loss": 1.0})
    buffer[:] = 0
    run.finish()
    stored = spooled_images(run.spool_path, "img")
    assert sorted(stored) == [(step, 0) for step in range(30)]
    for step, pixels in enumerate(originals):
        assert np.array_equal(stored[(step, 0)], pixels), f"step {step} holds another step's pixels"


class ArrayLike:
    """An object exposing its memory through __array__ (as a CPU torch tensor does): no copy."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.array


def layouts() -> list[tuple[str, Any, Any, np.ndarray]]:
    """(name, the array to log, the object to pass to Image, the pixels expected)."""
    rng = np.random.default_rng(4)
    rgb = rng.integers(0, 256, (24, 20, 3), dtype=np.uint8)
    grey = rng.random((16, 12))
    chw = np.ascontiguousarray(rgb.transpose(2, 0, 1))
    fortran = np.asfortranarray(rgb[:, :, 0])
    wide = rng.integers(0, 256, (16, 40), dtype=np.uint8)
    big_endian = grey.astype(">f4")
    mask = rng.random((8, 8)) > 0.5
    deep = rng.integers(0, 1000, (10, 10, 4), dtype=np.uint16)
    shared = rgb.copy()
    return [
        ("uint8 HxWx3", rgb, rgb, rgb.copy()),
        ("float HxW in [0, 1]", grey, grey, (grey * 255).round().astype(np.uint8)),
        ("uint8 CxHxW", chw, chw, rgb.copy()),
        ("Fortran order", fortran, fortran, rgb[:, :, 0].copy()),
        ("a strided view", wide, wide[:, ::2], wide[:, ::2].copy()),
        (
            "big-endian float32",
            big_endian,
            big_endian,
            (grey.astype(np.float32) * 255).round().astype(np.uint8),
        ),
        ("bool", mask, mask, mask.astype(np.uint8) * 255),
        ("uint16 RGBA, clipped", deep, deep, np.clip(deep, 0, 255).astype(np.uint8)),
        ("__array__ sharing memory", shared, ArrayLike(shared), rgb.copy()),
    ]


@pytest.mark.parametrize("caption", [None, "with a caption"])
def test_changing_the_array_after_the_check_does_not_change_the_encoded_pixels(caption: str | None) -> None:
    for name, array, source, expected in layouts():
        queued = Image(source, caption=caption).check("img")  # what run.log does in the caller's thread
        array[...] = 0 if array.dtype != bool else ~array
        assert np.array_equal(decode_png(queued.encode().data), expected), name


def test_recycled_buffers_never_mix_two_images() -> None:
    """Buffers go back to a pool once encoded; a value logged after that gets its own pixels."""
    rng = np.random.default_rng(5)
    arrays = [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) for _ in range(4)]
    first = [Image(a).check("img") for a in arrays[:2]]
    encoded = [decode_png(queued.encode().data) for queued in first]  # their buffers are free again
    second = [Image(a).check("img") for a in arrays[2:]]
    encoded += [decode_png(queued.encode().data) for queued in second]
    assert all(np.array_equal(e, a) for e, a in zip(encoded, arrays, strict=True))


def test_copies_waiting_to_be_encoded_never_share_memory() -> None:
    """A burst: many copies waiting for the media thread, none encoded yet (none recycled)."""
    arrays = regenerate(7, 60)  # ~12 MB
    queued = [Image(a).check("img") for a in arrays]
    for a in arrays:
        a[...] = 0
    assert all(
        np.array_equal(decode_png(q.encode().data), r) for q, r in zip(queued, regenerate(7, 60), strict=True)
    )


def regenerate(seed: int, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (256, 256, 3), dtype=np.uint8) for _ in range(n)]


def test_fresh_buffers_are_made_ready_off_the_callers_thread() -> None:
    """When the media thread falls behind, the pool runs dry; a filler thread then keeps a few arrays of
    the last shape copied ready, their pages touched, so run.log does not pay the page faults."""
    shape = (77, 55, 3)  # a shape no other test copies
    Image(np.ones(shape, dtype=np.uint8)).check("img")  # taken and never given back: the pool is dry
    poll_until(
        lambda: len(_BUFFERS.free.get((shape, np.dtype(np.uint8)), [])) >= _BUFFERS.READY,
        timeout=10,
        what="ready arrays of the shape",
    )
    ready = _BUFFERS.free[(shape, np.dtype(np.uint8))][-1][0]
    queued = Image(np.full(shape, 9, dtype=np.uint8)).check("img")
    assert isinstance(queued, _Pixels) and queued.pixels is not None
    assert np.shares_memory(queued.pixels, ready)  # the copy went into a ready array
    assert (decode_png(queued.encode().data) == 9).all()


def test_one_image_object_logged_twice_is_stored_twice_as_it_was_each_time() -> None:
    pixels = np.zeros((8, 8, 3), dtype=np.uint8)
    image = strata.Image(pixels)
    run = strata.init(project="media-pixels", entity="tester", mode="offline")
    run.log({"a": image, "b": [image, image]}, step=0)
    pixels += 7
    run.log({"a": image}, step=1)
    run.finish()
    a, b = spooled_images(run.spool_path, "a"), spooled_images(run.spool_path, "b")
    assert sorted(a) == [(0, 0), (1, 0)] and sorted(b) == [(0, 0), (0, 1)]
    assert not a[(0, 0)].any() and not b[(0, 0)].any() and not b[(0, 1)].any()
    assert (a[(1, 0)] == 7).all()


@pytest.mark.parametrize(
    ("pixels", "error"),
    [
        (np.full((4, 4, 3), np.inf, dtype=np.float32), "NaN or infinite"),
        (np.array([[0.5, np.nan]], dtype=np.float16), "NaN or infinite"),
        (np.zeros((5, 5, 2), dtype=np.uint8), "shape"),
        (np.zeros((0, 4), dtype=np.uint8), "shape"),
        (np.zeros((4, 4), dtype=np.complex64), "dtype"),
    ],
)
def test_bad_pixels_raise_in_run_log_naming_the_key(pixels: np.ndarray, error: str) -> None:
    run = strata.init(project="media-pixels", entity="tester", mode="offline")
    with pytest.raises((ValueError, TypeError), match=f"{error}.*'samples'|'samples'.*{error}|{error}") as e:
        run.log({"samples": strata.Image(pixels)})
    assert "'samples'" in str(e.value)
    run.finish()
    assert run._media is None  # nothing was queued


def test_a_full_queue_makes_run_log_wait_for_room(monkeypatch: pytest.MonkeyPatch) -> None:
    """Back-pressure: with a queue of 2 and time to wait, run.log waits for the encoder, drops nothing."""
    monkeypatch.setenv("STRATA_MEDIA_QUEUE", "2")
    monkeypatch.setenv("STRATA_MEDIA_QUEUE_TIMEOUT", "60")
    rng = np.random.default_rng(6)
    originals = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(20)]
    run = strata.init(project="media-pixels", entity="tester", mode="offline")
    most_queued = 0
    for pixels in originals:
        run.log({"img": strata.Image(pixels)})
        assert run._media is not None
        most_queued = max(most_queued, run._media.queued - run._media.spooled)
    run.finish()
    assert run._media.dropped == 0 and most_queued <= 2
    stored = spooled_images(run.spool_path, "img")
    assert all(np.array_equal(stored[(step, 0)], pixels) for step, pixels in enumerate(originals))


class Caps(Text):
    """A subclass written when check() returned None: its value is queued itself."""

    def check(self, key: str) -> Any:  # returns None, as check() used to
        self.text = self.text.upper()


def test_a_media_subclass_whose_check_returns_none_is_still_logged() -> None:
    run = strata.init(project="media-pixels", entity="tester", mode="offline")
    run.log({"note": [Caps("hello")]})
    run.finish()
    (entry,) = spooled_entries(run.spool_path)
    assert (run.spool_path / "media" / "blobs" / entry.blob.sha256).read_bytes() == b"HELLO"
