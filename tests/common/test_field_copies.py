"""The shared conversion rules: same-named fields copied between messages, dataclasses and rows (no
field ever left at its default silently), and a List call's paging checked size first, then token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from strata.errors import Reason
from strata.iam.v1 import iam_pb2
from strata.query.v1 import query_pb2
from strata.wire.fields import dataclass_from, field_names, message_from
from strata_server.common.errors import InvalidArgument
from strata_server.common.paging import encode, page_request
from strata_server.common.rows import dataclass_from_row, message_from_row, timestamps
from strata_server.query.search.domain import Group

GROUP = Group('"a"', 3, 2, 0.5, 0.1, 0.9)


def test_message_from_copies_every_field_and_takes_the_given_ones_as_they_are() -> None:
    msg = message_from(query_pb2.RunGroup, GROUP, run_count=7)
    assert (msg.value_json, msg.run_count, msg.metric_count) == ('"a"', 7, 2)
    assert (msg.mean, msg.min, msg.max) == (0.5, pytest.approx(0.1), pytest.approx(0.9))


def test_dataclass_from_round_trips_a_message() -> None:
    assert dataclass_from(Group, message_from(query_pb2.RunGroup, GROUP)) == Group(
        '"a"', 3, 2, 0.5, pytest.approx(0.1), pytest.approx(0.9)
    )
    assert field_names(Group) == field_names(query_pb2.RunGroup)


def test_a_field_the_source_lacks_is_an_error_not_a_default() -> None:
    @dataclass(frozen=True)
    class Short:
        value_json: str

    with pytest.raises(AttributeError):
        message_from(query_pb2.RunGroup, Short("x"))
    with pytest.raises(AttributeError):
        dataclass_from(Group, Short("x"))


def test_rows_fill_messages_by_column_and_null_times_stay_unset() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    row = {"name": "ada", "display_name": "Ada", "email": "a@x", "server_admin": True, "create_time": when}
    user = message_from_row(iam_pb2.User, row, name="entities/ada", **timestamps(row, "create_time"))
    assert (user.name, user.display_name, user.email, user.server_admin) == (
        "entities/ada",
        "Ada",
        "a@x",
        True,
    )
    assert user.create_time.ToDatetime(tzinfo=timezone.utc) == when
    unset = message_from_row(
        iam_pb2.User, {**row, "create_time": None}, **timestamps({"create_time": None}, "create_time")
    )
    assert not unset.HasField("create_time")
    with pytest.raises(KeyError):
        dataclass_from_row(Group, {"value_json": "x"})


def test_page_request_checks_the_size_before_the_token() -> None:
    query = ("things", "entities/e/projects/p")
    with pytest.raises(InvalidArgument) as e:
        page_request(query, -1, "not a token", str, 50, 500)
    assert (e.value.field, e.value.reason) == ("page_size", Reason.OUT_OF_RANGE)
    with pytest.raises(InvalidArgument) as e:
        page_request(query, 0, encode("k", ("other", "query")), str, 50, 500)
    assert (e.value.field, e.value.reason) == ("page_token", Reason.INVALID_PAGE_TOKEN)
    paging = page_request(query, 1000, encode("k", query), str, 50, 500)
    assert (paging.limit, paging.position) == (500, "k")
    one = page_request(query, 1, "", str, 50, 500)
    assert one.position is None
    assert one.page(["k1", "k2"], lambda x: x) == (["k1"], encode("k1", query))
