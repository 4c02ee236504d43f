"""Who may do what with reports (readers read, members create and edit, admins delete), and a viewer
never sees runs of a project they may not read: a runset naming one is PERMISSION_DENIED."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from strata.errors import Reason
from strata.iam.v1 import iam_pb2
from strata.reports.v1 import report_pb2 as rp
from strata.reports.v1 import reports_service_pb2 as rs

from tests.fixtures.errors import expect
from tests.reports.helpers import create, curves_project, markdown

SHARED = "entities/alpha/projects/shared"
SECRET = "entities/beta/projects/secret"


@pytest.fixture(scope="module")
def world(keys_server) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    ks = keys_server
    keys = {name: ks.user(name) for name in ("ana", "mel", "val", "bea")}
    ks.team("alpha", admin=keys["ana"], members={"mel": iam_pb2.ROLE_MEMBER, "val": iam_pb2.ROLE_VIEWER})
    ks.team("beta", admin=keys["bea"])
    ks.project("alpha", "shared", as_key=keys["ana"])
    ks.project("beta", "secret", as_key=keys["bea"])
    ks.run(curves_project(ks.deps.pool, "alpha", "shared", runs=3))
    ks.run(curves_project(ks.deps.pool, "beta", "secret", runs=3))
    return {"ks": ks, **{name: ks.client(key) for name, key in keys.items()}}


def _table(project: str = "") -> rp.Block:
    panel = rp.Panel(runs_table=rp.RunsTable(columns=["name"]))
    return rp.Block(panel_grid=rp.PanelGrid(runsets=[rp.Runset(project=project)], panels=[panel]))


def _panel(client: Any, name: str) -> rp.PanelData:
    return client.reports.GetPanelData(rs.GetPanelDataRequest(report=name, block=0)).data


def test_readers_read_members_edit_admins_delete(world) -> None:  # type: ignore[no-untyped-def]
    denied = (grpc.StatusCode.PERMISSION_DENIED, Reason.PERMISSION_DENIED)
    expect(lambda: create(world["val"], SHARED), *denied)
    made = create(world["mel"], SHARED, blocks=[_table()])
    assert world["val"].reports.GetReport(rs.GetReportRequest(name=made.name)).report.revision == 1
    assert [r.display_name for r in _panel(world["val"], made.name).rows] == [
        "shared-2",
        "shared-1",
        "shared-0",
    ]
    edit = rs.UpdateReportRequest(
        report=rp.Report(name=made.name, revision=1, blocks=[markdown("x")]),
        update_mask=field_mask_pb2.FieldMask(paths=["blocks"]),
    )
    expect(lambda: world["val"].reports.UpdateReport(edit), *denied)
    expect(lambda: world["bea"].reports.GetReport(rs.GetReportRequest(name=made.name)), *denied)
    expect(lambda: world["mel"].reports.DeleteReport(rs.DeleteReportRequest(name=made.name)), *denied)
    world["ana"].reports.DeleteReport(rs.DeleteReportRequest(name=made.name))


def test_a_runset_of_a_project_the_viewer_cannot_read_is_denied(world) -> None:  # type: ignore[no-untyped-def]
    # the server admin writes a report in alpha/shared whose runset reads beta/secret
    made = create(world["ks"].client(), SHARED, blocks=[_table(SECRET)])
    for viewer in ("val", "mel", "ana"):
        expect(
            lambda v=viewer: _panel(world[v], made.name),
            grpc.StatusCode.PERMISSION_DENIED,
            Reason.PERMISSION_DENIED,
        )
    # the runs are there: someone who may read both projects sees them
    assert len(_panel(world["ks"].client(), made.name).rows) == 3
