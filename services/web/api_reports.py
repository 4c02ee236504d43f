"""Reports: a project's reports, one report's typed spec as JSON, and one panel's data.

Each endpoint is one reports RPC. A panel's data is computed by the reports service when it is asked
for (GetPanelData), so the page always shows the runs as they are now. A panel whose runset names a
project the viewer may not read answers the service's PERMISSION_DENIED (403) for that panel alone;
the report itself, unreadable or missing, is 404 like every other resource.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strata.reports.v1 import report_pb2 as rp
from strata.reports.v1 import reports_service_pb2 as rs
from strata.wire import markdown as report_markdown

from . import convert
from .api_common import Json, call, finite, project_name
from .api_spec import OBJECT, declare, listing, obj, page, paged


def report_name(request: Request) -> str:
    return f"{project_name(request)}/reports/{request.path_params['report']}"


def spec(report: rp.Report) -> dict[str, Any]:
    """The report as JSON with the proto's field names (enums by name, e.g. "BAND_STDDEV"); each
    Markdown block also carries its `html` (strata.wire.markdown)."""
    out: dict[str, Any] = json_format.MessageToDict(report, preserving_proto_field_name=True)
    out["id"] = report.name.rsplit("/", 1)[-1]
    out.setdefault("blocks", [])
    for block in out["blocks"]:  # Markdown rendered as the HTML export renders it (raw HTML never passes)
        if "markdown" in block:
            block["markdown"]["html"] = report_markdown.to_html(block["markdown"].get("text", ""))
    return out


def cell(text: str) -> Any:
    value = convert.loads(text)
    return finite(value) if isinstance(value, float) else value


def numbers(values: Any) -> list[float | None]:
    return [finite(v) for v in values]


def series(s: rp.Series) -> dict[str, Any]:
    return {
        "key": s.key,
        "group": s.group,
        "run_count": s.run_count,
        "x": numbers(s.x),
        "y": numbers(s.y),
        "lower": numbers(s.lower),
        "upper": numbers(s.upper),
    }


def panel_data(d: rp.PanelData) -> dict[str, Any]:
    return {
        "series": [series(s) for s in d.series],
        "columns": list(d.columns),
        "rows": [
            {"run": r.run, "display_name": r.display_name, "values": [cell(v) for v in r.values]}
            for r in d.rows
        ],
        "labels": list(d.labels),
        "values": numbers(d.values),
        "run_count": d.run_count,
        "live": d.live,
    }


@declare(*paged(100, 1000), response=listing("reports"))
async def list_reports(request: Request) -> Response:
    """GET .../reports?page_size=&page_token=: the project's reports, newest first (ListReports)."""
    req = rs.ListReportsRequest(
        parent=project_name(request),
        **page(request),
    )
    resp = await call(request, "reports", "ListReports", req)
    return Json({"reports": [spec(r) for r in resp.reports], "next_page_token": resp.next_page_token})


@declare(response=obj(report=OBJECT))
async def get_report(request: Request) -> Response:
    """GET .../reports/{report}: the report's typed spec (title, description, blocks, revision) (GetReport)."""
    resp = await call(request, "reports", "GetReport", rs.GetReportRequest(name=report_name(request)))
    return Json({"report": spec(resp.report)})


@declare(response=obj(data=OBJECT))
async def get_panel(request: Request) -> Response:
    """GET .../reports/{report}/panels/{block}/{panel}: one panel's data, computed now (GetPanelData).
    A runset naming a project the caller may not read answers 403 PERMISSION_DENIED."""
    p = request.path_params
    req = rs.GetPanelDataRequest(report=report_name(request), block=p["block"], panel=p["panel"])
    # reading=False: a refused runset is the panel's own message (403), not "the report is missing".
    resp = await call(request, "reports", "GetPanelData", req, reading=False)
    return Json({"data": panel_data(resp.data)})


PREFIX = "/api/v1/projects/{entity}/{project}/reports"
ROUTES = [
    Route(PREFIX, list_reports),
    Route(f"{PREFIX}/{{report}}", get_report),
    Route(f"{PREFIX}/{{report}}/panels/{{block:int}}/{{panel:int}}", get_panel),
]
