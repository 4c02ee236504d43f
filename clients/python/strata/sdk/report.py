"""Reports from Python: a document of headings, Markdown, run tables and charts whose data the server
computes from live runs each time it is viewed.

    import strata
    report = strata.Report(project="text-classifier", title="BERT Finetuning Results: Week 6",
                           description="Comparison of learning rates and batch sizes")
    report.blocks = [
        strata.report.PanelGrid(
            runsets=[strata.report.Runset(filters={"state": "finished"})],
            panels=[strata.report.LinePlot(x="_step", y=["train/loss", "val/loss"],
                                           groupby="config.learning_rate")]),
        strata.report.MarkdownBlock("Dropout 0.3 fixed the overfitting."),
    ]
    report.save()                                  # a new revision on every save
    print(report.url)                              # its page in the web console
    again = strata.Api().report(report.url)        # load, edit, save again
    again.export_markdown()                        # headings, Markdown, run tables as Markdown tables
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from google.protobuf import field_mask_pb2

from strata.reports.v1 import report_pb2 as rp
from strata.reports.v1 import reports_service_pb2 as rs

from ._urls import web_url
from .report_spec import Block, PanelGrid, block_from_pb

if TYPE_CHECKING:
    from .api import Api

_URL_RE = re.compile(r"/p/([^/]+)/([^/]+)/reports/([^/?#]+)")
_NAME_RE = re.compile(r"^entities/[^/]+/projects/[^/]+/reports/[^/]+$")


def report_url(name: str) -> str:
    """The console page of a report: $STRATA_WEB_URL/p/<entity>/<project>/reports/<id>."""
    parts = name.split("/")
    return f"{web_url()}/p/{parts[1]}/{parts[3]}/reports/{parts[5]}"


def report_name(api: Api, url_or_name: str) -> str:
    """A report's resource name from its console URL, its resource name, or "entity/project/id"."""
    m = _URL_RE.search(url_or_name)
    if m:
        return f"entities/{m.group(1)}/projects/{m.group(2)}/reports/{m.group(3)}"
    if _NAME_RE.match(url_or_name):
        return url_or_name
    parts = url_or_name.strip("/").replace("/reports/", "/").split("/")
    if len(parts) in (2, 3):
        return f"{api._parent('/'.join(parts[:-1]))}/reports/{parts[-1]}"
    raise ValueError(f"expected a report URL, resource name or 'entity/project/id', got {url_or_name!r}")


class Report:
    """A report of a project. `blocks` is a list of strata.report blocks; `save()` creates the report
    or saves a new revision of it (ABORTED / STALE_REVISION when someone else saved in between)."""

    def __init__(
        self,
        project: str | None = None,
        title: str = "",
        description: str = "",
        blocks: Sequence[Block] | None = None,
        *,
        entity: str | None = None,
        api: Api | None = None,
    ) -> None:
        from .api import Api

        self._api = api or Api()
        path = f"{entity}/{project}" if entity and project else project
        self.parent = self._api._parent(path)
        self.title = title
        self.description = description
        self.blocks: list[Block] = list(blocks or [])
        self.name = ""
        self.revision = 0

    @classmethod
    def from_pb(cls, api: Api, message: rp.Report) -> Report:
        parent = message.name.rpartition("/reports/")[0]
        report = cls(parent, message.title, message.description, api=api)
        report.blocks = [b for b in (block_from_pb(m) for m in message.blocks) if b is not None]
        report.name, report.revision = message.name, message.revision
        return report

    @property
    def id(self) -> str:
        return self.name.rpartition("/")[2]

    @property
    def url(self) -> str:
        if not self.name:
            raise ValueError("the report has no URL until it is saved (report.save())")
        return report_url(self.name)

    def to_pb(self) -> rp.Report:
        return rp.Report(
            name=self.name, title=self.title, description=self.description, revision=self.revision,
            blocks=[b.to_pb() for b in self.blocks],
        )  # fmt: skip

    def save(self) -> Report:
        """Create the report, or save its current fields as a new revision."""
        reports = self._api.client.reports
        if not self.name:
            made = reports.CreateReport(
                rs.CreateReportRequest(parent=self.parent, report=self.to_pb())
            ).report
        else:
            mask = field_mask_pb2.FieldMask(paths=["title", "description", "blocks"])
            made = reports.UpdateReport(rs.UpdateReportRequest(report=self.to_pb(), update_mask=mask)).report
        self.name, self.revision = made.name, made.revision
        return self

    def reload(self) -> Report:
        got = self._api.client.reports.GetReport(rs.GetReportRequest(name=self.name)).report
        fresh = Report.from_pb(self._api, got)
        self.title, self.description, self.blocks = fresh.title, fresh.description, fresh.blocks
        self.revision = fresh.revision
        return self

    def delete(self) -> None:
        self._api.client.reports.DeleteReport(rs.DeleteReportRequest(name=self.name))

    def revisions(self) -> list[rp.ReportRevision]:
        """Every saved revision, newest first (who saved it, when, and its content)."""
        out, token = [], ""
        while True:
            req = rs.ListReportRevisionsRequest(parent=self.name, page_size=1000, page_token=token)
            page = self._api.client.reports.ListReportRevisions(req)
            out += list(page.revisions)
            token = page.next_page_token
            if not token:
                return out

    def revert(self, revision: int) -> Report:
        """Save revision `revision`'s content as a new revision."""
        req = rs.RevertReportRequest(name=self.name, revision=revision, expected_revision=self.revision)
        self._api.client.reports.RevertReport(req)
        return self.reload()

    def panel_data(self, block: int, panel: int) -> rp.PanelData:
        """One panel's data, computed by the server from the runs as they are now."""
        req = rs.GetPanelDataRequest(report=self.name, block=block, panel=panel)
        return self._api.client.reports.GetPanelData(req).data

    def panels(self) -> Iterator[tuple[int, int, Any, rp.PanelData]]:
        """(block index, panel index, panel, its data) for every panel of the saved report."""
        for i, block in enumerate(self.blocks):
            if isinstance(block, PanelGrid):
                for j, panel in enumerate(block.panels):
                    yield i, j, panel, self.panel_data(i, j)

    def export_markdown(self, top: int | None = None) -> str:
        from .report_export import to_markdown

        return to_markdown(self, top)

    def export_html(self) -> str:
        from .report_export import to_html

        return to_html(self)

    def __repr__(self) -> str:
        return f"<Report {self.name or self.parent} {self.title!r} rev {self.revision}>"


class ReportsApi:
    """`Api.reports(project)` and `Api.report(url_or_name)` (mixed into strata.Api)."""

    def reports(self: Any, project: str | None = None) -> list[Report]:
        """A project's reports, newest first (their blocks are loaded by `api.report(r.url)`)."""
        parent, out, token = self._parent(project), [], ""
        while True:
            req = rs.ListReportsRequest(parent=parent, page_size=1000, page_token=token)
            page = self.client.reports.ListReports(req)
            out += [Report.from_pb(self, m) for m in page.reports]
            token = page.next_page_token
            if not token:
                return out

    def report(self: Any, url_or_name: str) -> Report:
        """One report, by its console URL, resource name or "entity/project/id", ready to edit and save."""
        name = report_name(self, url_or_name)
        return Report.from_pb(self, self.client.reports.GetReport(rs.GetReportRequest(name=name)).report)
