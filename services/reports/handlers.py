"""gRPC handlers of the reports service: proto <-> domain calls, nothing else."""

from __future__ import annotations

import grpc
from strata.reports.v1 import reports_service_pb2 as pb
from strata.reports.v1 import reports_service_pb2_grpc

from ..common.db import timeout_from
from ..common.deps import Deps
from . import convert
from .documents import domain as documents
from .panels import domain as panels

Ctx = grpc.aio.ServicerContext


class ReportsServiceHandlers(reports_service_pb2_grpc.ReportsServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def CreateReport(self, request: pb.CreateReportRequest, context: Ctx) -> pb.CreateReportResponse:
        row = await documents.create_report(self.deps, request.parent, convert.content(request.report))
        return pb.CreateReportResponse(report=convert.report_pb(row))

    async def GetReport(self, request: pb.GetReportRequest, context: Ctx) -> pb.GetReportResponse:
        row = await documents.get_report(self.deps.pool, request.name)
        return pb.GetReportResponse(report=convert.report_pb(row))

    async def UpdateReport(self, request: pb.UpdateReportRequest, context: Ctx) -> pb.UpdateReportResponse:
        current = await documents.get_report(self.deps.pool, request.report.name)
        edited = convert.content(convert.merged(current, request.report, request.update_mask))
        row = await documents.update_report(
            self.deps.pool, request.report.name, request.report.revision, edited
        )
        return pb.UpdateReportResponse(report=convert.report_pb(row))

    async def ListReports(self, request: pb.ListReportsRequest, context: Ctx) -> pb.ListReportsResponse:
        rows, token = await documents.list_reports(
            self.deps.pool, request.parent, request.page_size, request.page_token
        )
        reports = [convert.report_pb(r, blocks=False) for r in rows]
        return pb.ListReportsResponse(reports=reports, next_page_token=token)

    async def DeleteReport(self, request: pb.DeleteReportRequest, context: Ctx) -> pb.DeleteReportResponse:
        await documents.delete_report(self.deps.pool, request.name)
        return pb.DeleteReportResponse()

    async def ListReportRevisions(
        self, request: pb.ListReportRevisionsRequest, context: Ctx
    ) -> pb.ListReportRevisionsResponse:
        row, revisions, token = await documents.list_revisions(
            self.deps.pool, request.parent, request.page_size, request.page_token
        )
        return pb.ListReportRevisionsResponse(
            revisions=[convert.revision_pb(row, r) for r in revisions], next_page_token=token
        )

    async def GetReportRevision(
        self, request: pb.GetReportRevisionRequest, context: Ctx
    ) -> pb.GetReportRevisionResponse:
        row, revision = await documents.get_revision(self.deps.pool, request.name)
        return pb.GetReportRevisionResponse(revision=convert.revision_pb(row, revision))

    async def RevertReport(self, request: pb.RevertReportRequest, context: Ctx) -> pb.RevertReportResponse:
        row = await documents.revert_report(
            self.deps.pool, request.name, request.revision, request.expected_revision
        )
        return pb.RevertReportResponse(report=convert.report_pb(row))

    async def GetPanelData(self, request: pb.GetPanelDataRequest, context: Ctx) -> pb.GetPanelDataResponse:
        row = await documents.get_report(self.deps.pool, request.report)
        runsets, panel = convert.panel_of(row, request.block, request.panel)
        project = f"entities/{row.entity}/projects/{row.project}"
        result = await panels.panel_data(self.deps, project, runsets, panel, timeout_from(context))
        return convert.panel_data_pb(result)
