"""The checked JSON parser and the free-text checker every service uses (no server needed)."""

from __future__ import annotations

import pytest
from strata.errors import Reason
from strata_server.common import jsonvalue, paging, text
from strata_server.common.errors import InvalidArgument


def refused(call, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidArgument) as e:
        call()
    assert (e.value.field, e.value.reason) == ("f", reason)


@pytest.mark.parametrize(
    ("doc", "value"),
    [
        ('{"a": "\\ud83d\\ude00"}', {"a": "\U0001f600"}),  # a surrogate pair is one character
        ('{"a": "\\\\u0000"}', {"a": "\\u0000"}),  # an escaped backslash, not U+0000
        ('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', None),
        ("[" * 64 + "]" * 64, None),
        ('{"a": 9223372036854775807, "b": -9223372036854775808, "c": 1.7976931348623157e308}', None),
        ('{"a": 1e-400}', {"a": 0.0}),
    ],
)
def test_accepted(doc: str, value: object) -> None:
    parsed = jsonvalue.parse(doc, "f")
    if value is not None:
        assert parsed == value


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ("[" * 65 + "]" * 65, Reason.TOO_LARGE),
        ("[" * 1_000_000, Reason.TOO_LARGE),
        ("{" + '"a":{' * 100_000, Reason.TOO_LARGE),
        ('{"a": 9223372036854775808}', Reason.OUT_OF_RANGE),
        ('{"a": -9223372036854775809}', Reason.OUT_OF_RANGE),
        ('{"a": 1.8e308}', Reason.OUT_OF_RANGE),
        ('{"a": ' + "9" * 5000 + "}", Reason.OUT_OF_RANGE),
        ('{"a": NaN}', Reason.INVALID_JSON),
        ('{"a": "\\u0000"}', Reason.INVALID_JSON),
        ('{"a": "\\uDC00x"}', Reason.INVALID_JSON),
        ('["\\ud800"]', Reason.INVALID_JSON),
        ('{"a": 1} x', Reason.INVALID_JSON),
    ],
)
def test_refused(doc: str, reason: str) -> None:
    refused(lambda: jsonvalue.parse(doc, "f"), reason)


def test_size_and_type() -> None:
    refused(lambda: jsonvalue.parse('"' + "x" * 100 + '"', "f", max_bytes=50), Reason.TOO_LARGE)
    refused(lambda: jsonvalue.parse_object("[1]", "f"), Reason.INVALID_JSON)


def test_text() -> None:
    assert text.check("héllo", "f", 5) == "héllo"
    refused(lambda: text.check("x" * 6, "f", 5), Reason.TOO_LARGE)
    refused(lambda: text.check("a\x00", "f", 5), Reason.INVALID_TEXT)
    refused(lambda: text.check("a\ud800", "f", 5), Reason.INVALID_TEXT)
    refused(lambda: text.check_bytes("ééé", "f", 5), Reason.TOO_LARGE)


def test_pages_stop_at_the_byte_budget() -> None:
    rows = [{"name": f"p{i}", "description": "d" * 1000} for i in range(10)]
    kept, token = paging.page(rows, 100, lambda r: r["name"], {"q": 1}, budget=3500)
    assert [r["name"] for r in kept] == ["p0", "p1", "p2"] and token
    assert paging.decode(token, {"q": 1}) == "p2"
    one, token = paging.page([{"d": "x" * 10_000}], 100, lambda r: r["d"], {}, budget=10)
    assert len(one) == 1 and token == ""  # at least one item, and the end is the end
