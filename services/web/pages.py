"""The HTML shells. Each page is a fixed layout plus escaped names in data- attributes; its script
fetches everything else from /api/v1 and inserts text with textContent. An unknown (or invisible)
project, run or version answers a 404 page; a missing or expired session redirects to /signin."""

from __future__ import annotations

import html
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from strata.iam.v1 import iam_service_pb2 as iam
from strata.ingest.v1 import ingest_service_pb2 as ingest
from strata.registry.v1 import registry_service_pb2 as registry
from strata.reports.v1 import reports_service_pb2 as rs

from .api_common import artifact_name, call, project_name, run_name, version_name
from .bridge import ApiError
from .sessions import COOKIE

PAGE_SCRIPTS = {
    "signin": ["signin.js"],
    "projects": ["projects.js"],
    "runs": ["runs.js"],
    "run": ["uPlot.iife.min.js", "charts.js", "run.js", "media.js"],
    "compare": ["uPlot.iife.min.js", "charts.js", "compare.js"],
    "artifacts": ["artifacts.js"],
    "artifact": ["artifact.js"],
    "version": ["version.js"],
    "diff": ["diff.js"],
    "lineage": ["cytoscape.min.js", "cytoscape-dagre.min.js", "lineage.js"],
    "impact": ["impact.js"],
    "reports": ["reports.js"],
    "report": ["uPlot.iife.min.js", "charts.js", "markdown.js", "media.js", "report.js"],
}
VENDOR = {"uPlot.iife.min.js", "cytoscape.min.js", "cytoscape-dagre.min.js"}


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def shell(
    request: Request, page: str, title: str, data: dict[str, str] | None = None, status: int = 200
) -> HTMLResponse:
    sessions = request.app.state.sessions
    session = sessions.get(request.cookies.get(COOKIE))
    attrs = {"page": page, "csrf": session.csrf if session else "", **(data or {})}
    attrs["open-local"] = "1" if request.app.state.settings.open_local else ""
    body_attrs = " ".join(f'data-{k.replace("_", "-")}="{esc(v)}"' for k, v in attrs.items())
    scripts = ["js/core.js"] + [
        f"vendor/{s}" if s in VENDOR else f"js/{s}" for s in PAGE_SCRIPTS.get(page, [])
    ]
    tags = "".join(f'<script src="/static/{s}"></script>' for s in scripts)
    return HTMLResponse(
        f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{esc(title)} · Strata</title>
<link rel="stylesheet" href="/static/vendor/uPlot.min.css"><link rel="stylesheet" href="/static/app.css">
</head><body {body_attrs}>
<header class="top"><a class="brand" href="/">Strata</a><nav id="crumbs"></nav>
<span class="spacer"></span><span id="who"></span><button id="signout" class="link" hidden>Sign out</button></header>
<main id="main"><h1 id="title">{esc(title)}</h1><div id="content"></div></main>
{tags}</body></html>""",
        status_code=status,
    )


def signin_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)


def error_page(request: Request, err: ApiError) -> Response:
    if err.status == 401:
        return signin_redirect(request)
    title = "Not found" if err.status == 404 else f"Error {err.status}"
    return shell(request, "error", title, {"reason": err.reason, "message": err.message}, status=err.status)


def needs_caller(request: Request) -> bool:
    return getattr(request.state, "caller", None) is None


async def guarded(request: Request, page: str, title: str, checks: list, **data: str) -> Response:
    """The page's shell after its resources are known to exist for the caller (else a 404 page)."""
    if needs_caller(request):
        return signin_redirect(request)
    try:
        for service, rpc, req in checks:
            await call(request, service, rpc, req)
    except ApiError as e:
        return error_page(request, e)
    p = request.path_params
    return shell(
        request, page, title, {"entity": p.get("entity", ""), "project": p.get("project", ""), **data}
    )


def project_check(request: Request) -> tuple:
    return ("iam", "GetProject", iam.GetProjectRequest(name=project_name(request)))


async def signin(request: Request) -> Response:
    return shell(request, "signin", "Sign in", {"next": request.query_params.get("next", "/")})


async def projects(request: Request) -> Response:
    return await guarded(request, "projects", "Projects", [])


async def runs(request: Request) -> Response:
    return await guarded(request, "runs", request.path_params["project"], [project_check(request)])


async def run(request: Request) -> Response:
    checks = [project_check(request), ("ingest", "GetRun", ingest.GetRunRequest(name=run_name(request)))]
    return await guarded(request, "run", request.path_params["run"], checks, run=request.path_params["run"])


async def compare(request: Request) -> Response:
    return await guarded(request, "compare", "Compare runs", [project_check(request)])


async def artifacts(request: Request) -> Response:
    return await guarded(request, "artifacts", "Artifacts", [project_check(request)])


async def artifact(request: Request) -> Response:
    a = request.path_params["artifact"]
    checks = [
        project_check(request),
        ("registry", "GetArtifact", registry.GetArtifactRequest(name=artifact_name(request))),
    ]
    return await guarded(request, "artifact", a, checks, artifact=a)


async def version(request: Request) -> Response:
    p = request.path_params
    req = registry.GetArtifactVersionRequest(name=version_name(request))
    checks = [project_check(request), ("registry", "GetArtifactVersion", req)]
    title = f"{p['artifact']}:{p['version']}"
    return await guarded(request, "version", title, checks, artifact=p["artifact"], version=p["version"])


async def diff(request: Request) -> Response:
    a = request.path_params["artifact"]
    checks = [
        project_check(request),
        ("registry", "GetArtifact", registry.GetArtifactRequest(name=artifact_name(request))),
    ]
    return await guarded(request, "diff", f"{a}: what changed", checks, artifact=a)


async def lineage(request: Request) -> Response:
    return await guarded(
        request, "lineage", "Lineage", [project_check(request)], node=request.query_params.get("node", "")
    )


async def impact(request: Request) -> Response:
    return await guarded(
        request, "impact", "Impact", [project_check(request)], node=request.query_params.get("node", "")
    )


async def reports(request: Request) -> Response:
    return await guarded(request, "reports", "Reports", [project_check(request)])


async def report(request: Request) -> Response:
    r = request.path_params["report"]
    req = rs.GetReportRequest(name=f"{project_name(request)}/reports/{r}")
    checks = [project_check(request), ("reports", "GetReport", req)]
    return await guarded(request, "report", "Report", checks, report=r)


P = "/p/{entity}/{project}"
ROUTES = [
    Route("/signin", signin),
    Route("/", projects),
    Route(P, runs),
    Route(f"{P}/runs/{{run}}", run),
    Route(f"{P}/compare", compare),
    Route(f"{P}/artifacts", artifacts),
    Route(f"{P}/artifacts/{{artifact}}", artifact),
    Route(f"{P}/artifacts/{{artifact}}/versions/{{version}}", version),
    Route(f"{P}/artifacts/{{artifact}}/diff", diff),
    Route(f"{P}/lineage", lineage),
    Route(f"{P}/impact", impact),
    Route(f"{P}/reports", reports),
    Route(f"{P}/reports/{{report}}", report),
]
