"""Reading a run's rich values: `api.run(path).media(key)`, `.media_keys()`, `.table(key)`.

    run = strata.Api().run("me/vision/abc123")
    for value in run.media("samples", min_step=100):      # latest step first
        print(value.step, value.type, value.metadata)     # metadata: width/height, table shape, bins
        value.download("out/")                            # verified, resumable, through the cache
        img = value.image()                               # a PIL image (needs Pillow)
    df = run.table("predictions").to_dataframe()          # needs pandas
    hist = run.media("weights")[0].metadata               # {"counts": [...], "edges": [...]}

Bytes are read through the run (ReadMedia), with the same verified, cached transfer path as artifact
and run files.
"""

from __future__ import annotations

import io
import json
from functools import partial
from pathlib import Path
from typing import Any

from strata.client import Client
from strata.ingest.v1 import media_pb2
from strata.query.v1 import query_service_pb2 as q

from ._transfer_common import Retrier
from ._transfer_download import RpcBlob
from ._transfer_progress import make_progress
from .transfer import BlobCache, materialize

READ_MEDIA = "/strata.query.v1.QueryService/ReadMedia"
TYPE_NAMES = {
    media_pb2.MEDIA_TYPE_IMAGE: "image",
    media_pb2.MEDIA_TYPE_PLOTLY: "plotly",
    media_pb2.MEDIA_TYPE_HTML: "html",
    media_pb2.MEDIA_TYPE_TABLE: "table",
    media_pb2.MEDIA_TYPE_HISTOGRAM: "histogram",
    media_pb2.MEDIA_TYPE_TEXT: "text",
    media_pb2.MEDIA_TYPE_AUDIO: "audio",
    media_pb2.MEDIA_TYPE_VIDEO: "video",
}
_SUFFIX = {
    "plotly": ".plotly.json",
    "html": ".html",
    "table": ".table.json",
    "histogram": ".hist.json",
    "text": ".txt",
}


def media_blob(client: Client, run: str, sha256: str) -> RpcBlob:
    """A media value's bytes, read through its run (ReadMedia): a transfer Source."""
    return RpcBlob(client, READ_MEDIA, partial(q.ReadMediaRequest, run=run, sha256=sha256))


class MediaValue:
    """One logged rich value: key, step, index (in a list logged at one step), type, metadata."""

    def __init__(self, client: Client, run: str, entry: media_pb2.MediaEntry) -> None:
        self._client, self._run = client, run
        self.key, self.step, self.index = entry.key, entry.step, entry.index
        self.type = TYPE_NAMES.get(entry.type, "unspecified")
        self.sha256, self.size = entry.blob.sha256, entry.blob.size
        self.metadata: dict[str, Any] = json.loads(entry.metadata_json) if entry.metadata_json else {}

    def __repr__(self) -> str:
        return f"<MediaValue {self.key}@{self.step}[{self.index}] {self.type} {self.size} bytes>"

    def _default_name(self) -> str:
        if self.type in ("image", "audio", "video"):  # the format the bytes are in: png, wav, mp4, ...
            suffix = "." + str(self.metadata.get("format") or {"image": "png"}.get(self.type, "bin"))
        else:
            suffix = _SUFFIX.get(self.type, "")
        return f"{self.key.replace('/', '_')}_{self.step}_{self.index}{suffix}"

    def download(self, root: str | Path = ".", name: str | None = None) -> Path:
        """Write the value's bytes to root/name (default name from key, step and type); verified,
        resumable, and through the client's blob cache."""
        dest = Path(root) / (name or self._default_name())
        cache = BlobCache.default()
        with make_progress(self.size, dest.name, False) as bar:
            source = media_blob(self._client, self._run, self.sha256)
            materialize(source, self.sha256, self.size, dest, cache, bar, Retrier(self._client.retry))
        if cache is not None:
            cache.close()
        return dest

    def read_bytes(self) -> bytes:
        data = bytearray()
        for _, piece in media_blob(self._client, self._run, self.sha256).read(0, 0):
            data += piece
        return bytes(data)

    def image(self) -> Any:
        """The image as a PIL image (needs Pillow)."""
        try:
            from PIL import Image
        except ImportError as e:
            raise ImportError("MediaValue.image() needs Pillow: pip install pillow") from e
        return Image.open(io.BytesIO(self.read_bytes()))

    def json(self) -> Any:
        """A Plotly figure's, table's or histogram's JSON document."""
        return json.loads(self.read_bytes())

    def text(self) -> str:
        """An HTML document or a text value."""
        return self.read_bytes().decode("utf-8")


class MediaTable:
    """A table read as columns (GetMediaTable)."""

    def __init__(self, resp: q.GetMediaTableResponse) -> None:
        self.step = resp.entry.step
        self.columns = [c.name for c in resp.columns]
        self.values: dict[str, list[Any]] = {c.name: json.loads(c.values_json) for c in resp.columns}
        self.rows = resp.rows

    @property
    def data(self) -> list[list[Any]]:
        return [[self.values[c][i] for c in self.columns] for i in range(self.rows)]

    def to_dataframe(self) -> Any:
        from .api import _pandas

        return _pandas().DataFrame({c: self.values[c] for c in self.columns}, columns=self.columns)


def media_keys(client: Client, run: str) -> list[dict[str, Any]]:
    resp = client.query.ListMediaKeys(q.ListMediaKeysRequest(run=run))
    return [
        {
            "key": k.key,
            "type": TYPE_NAMES.get(k.type, "unspecified"),
            "count": k.count,
            "first_step": k.first_step,
            "last_step": k.last_step,
        }
        for k in resp.keys
    ]


def media(
    client: Client, run: str, key: str, min_step: int | None = None, max_step: int | None = None
) -> list[MediaValue]:
    out: list[MediaValue] = []
    token = ""
    while True:
        req = q.ListMediaRequest(run=run, key=key, page_size=1000, page_token=token)
        if min_step is not None:
            req.min_step = min_step
        if max_step is not None:
            req.max_step = max_step
        resp = client.query.ListMedia(req)
        out += [MediaValue(client, run, e) for e in resp.entries]
        token = resp.next_page_token
        if not token:
            return out


def table(client: Client, run: str, key: str, step: int | None = None, index: int = 0) -> MediaTable:
    req = q.GetMediaTableRequest(run=run, key=key, index=index)
    if step is not None:
        req.step = step
    return MediaTable(client.query.GetMediaTable(req))
