"""Bad rich values raise in run.log, naming the key, and log nothing of that call; the server's limits
(image over 50 MB, table over 1 M cells, a key that holds scalars, and the reverse) answer
INVALID_ARGUMENT with the field and write nothing."""

from __future__ import annotations

import hashlib
import json

import grpc
import numpy as np
import pytest
import strata
from strata.common.v1 import blob_pb2
from strata.errors import StrataError
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import media_pb2
from strata.query.v1 import query_service_pb2 as q

from tests.fixtures.servers import ServerThread
from tests.fixtures.wait import poll_until

pytestmark = [pytest.mark.usefixtures("spool"), pytest.mark.timeout(120)]

BAD = [
    ("unsupported", object(), TypeError),
    ("ragged", strata.Table(columns=["a", "b"], data=[[1, 2], [3]]), ValueError),
    ("nan_image", strata.Image(np.array([[0.5, np.nan]])), ValueError),
    ("bad_shape", strata.Image(np.zeros((2, 2, 7))), ValueError),
    ("no_columns", strata.Table(data=[[1]]), TypeError),
    ("nan_hist", strata.Histogram([1.0, np.inf]), ValueError),
    ("bad_hist", strata.Histogram(np_histogram=([1, 2], [0, 1])), ValueError),
    ("bins", strata.Histogram([1.0], num_bins=10_000), ValueError),
    ("fig", strata.Plotly(42), TypeError),
    ("html", strata.Html(3), TypeError),  # type: ignore[arg-type]
    ("mixed", [strata.Html("a"), strata.Image(np.zeros((2, 2)))], TypeError),
    ("missing_file", strata.Image("/nonexistent/x.png"), ValueError),
]


def test_bad_values_raise_naming_the_key_and_log_nothing_of_the_call(server: ServerThread) -> None:
    run = strata.init(project="media-errors", entity="tester", addr=server.addr)
    for key, value, error in BAD:
        with pytest.raises(error, match=repr(key)):
            run.log({"fine": 1.0, "ok_text": "kept out too", key: value})
    run.log({"good": strata.Html("<i>ok</i>")})
    run.finish()
    r = strata.Api(addr=server.addr).run(run.path)
    assert [k["key"] for k in r.media_keys()] == ["good"]
    assert r.keys() == []


def test_a_key_holds_numbers_or_rich_values_never_both_in_the_sdk(server: ServerThread) -> None:
    run = strata.init(project="media-errors", entity="tester", addr=server.addr)
    run.log({"x": 1.0, "t": "text"})
    with pytest.raises(ValueError, match="'x'"):
        run.log({"x": "now text"})
    with pytest.raises(ValueError, match="'t'"):
        run.log({"t": 2.0})
    run.finish()


def _entry(
    key: str, kind: int, data: bytes, size: int | None = None, **metadata: object
) -> media_pb2.MediaEntry:
    return media_pb2.MediaEntry(
        key=key,
        step=0,
        type=kind,  # type: ignore[arg-type]
        blob=blob_pb2.BlobDigest(
            sha256=hashlib.sha256(data).hexdigest(), size=len(data) if size is None else size
        ),
        metadata_json=json.dumps(metadata),
    )


def _add(client, run: str, entries: list[media_pb2.MediaEntry]) -> StrataError:  # type: ignore[no-untyped-def]
    with pytest.raises(StrataError) as e:
        client.ingest.AddMediaEntries(pb.AddMediaEntriesRequest(run=run, entries=entries))
    return e.value


def _upload(client, parent: str, data: bytes) -> None:  # type: ignore[no-untyped-def]
    digest = blob_pb2.BlobDigest(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    client.ingest.BatchUploadBlobs(
        pb.BatchUploadBlobsRequest(parent=parent, blobs=[pb.BlobContent(digest=digest, data=data)])
    )


def test_server_limits_are_invalid_argument_with_the_field_and_write_nothing(server: ServerThread) -> None:
    client = server.client()
    run = strata.init(project="media-limits", entity="tester", addr=server.addr)
    run.log({"loss": 0.5})
    run.finish()
    ok = b"<p>fine</p>"
    _upload(client, run.parent, ok)
    good = _entry("fine", media_pb2.MEDIA_TYPE_HTML, ok)
    cases = [
        (
            _entry("big", media_pb2.MEDIA_TYPE_IMAGE, b"x", size=50_000_001),
            "entries[1].blob.size",
            "TOO_LARGE",
        ),
        (
            _entry("wide", media_pb2.MEDIA_TYPE_TABLE, ok, columns=["a"] * 1000, rows=1001),
            "entries[1].metadata_json",
            "TOO_LARGE",
        ),
        (_entry("loss", media_pb2.MEDIA_TYPE_HTML, ok), "entries[1].key", "CONFLICT"),
        (_entry("bad*key", media_pb2.MEDIA_TYPE_HTML, ok), "entries[1].key", "INVALID_NAME"),
        (_entry("k", 99, ok), "entries[1].type", "OUT_OF_RANGE"),
    ]
    for bad, field, reason in cases:
        err = _add(client, run.resource_name, [good, bad])
        assert (err.code, err.reason) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
        assert err.field == field
    missing = _add(client, run.resource_name, [_entry("m", media_pb2.MEDIA_TYPE_TEXT, b"never uploaded")])
    assert (missing.code, missing.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "BLOB_MISSING")
    keys = client.query.ListMediaKeys(q.ListMediaKeysRequest(run=run.resource_name)).keys
    assert list(keys) == []  # nothing of the refused calls was written
    added = client.ingest.AddMediaEntries(
        pb.AddMediaEntriesRequest(run=run.resource_name, entries=[good, good])
    )
    assert added.added == 1  # the same (key, step, index) twice: stored once; a replay adds nothing
    again = client.ingest.AddMediaEntries(pb.AddMediaEntriesRequest(run=run.resource_name, entries=[good]))
    assert again.added == 0


def test_a_scalar_logged_on_a_media_key_is_refused_by_the_server(server: ServerThread) -> None:
    """The reverse collision, from a second process of the run that does not know the key's kind."""
    first = strata.init(project="media-limits", entity="tester", addr=server.addr, id="rev1")
    first.log({"shared": strata.Html("<b>rich</b>")})
    first.finish()
    second = strata.init(project="media-limits", entity="tester", addr=server.addr, id="rev1", resume="allow")
    second.log({"shared": 1.0, "other": 2.0})
    second.finish(timeout=20)
    client = server.client()
    poll_until(
        lambda: client.ingest.GetRun(pb.GetRunRequest(name=second.resource_name)).run.state != 1, timeout=20
    )
    keys = [
        k.key for k in client.query.ListMetricKeys(q.ListMetricKeysRequest(run=second.resource_name)).keys
    ]
    assert "shared" not in keys
    media_keys = [
        k.key for k in client.query.ListMediaKeys(q.ListMediaKeysRequest(run=second.resource_name)).keys
    ]
    assert media_keys == ["shared"]


def test_read_errors(server: ServerThread) -> None:
    client = server.client()
    run = strata.init(project="media-limits", entity="tester", addr=server.addr)
    run.log({"h": strata.Html("x")})
    run.finish()
    with pytest.raises(StrataError) as e:
        client.query.ListMedia(q.ListMediaRequest(run=run.resource_name))
    assert (e.value.code, e.value.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "FIELD_REQUIRED")
    with pytest.raises(StrataError) as e:
        client.query.GetMediaTable(q.GetMediaTableRequest(run=run.resource_name, key="h"))
    assert e.value.code == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(StrataError) as e:
        list(client.query.ReadMedia(q.ReadMediaRequest(run=run.resource_name, sha256="0" * 64)))
    assert e.value.code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(StrataError) as e:
        client.query.ListMedia(q.ListMediaRequest(run=run.resource_name, key="h", page_token="garbage"))
    assert e.value.reason == "INVALID_PAGE_TOKEN"
