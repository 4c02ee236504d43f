"""Reports and their revisions: create, read, save against a revision (a stale one is refused), list
(paged), revisions (history, get, revert), delete; every change leaves an audit event."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from strata.errors import Reason
from strata.reports.v1 import report_pb2 as rp
from strata.reports.v1 import reports_service_pb2 as rs

from tests.fixtures import query as fx
from tests.fixtures.errors import expect
from tests.reports.helpers import create, markdown

PARENT = "entities/docs/projects/p"


@pytest.fixture(scope="module")
def client(server):  # type: ignore[no-untyped-def]
    server.run(fx.create_project(server.deps.pool, "docs", "p"))
    return server.client()


def _update(client: Any, name: str, revision: int, paths: list[str], **fields: Any) -> rp.Report:
    report = rp.Report(name=name, revision=revision, **fields)
    mask = field_mask_pb2.FieldMask(paths=paths)
    return client.reports.UpdateReport(rs.UpdateReportRequest(report=report, update_mask=mask)).report


def test_create_get_and_update_keep_every_revision(client) -> None:  # type: ignore[no-untyped-def]
    made = create(client, PARENT, "Week 6", [markdown("v1")])
    assert made.name.startswith(PARENT + "/reports/") and made.revision == 1
    assert made.creator.name and made.HasField("create_time")
    got = client.reports.GetReport(rs.GetReportRequest(name=made.name)).report
    assert got.blocks[0].markdown.text == "v1" and got.title == "Week 6"
    saved = _update(client, made.name, 1, ["blocks"], blocks=[markdown("v2")])
    assert (saved.revision, saved.title, saved.blocks[0].markdown.text) == (2, "Week 6", "v2")
    saved = _update(client, made.name, 2, ["title"], title="Week 7")
    assert (saved.revision, saved.title, saved.blocks[0].markdown.text) == (3, "Week 7", "v2")
    history = client.reports.ListReportRevisions(rs.ListReportRevisionsRequest(parent=made.name))
    assert [r.revision for r in history.revisions] == [3, 2, 1]
    assert [r.action for r in history.revisions] == ["update", "update", "create"]
    assert all(r.author.name and r.HasField("create_time") for r in history.revisions)
    first = client.reports.GetReportRevision(rs.GetReportRevisionRequest(name=f"{made.name}/revisions/1"))
    assert first.revision.report.blocks[0].markdown.text == "v1" and first.revision.report.title == "Week 6"


def test_an_edit_from_a_stale_revision_is_aborted(client) -> None:  # type: ignore[no-untyped-def]
    made = create(client, PARENT)
    _update(client, made.name, 1, ["blocks"], blocks=[markdown("alice")])  # alice saves first
    err = expect(
        lambda: _update(client, made.name, 1, ["blocks"], blocks=[markdown("bob")]),
        grpc.StatusCode.ABORTED,
        Reason.STALE_REVISION,
    )
    assert err.code == grpc.StatusCode.ABORTED
    got = client.reports.GetReport(rs.GetReportRequest(name=made.name)).report
    assert (got.revision, got.blocks[0].markdown.text) == (2, "alice")  # bob's edit wrote nothing
    expect(
        lambda: _update(client, made.name, 0, ["blocks"], blocks=[]),
        grpc.StatusCode.INVALID_ARGUMENT,
        Reason.FIELD_REQUIRED,
        "report.revision",
    )


def test_revert_saves_an_old_revision_as_a_new_one(client) -> None:  # type: ignore[no-untyped-def]
    made = create(client, PARENT, "orig", [markdown("one")])
    _update(client, made.name, 1, [], title="changed", blocks=[markdown("two")])
    reverted = client.reports.RevertReport(rs.RevertReportRequest(name=made.name, revision=1)).report
    assert (reverted.revision, reverted.title, reverted.blocks[0].markdown.text) == (3, "orig", "one")
    history = client.reports.ListReportRevisions(rs.ListReportRevisionsRequest(parent=made.name))
    assert (history.revisions[0].action, history.revisions[0].reverted_from) == ("revert", 1)
    expect(
        lambda: client.reports.RevertReport(
            rs.RevertReportRequest(name=made.name, revision=1, expected_revision=2)
        ),
        grpc.StatusCode.ABORTED,
        Reason.STALE_REVISION,
    )
    expect(
        lambda: client.reports.RevertReport(rs.RevertReportRequest(name=made.name, revision=9)),
        grpc.StatusCode.NOT_FOUND,
        Reason.NOT_FOUND,
    )


def test_list_pages_newest_first_and_delete_removes(server, client) -> None:  # type: ignore[no-untyped-def]
    server.run(fx.create_project(server.deps.pool, "docs", "listing"))
    parent = "entities/docs/projects/listing"
    names = [create(client, parent, f"r{i}").name for i in range(5)]
    seen, token = [], ""
    while True:
        page = client.reports.ListReports(rs.ListReportsRequest(parent=parent, page_size=2, page_token=token))
        assert len(page.reports) <= 2 and all(not r.blocks for r in page.reports)
        seen += [r.name for r in page.reports]
        token = page.next_page_token
        if not token:
            break
    assert seen == names[::-1]
    client.reports.DeleteReport(rs.DeleteReportRequest(name=names[0]))
    expect(
        lambda: client.reports.GetReport(rs.GetReportRequest(name=names[0])),
        grpc.StatusCode.NOT_FOUND,
        Reason.NOT_FOUND,
    )
    left = client.reports.ListReports(rs.ListReportsRequest(parent=parent)).reports
    assert [r.name for r in left] == names[:0:-1]


def test_every_change_is_audited(server, client) -> None:  # type: ignore[no-untyped-def]
    made = create(client, PARENT, "audited")
    _update(client, made.name, 1, ["title"], title="audited 2")
    client.reports.RevertReport(rs.RevertReportRequest(name=made.name, revision=1))
    client.reports.DeleteReport(rs.DeleteReportRequest(name=made.name))

    async def actions() -> list[str]:
        async with server.deps.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT action FROM audit_events WHERE target = $1 ORDER BY id", made.name
            )
        return [r["action"] for r in rows]

    assert server.run(actions()) == ["report.create", "report.update", "report.revert", "report.delete"]
