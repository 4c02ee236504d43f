"""Images from Pillow, as W&B users log them: every common PIL mode is stored as the pixels a viewer
would show (a palette image as its colours, not its palette indices), JPEG encoding, image files of
other formats, and reading an image back as a PIL image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import strata
from PIL import Image as PILImage

from tests.fixtures.servers import ServerThread
from tests.media.pngs import decode_png

pytestmark = [pytest.mark.usefixtures("spool"), pytest.mark.timeout(120)]

RGB = np.random.default_rng(7).integers(0, 256, (12, 20, 3), dtype=np.uint8)
_y, _x = np.mgrid[0:12, 0:20]
SMOOTH = np.dstack([_x * 12, _y * 20, np.full_like(_x, 90)]).astype(np.uint8)  # a gradient: JPEG keeps it


def palette_image() -> PILImage.Image:
    colours = [(255, 0, 0), (0, 128, 255), (10, 200, 30)]
    indices = np.arange(12 * 20, dtype=np.uint8).reshape(12, 20) % 3
    img = PILImage.fromarray(indices, mode="P")
    img.putpalette([c for rgb in colours for c in rgb])
    return img


def expected_pixels(img: PILImage.Image) -> np.ndarray:
    """What a viewer shows for `img`, as uint8 pixels (Pillow's own conversion)."""
    if img.mode in ("L", "RGB", "RGBA"):
        return np.asarray(img)
    if img.mode == "1":
        return np.asarray(img.convert("L"))
    return np.asarray(img.convert("RGBA" if "A" in img.mode else "RGB"))


CASES = {
    "rgb": PILImage.fromarray(RGB),
    "rgba": PILImage.fromarray(np.dstack([RGB, np.full(RGB.shape[:2], 128, np.uint8)])),
    "grey": PILImage.fromarray(RGB[:, :, 0]),
    "bilevel": PILImage.fromarray(RGB[:, :, 0] > 128),
    "palette": palette_image(),
    "cmyk": PILImage.fromarray(RGB).convert("CMYK"),
    "grey_alpha": PILImage.fromarray(np.dstack([RGB, RGB[:, :, :1]])).convert("LA"),
}


def test_every_common_pil_mode_is_stored_as_the_pixels_a_viewer_shows(server: ServerThread) -> None:
    run = strata.init(project="pillow", entity="tester", addr=server.addr)
    run.log({f"img/{name}": strata.Image(img) for name, img in CASES.items()})
    run.finish()
    r = strata.Api(addr=server.addr).run(run.path)
    for name, img in CASES.items():
        stored = decode_png(r.media(f"img/{name}")[0].read_bytes())
        assert np.array_equal(stored, expected_pixels(img)), name
    palette = decode_png(r.media("img/palette")[0].read_bytes())
    assert palette.shape == (12, 20, 3) and {tuple(p) for p in palette.reshape(-1, 3)} == {
        (255, 0, 0),
        (0, 128, 255),
        (10, 200, 30),
    }, "a palette image is stored as its colours"


def test_16_bit_and_float_greys_are_scaled_to_their_own_range(server: ServerThread) -> None:
    depth = (np.arange(12 * 20, dtype=np.uint16).reshape(12, 20) * 200).astype(np.uint16)
    run = strata.init(project="pillow", entity="tester", addr=server.addr)
    img = PILImage.fromarray(depth)
    assert img.mode.startswith("I")  # a 16-bit grey
    run.log({"depth": strata.Image(img)})
    run.finish()
    stored = decode_png(strata.Api(addr=server.addr).run(run.path).media("depth")[0].read_bytes())
    assert stored.dtype == np.uint8 and stored.shape == (12, 20)
    assert (int(stored.min()), int(stored.max())) == (0, 255)
    assert np.array_equal(np.argsort(stored.ravel(), kind="stable"), np.argsort(depth.ravel(), kind="stable"))


def test_jpeg_encoding_other_image_files_and_reading_back_as_pil(
    server: ServerThread, tmp_path: Path
) -> None:
    gif = tmp_path / "frame.gif"
    palette_image().save(gif)
    run = strata.init(project="pillow", entity="tester", addr=server.addr)
    run.log({"photo": strata.Image(SMOOTH, file_type="jpeg"), "gif": strata.Image(str(gif))})
    run.finish()
    r = strata.Api(addr=server.addr).run(run.path)
    photo = r.media("photo")[0]
    assert photo.metadata["format"] == "jpeg" and photo.read_bytes()[:2] == b"\xff\xd8"
    back = photo.image()  # MediaValue.image(): a PIL image
    assert back.size == (20, 12) and back.mode == "RGB"
    assert np.abs(np.asarray(back).astype(int) - SMOOTH.astype(int)).mean() < 8  # JPEG is lossy
    stored_gif = r.media("gif")[0]
    assert stored_gif.read_bytes() == gif.read_bytes(), "an image file is stored as it is"
    assert (stored_gif.metadata["format"], stored_gif.metadata["width"], stored_gif.metadata["height"]) == (
        "gif",
        20,
        12,
    )
