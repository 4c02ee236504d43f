"""Rich values as artifact files, in W&B's layout: `<name>.<log type>.json` plus media files.

    table   preds.table.json           {"_type": "table", "columns": [...], "data": [[...]], "ncols", "nrows"}
    image   sample.image-file.json     {"_type": "image-file", "path": "media/images/<sha256[:20]>.png",
                                        "sha256", "size", "format", "width", "height", "caption"?}
    html    page.html-file.json        {"_type": "html-file", "path": "media/html/<sha256[:20]>.html", ...}
    plotly  fig.plotly-file.json       {"_type": "plotly-file", "path": "media/plotly/<...>.plotly.json", ...}
    histogram  w.histogram.json        {"_type": "histogram", "values": counts, "bins": edges}

Table cells keep their JSON type (ints stay ints, floats floats); NaN and infinities are written as
Python's json writes them (`NaN`, `Infinity`, as W&B does), so they come back as floats. An image,
HTML, Plotly or histogram value in a cell is stored like one added on its own (its JSON object in
the cell, its file under media/) and comes back as that object. Used by strata.sdk._artifact_objects.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import media

# W&B's `_log_type` of each kind: the value's file is f"{name}.{log_type}.json".
LOG_TYPES: dict[type[media.Media], str] = {
    media.Table: "table",
    media.Image: "image-file",
    media.Html: "html-file",
    media.Plotly: "plotly-file",
    media.Histogram: "histogram",
}
KINDS = tuple(LOG_TYPES.values())
_MEDIA_DIRS = {"image-file": "media/images", "html-file": "media/html", "plotly-file": "media/plotly"}

Fetch = Callable[[str], Path]  # a media file's path in the artifact -> its local copy


def log_type_of(obj: Any) -> str:
    for cls, log_type in LOG_TYPES.items():
        if isinstance(obj, cls):
            return log_type
    raise TypeError(
        f"artifact.add takes a strata.Table, Image, Html, Plotly or Histogram, not {type(obj).__name__}"
        " (add files with add_file / new_file)"
    )


def with_suffix(name: str, log_type: str) -> str:
    """W&B's file name of a value: "preds" -> "preds.table.json" (a name with the suffix is kept)."""
    suffix = f".{log_type}.json"
    return name if name.endswith(suffix) else name + suffix


def object_name(path: str) -> str | None:
    """The value name of an artifact file ("preds.table.json" -> "preds"), None for other files."""
    for log_type in KINDS:
        suffix = f".{log_type}.json"
        if path.endswith(suffix) and len(path) > len(suffix):
            return path[: -len(suffix)]
    return None


class Encoder:
    """Turns a value into its JSON document; the media files it needs collect in `files`."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.files: dict[str, bytes] = {}  # path in the artifact -> bytes

    def document(self, obj: media.Media) -> bytes:
        return json.dumps(self.encode(obj), separators=(",", ":"), sort_keys=True).encode()

    def encode(self, obj: media.Media) -> dict[str, Any]:
        log_type = log_type_of(obj)
        if isinstance(obj, media.Table):
            return self._table(obj)
        if isinstance(obj, media.Histogram):
            doc = json.loads(obj.check(self.key).encode().data)
            return {"_type": log_type, "values": doc["counts"], "bins": doc["edges"]}
        encoded = obj.check(self.key).encode()
        out: dict[str, Any] = {"_type": log_type}
        if isinstance(obj, media.Image):
            fmt = encoded.metadata.get("format", "unknown")
            ext = {"jpeg": "jpg", "unknown": "bin"}.get(fmt, fmt)
            out.update(
                {k: encoded.metadata[k] for k in ("width", "height", "caption") if k in encoded.metadata}
            )
            out["format"] = fmt
        else:
            ext = "html" if log_type == "html-file" else "plotly.json"
        sha = hashlib.sha256(encoded.data).hexdigest()
        path = f"{_MEDIA_DIRS[log_type]}/{sha[:20]}.{ext}"
        self.files[path] = encoded.data
        return {**out, "path": path, "sha256": sha, "size": len(encoded.data)}

    def _table(self, table: media.Table) -> dict[str, Any]:
        table.check(self.key)  # columns, ragged rows, size; snapshots the rows
        assert table.columns is not None
        if table.dataframe is not None:
            rows = table.dataframe.to_numpy(dtype=object).tolist()
        else:
            rows = table._rows or []
        data = [[self._cell(c) for c in row] for row in rows]
        columns = list(table.columns)
        return {"_type": "table", "columns": columns, "data": data, "ncols": len(columns), "nrows": len(data)}

    def _cell(self, value: Any) -> Any:
        if value is None or isinstance(value, (bool, str, int, float)):
            return value
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, (list, tuple)):
            return [self._cell(v) for v in value]
        if isinstance(value, dict):
            return {str(k): self._cell(v) for k, v in value.items()}
        if isinstance(value, media.Media) and not isinstance(value, media.Table):
            return self.encode(value)
        if type(value).__name__ in ("NAType", "NaTType"):  # pandas' missing values
            return None
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return str(value)


def media_paths(doc: Any) -> list[str]:
    """The media files a document refers to (its own, or its cells'), in order of first mention."""
    found: dict[str, None] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("_type") in _MEDIA_DIRS and isinstance(node.get("path"), str):
                found[node["path"]] = None
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    return list(found)


def decode(doc: Any, fetch: Fetch) -> media.Media:
    """The value a document describes; `fetch` gives the local copy of a media file it refers to."""
    if not isinstance(doc, dict) or doc.get("_type") not in KINDS:
        kind = doc.get("_type") if isinstance(doc, dict) else type(doc).__name__
        raise ValueError(f"not a value Strata reads back: {kind!r}")
    log_type = doc["_type"]
    if log_type == "table":
        data = [[_uncell(c, fetch) for c in row] for row in doc.get("data", [])]
        return media.Table(columns=list(doc.get("columns", [])), data=data)
    if log_type == "histogram":
        hist = media.Histogram(np_histogram=(doc["values"], doc["bins"]))
        vars(hist).update(histogram=doc["values"], bins=doc["bins"])  # W&B's attribute names, too
        return hist
    local = fetch(doc["path"])
    if log_type == "image-file":
        return media.Image(local, caption=doc.get("caption"))
    if log_type == "html-file":
        html = media.Html(local.read_text(encoding="utf-8"))
        vars(html)["html"] = html.data  # W&B's attribute name, too
        return html
    return media.Plotly(json.loads(local.read_text(encoding="utf-8")))


def _uncell(value: Any, fetch: Fetch) -> Any:
    if isinstance(value, dict):
        if value.get("_type") in KINDS and value.get("_type") != "table":
            return decode(value, fetch)
        return {k: _uncell(v, fetch) for k, v in value.items()}
    if isinstance(value, list):
        return [_uncell(v, fetch) for v in value]
    return value
