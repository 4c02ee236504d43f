"""Rich values for run.log, shaped like W&B's: images, Plotly figures, HTML, tables, histograms, text.

    import strata
    run.log({
        "loss": 0.3,                                          # scalars: the metric stream, unchanged
        "confusion_matrix": strata.Plotly(fig),               # the figure's JSON
        "samples": [strata.Image(x, caption=c) for x, c in batch],  # PNG (file_type="jpeg" for JPEG)
        "page": strata.Html("<b>hi</b>"),
        "preds": strata.Table(columns=["id", "label"], data=[[1, "cat"]]),  # or dataframe=df
        "weights": strata.Histogram(w, num_bins=64),          # or np_histogram=(counts, edges)
        "note": "plain strings are logged as text",
    })

Each value is checked in the calling thread, cheaply (an unsupported type, a ragged table, NaN
image data raise TypeError/ValueError naming the key, and nothing of that call is logged); the
encoding (PNG, JSON) happens later on a background thread (strata.sdk._media_log). Arrays and
table rows are copied when logged, so changing them afterwards does not change what is stored;
a Plotly figure is serialized on the background thread, so do not change it after logging it.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from strata.ingest.v1 import media_pb2

from ._config import jsonable
from ._pixels import (  # png, _BUFFERS and MAX_IMAGE_BYTES are imported from here too
    _BUFFERS,
    MAX_IMAGE_BYTES,
    _bad,
    _checked_pixels,
    _has_pil,
    _jpeg,
    _pil_rgb,
    _private_pixels,
    _sniff,
    _to_uint8,
    _unsupported,
    png,
)

__all__ = ["Encoded", "Histogram", "Html", "Image", "Media", "Plotly", "Table", "Text", "rich_values"]

MAX_TABLE_CELLS = 1_000_000
MAX_BINS = 512
MAX_TEXT_BYTES = 10 * 1000 * 1000


@dataclass
class Encoded:
    """A value ready to store: its MediaType, bytes and small metadata."""

    type: int
    data: bytes
    metadata: dict[str, Any] = field(default_factory=dict)


class Media:
    """A rich value. `check(key)` runs in the caller's thread and returns the value to queue (the value
    itself, or a private snapshot of it); `encode()` runs on the media thread."""

    __slots__ = ()
    type: int = media_pb2.MEDIA_TYPE_UNSPECIFIED

    def check(self, key: str) -> Media:  # pragma: no cover - every subclass checks
        raise NotImplementedError

    def encode(self) -> Encoded:  # pragma: no cover
        raise NotImplementedError


class Image(Media):
    """An image from an ndarray (HxW, HxWx{1,3,4} or {1,3,4}xHxW; floats in [0, 1] are scaled to
    0..255), a PIL image, or a path to an image file. Stored as PNG, or JPEG with file_type="jpeg"
    (which needs Pillow).

    What run.log costs the calling thread for an ndarray: a check of its shape and dtype (and, for
    float pixels only, of NaN/infinity), and one copy of the pixels into a recycled buffer, so that
    changing the array afterwards does not change what is stored. Conversion to uint8 and encoding
    happen on the media thread."""

    __slots__ = ("_path", "_source", "caption", "file_type")
    type = media_pb2.MEDIA_TYPE_IMAGE

    def __init__(
        self,
        data_or_path: Any,
        caption: str | None = None,
        file_type: str | None = "png",
        *,
        mode: str | None = None,
        grouping: int | None = None,
        classes: Any = None,
        boxes: Any = None,
        masks: Any = None,
        normalize: bool = True,
    ) -> None:
        """W&B's keywords are taken: `mode` converts a PIL image to that PIL mode (an array's mode is its
        shape); `boxes`, `masks`, `classes` and `grouping` are not stored (a warning says so once);
        `normalize` is what Strata does anyway (floats in [0, 1] are scaled to 0..255)."""
        del grouping, normalize
        file_type = file_type or "png"
        self._source = data_or_path
        self.caption = caption
        self.file_type = file_type if file_type == "png" else file_type.lower().replace("jpg", "jpeg")
        self._path: Path | None = None
        if mode is not None and type(data_or_path).__module__.startswith("PIL."):
            self._source = data_or_path.convert(mode)
        elif mode is not None and not isinstance(data_or_path, np.ndarray):
            _unsupported("Image:mode", "strata.Image: mode= converts PIL images only; it is ignored here")
        if boxes is not None or masks is not None or classes is not None:
            _unsupported(
                "Image:overlays", "strata.Image: boxes=, masks= and classes= are not stored; the image is"
            )

    @property
    def path(self) -> str | None:
        """The image file it was made from (one read back from an artifact: the downloaded file)."""
        src = self._source
        return os.fspath(src) if isinstance(src, (str, os.PathLike)) else None

    @property
    def image(self) -> Any:
        """The image as a PIL image (W&B's Image.image; needs Pillow)."""
        from PIL import Image as PILImage

        src = self._source
        if isinstance(src, (str, os.PathLike)):
            return PILImage.open(src)
        if type(src).__module__.startswith("PIL."):
            return src
        return PILImage.fromarray(_to_uint8(_checked_pixels("image", np.asarray(src))))

    def check(self, key: str) -> Media:
        """The pixels' private copy to queue (an image file: the image itself); raises naming the key.
        Each call takes its own copy: the same Image logged twice is stored twice, as it was each time."""
        src = self._source
        if type(src) is np.ndarray and self.file_type == "png" and self.caption is None:
            return _Pixels(_private_pixels(key, src), None, "png")  # the common case, at the least cost
        if self.file_type not in ("png", "jpeg"):
            raise _bad(key, f"an image with file_type={self.file_type!r} (use 'png' or 'jpeg')")
        if self.caption is not None and not isinstance(self.caption, str):
            raise _bad(key, "an image whose caption is not a string", TypeError)
        if isinstance(src, (str, os.PathLike)):
            self._check_path(key, Path(src))
            return self
        if self.file_type == "jpeg" and not _has_pil():
            raise _bad(key, "a JPEG image without Pillow installed (pip install pillow)", ImportError)
        if type(src).__module__.startswith("PIL."):
            src = np.asarray(_pil_rgb(src))
        if not isinstance(src, np.ndarray) and not hasattr(src, "__array__"):
            raise _bad(
                key, f"an image from {type(src).__name__} (use an ndarray, a PIL image or a path)", TypeError
            )
        return _Pixels(_private_pixels(key, np.asarray(src)), self.caption, self.file_type)

    def _check_path(self, key: str, path: Path) -> None:
        try:
            size = path.stat().st_size
        except OSError as e:
            raise _bad(key, f"the image file {str(path)!r}: {e.strerror}") from None
        if size > MAX_IMAGE_BYTES:
            raise _bad(key, f"an image of {size} bytes (at most {MAX_IMAGE_BYTES})")
        self._path = path

    def encode(self) -> Encoded:
        """An image file's bytes as they are (pixels are encoded by the snapshot check() returns)."""
        assert self._path is not None, "check() first"
        meta: dict[str, Any] = {} if self.caption is None else {"caption": self.caption}
        data = self._path.read_bytes()
        fmt, width, height = _sniff(data)
        return Encoded(self.type, data, {**meta, "format": fmt, "width": width, "height": height})


class _Pixels(Media):
    """The private copy of an image's pixels that one run.log call queued; encoded once, after which
    its buffer is recycled."""

    __slots__ = ("caption", "file_type", "pixels")
    type = media_pb2.MEDIA_TYPE_IMAGE

    def __init__(self, pixels: np.ndarray, caption: str | None, file_type: str) -> None:
        self.pixels: np.ndarray | None = pixels
        self.caption = caption
        self.file_type = file_type

    def check(self, key: str) -> Media:  # pragma: no cover - made checked
        return self

    def encode(self) -> Encoded:
        array, self.pixels = self.pixels, None
        assert array is not None, "encoded twice"
        pixels = _to_uint8(array)
        height, width = pixels.shape[:2]
        data = _jpeg(pixels) if self.file_type == "jpeg" else png(pixels)
        del pixels
        _BUFFERS.give(array)
        meta: dict[str, Any] = {} if self.caption is None else {"caption": self.caption}
        return Encoded(self.type, data, {**meta, "format": self.file_type, "width": width, "height": height})


class Plotly(Media):
    """A Plotly figure (anything with to_json() or to_plotly_json(), or a figure dict), stored as its
    JSON. Plotly itself is only needed to build the figure."""

    type = media_pb2.MEDIA_TYPE_PLOTLY

    def __init__(self, figure: Any) -> None:
        self.figure = figure

    def check(self, key: str) -> Media:
        f = self.figure
        if not (isinstance(f, dict) or hasattr(f, "to_json") or hasattr(f, "to_plotly_json")):
            raise _bad(key, f"{type(f).__name__} as a Plotly figure (no to_json / to_plotly_json)", TypeError)
        return self

    def encode(self) -> Encoded:
        f = self.figure
        if hasattr(f, "to_json"):
            text = f.to_json()
        else:
            raw = f.to_plotly_json() if hasattr(f, "to_plotly_json") else f
            text = json.dumps(raw, default=jsonable, allow_nan=False)
        traces = json.loads(text).get("data", [])
        return Encoded(self.type, text.encode(), {"traces": len(traces) if isinstance(traces, list) else 0})


class Html(Media):
    """An HTML document: the markup as a string, or a path to an .html file."""

    type = media_pb2.MEDIA_TYPE_HTML

    def __init__(self, data: Any, inject: bool = True, data_is_not_path: bool = False) -> None:
        """The markup, a path to an .html file, or an open text file. As in W&B, a string that names an
        existing file is read from it unless data_is_not_path=True; `inject` (W&B's default
        stylesheet) has no meaning here."""
        del inject
        if hasattr(data, "read"):
            data = data.read()
        elif isinstance(data, str) and not data_is_not_path and len(data) < 4096 and os.path.isfile(data):
            data = Path(data)
        self.data = data

    def check(self, key: str) -> Media:
        if isinstance(self.data, os.PathLike):
            if not Path(self.data).is_file():
                raise _bad(key, f"HTML from {str(self.data)!r}: no such file")
        elif not isinstance(self.data, str):
            raise _bad(key, f"HTML from {type(self.data).__name__} (use a string or a path)", TypeError)
        return self

    def encode(self) -> Encoded:
        text = Path(self.data).read_text() if isinstance(self.data, os.PathLike) else self.data
        data = text.encode("utf-8", "replace")
        return Encoded(self.type, data, {"length": len(data)})


class Text(Media):
    """Plain text; run.log turns a str value into one."""

    type = media_pb2.MEDIA_TYPE_TEXT

    def __init__(self, text: str) -> None:
        self.text = text

    def check(self, key: str) -> Media:
        if not isinstance(self.text, str):
            raise _bad(key, f"{type(self.text).__name__} as text", TypeError)
        if len(self.text) > MAX_TEXT_BYTES:
            raise _bad(key, f"a text of more than {MAX_TEXT_BYTES} characters")
        return self

    def encode(self) -> Encoded:
        data = self.text.encode("utf-8", "replace")
        return Encoded(self.type, data, {"length": len(data)})


class Table(Media):
    """A table: `Table(columns=[...], data=[[...], ...])` or `Table(dataframe=df)`. Cells are numbers,
    strings, booleans or None (anything else is stored as its str()); NaN is stored as null."""

    type = media_pb2.MEDIA_TYPE_TABLE

    def __init__(
        self,
        columns: list[str] | None = None,
        data: Any = None,
        rows: Any = None,
        dataframe: Any = None,
        dtype: Any = None,
        optional: Any = True,
        allow_mixed_types: bool = False,
        log_mode: str | None = None,
    ) -> None:
        """W&B's signature: `rows` is the old name of `data`; `dtype`, `optional`, `allow_mixed_types`
        and `log_mode` are taken and have no effect (Strata infers no column types)."""
        del dtype, optional, allow_mixed_types, log_mode
        self.columns = columns
        self.data = data if data is not None else rows
        self.dataframe = dataframe
        self._rows: list[list[Any]] | None = None

    def check(self, key: str) -> Media:
        if self.dataframe is not None:
            df = self.dataframe
            if not hasattr(df, "columns") or not hasattr(df, "to_numpy"):
                raise _bad(
                    key, f"a table from {type(df).__name__} (dataframe= takes a pandas DataFrame)", TypeError
                )
            if df.shape[0] * max(1, df.shape[1]) > MAX_TABLE_CELLS:
                raise _bad(key, f"a table of more than {MAX_TABLE_CELLS} cells")
            self.columns = [str(c) for c in df.columns]
            self.dataframe = df.copy()
            return self
        if self.columns is None or isinstance(self.columns, str):
            raise _bad(key, "a table without columns= (a list of names)", TypeError)
        columns = [str(c) for c in self.columns]
        rows = [] if self.data is None else list(self.data)
        if len(rows) * max(1, len(columns)) > MAX_TABLE_CELLS:
            raise _bad(key, f"a table of more than {MAX_TABLE_CELLS} cells")
        for i, row in enumerate(rows):
            if isinstance(row, (str, bytes)) or not hasattr(row, "__len__") or len(row) != len(columns):
                n = len(row) if hasattr(row, "__len__") else 1
                raise _bad(key, f"a ragged table: row {i} has {n} cells for {len(columns)} columns")
        self.columns, self._rows = columns, [list(r) for r in rows]
        return self

    def add_data(self, *row: Any) -> None:
        """Append one row, a cell per column (W&B's Table.add_data)."""
        if self.dataframe is not None or self.columns is None or len(row) != len(self.columns):
            raise ValueError(
                f"add_data takes one cell per column ({len(self.columns or [])}), got {len(row)}"
            )
        if not isinstance(self.data, list):
            self.data = list(self.data or [])
        self.data.append(list(row))

    def get_column(self, name: str) -> list[Any]:
        """The cells of one column, top to bottom."""
        i = [str(c) for c in self.columns or []].index(name)
        return (
            [row[i] for row in self.data or []] if self.dataframe is None else list(self.dataframe.iloc[:, i])
        )

    def get_dataframe(self) -> Any:
        """The table as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        if self.dataframe is not None:
            return self.dataframe.copy()
        return pd.DataFrame.from_records([list(r) for r in self.data or []], columns=self.columns)

    def encode(self) -> Encoded:
        assert self.columns is not None
        rows = (
            self.dataframe.to_numpy(dtype=object).tolist() if self.dataframe is not None else self._rows or []
        )
        cells = [[_cell(c) for c in row] for row in rows]
        body = json.dumps({"columns": self.columns, "data": cells}, separators=(",", ":"), allow_nan=False)
        return Encoded(self.type, body.encode(), {"columns": self.columns, "rows": len(cells)})


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (bool, str, int)) or value is None:
        return value
    return str(value)


class Histogram(Media):
    """A histogram of a sequence (`num_bins` equal bins, at most 512), or a precomputed one:
    `Histogram(np_histogram=np.histogram(x))`. Stored as counts and bin edges."""

    type = media_pb2.MEDIA_TYPE_HISTOGRAM

    def __init__(
        self, sequence: Any = None, np_histogram: tuple[Any, Any] | None = None, num_bins: int = 64
    ) -> None:
        self.sequence = sequence
        self.np_histogram = np_histogram
        self.num_bins = num_bins
        self._values: np.ndarray | None = None
        self._counts: np.ndarray | None = None
        self._edges: np.ndarray | None = None

    def check(self, key: str) -> Media:
        if not isinstance(self.num_bins, int) or not 1 <= self.num_bins <= MAX_BINS:
            raise _bad(key, f"a histogram with num_bins={self.num_bins!r} (1..{MAX_BINS})")
        if self.np_histogram is not None:
            counts, edges = (np.asarray(a, dtype=np.float64).ravel() for a in self.np_histogram)
            if len(edges) != len(counts) + 1 or not 1 <= len(counts) <= MAX_BINS:
                raise _bad(
                    key, f"np_histogram with {len(counts)} counts and {len(edges)} edges (edges = counts + 1)"
                )
            if not (np.isfinite(counts).all() and np.isfinite(edges).all()):
                raise _bad(key, "a histogram holding NaN or infinite values")
            self._counts, self._edges = counts.copy(), edges.copy()
            return self
        if self.sequence is None:
            raise _bad(key, "a histogram without a sequence or np_histogram", TypeError)
        try:
            values = np.array(self.sequence, dtype=np.float64, copy=True).ravel()
        except (TypeError, ValueError):
            raise _bad(key, "a histogram of values that are not numbers", TypeError) from None
        if not np.isfinite(values).all():
            raise _bad(key, "a histogram of values holding NaN or infinity")
        self._values = values
        return self

    def encode(self) -> Encoded:
        if self._values is not None:
            counts, edges = np.histogram(self._values, bins=self.num_bins)
        else:
            assert self._counts is not None and self._edges is not None
            counts, edges = self._counts, self._edges
        doc = {"counts": [_number(c) for c in counts], "edges": [float(e) for e in edges]}
        return Encoded(
            self.type, json.dumps(doc, separators=(",", ":")).encode(), {**doc, "bins": len(counts)}
        )


def _number(value: Any) -> int | float:
    f = float(value)
    return int(f) if f.is_integer() else f


def rich_values(key: str, value: Any) -> list[Media] | None:
    """The checked rich values of `value` (a str, a Media, or a non-empty list of Media), or None when
    it is none of those (then it must be a number). Raises TypeError/ValueError naming the key."""
    if isinstance(value, str):
        items: list[Media] = [Text(value)]
    elif isinstance(value, Media):
        items = [value]
    elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Media) for v in value):
        items = list(value)
        if len({type(v) for v in items}) > 1:
            raise _bad(key, "a list mixing kinds of rich values", TypeError)
    else:
        return None
    checked = [item.check(key) for item in items]  # each a value to queue (see Media.check)
    return [c if c is not None else item for c, item in zip(checked, items, strict=True)]  # check() -> None
