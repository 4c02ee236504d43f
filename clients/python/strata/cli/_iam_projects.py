"""The commands behind `strata project ...` and `strata audit` (parser: strata/cli/iam.py)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from google.protobuf import field_mask_pb2

from strata.cli._iam_commands import VISIBILITY, _client, _time, duration, entity, project
from strata.common.v1 import actor_pb2
from strata.iam.v1 import iam_pb2
from strata.iam.v1 import iam_service_pb2 as iam

VISIBILITY_NAMES = {v: k for k, v in VISIBILITY.items()}


def _show(p: iam_pb2.Project) -> None:
    ttl = f"{p.default_ttl.ToTimedelta()}" if p.HasField("default_ttl") else "none"
    print(f"{p.name.removeprefix('entities/').replace('/projects/', '/')}")
    print(f"  visibility         {VISIBILITY_NAMES.get(p.visibility, 'private')}")
    print(f"  default TTL        {ttl}")
    print(f"  protected aliases  {', '.join(p.protected_aliases) or '-'}")
    if p.description:
        print(f"  description        {p.description}")


def _settings(args: argparse.Namespace) -> tuple[iam_pb2.Project, list[str]]:
    """The project settings given on the command line, and their field-mask paths."""
    p, paths = iam_pb2.Project(), []
    if args.description is not None:
        p.description = args.description
        paths.append("description")
    if args.visibility is not None:
        p.visibility = VISIBILITY[args.visibility]
        paths.append("visibility")
    if args.ttl is not None:
        paths.append("default_ttl")
        if args.ttl.lower() != "none":
            p.default_ttl.FromTimedelta(duration(args.ttl))
    if args.protected_aliases is not None:
        p.protected_aliases.extend(a for a in args.protected_aliases.split(",") if a)
        paths.append("protected_aliases")
    return p, paths


def project_create(args: argparse.Namespace) -> int:
    name = project(args.project)
    settings, _ = _settings(args)
    parent, _, project_id = name.rpartition("/projects/")
    with _client(args) as client:
        req = iam.CreateProjectRequest(parent=parent, project_id=project_id, project=settings)
        _show(client.iam.CreateProject(req).project)
    return 0


def project_get(args: argparse.Namespace) -> int:
    with _client(args) as client:
        _show(client.iam.GetProject(iam.GetProjectRequest(name=project(args.project))).project)
    return 0


def project_update(args: argparse.Namespace) -> int:
    settings, paths = _settings(args)
    if not paths:
        print("error: nothing to update (give --description, --visibility, --ttl or --protected-aliases)")
        return 2
    settings.name = project(args.project)
    with _client(args) as client:
        req = iam.UpdateProjectRequest(project=settings, update_mask=field_mask_pb2.FieldMask(paths=paths))
        _show(client.iam.UpdateProject(req).project)
    return 0


def project_ls(args: argparse.Namespace) -> int:
    with _client(args) as client:
        token = ""
        while True:
            page = client.iam.ListProjects(
                iam.ListProjectsRequest(parent=entity(args.entity), page_token=token)
            )
            for p in page.projects:
                print(f"{p.name.split('/projects/')[-1]:<40} {VISIBILITY_NAMES.get(p.visibility, 'private')}")
            token = page.next_page_token
            if not token:
                return 0


def _filter(args: argparse.Namespace) -> iam.AuditFilter:
    f = iam.AuditFilter(actor=args.actor or "", actions=args.action or [])
    if args.project:
        f.project = project(args.project)
    if args.entity:
        f.entity = entity(args.entity)
    if args.since:
        f.start_time.FromDatetime(args.since)
    if args.until:
        f.end_time.FromDatetime(args.until)
    return f


def event_json(e: iam_pb2.AuditEvent) -> dict[str, Any]:
    """One audit event as a JSON object (before/after as JSON values, not strings)."""
    return {
        "id": e.id,
        "time": e.create_time.ToDatetime().isoformat() + "Z",
        "actor": e.actor.name,
        "actor_kind": actor_pb2.ActorKind.Name(e.actor.kind).removeprefix("ACTOR_KIND_").lower(),
        "source_address": e.source_address,
        "request_id": e.request_id,
        "action": e.action,
        "project": e.project,
        "target": e.target,
        "before": json.loads(e.before_json) if e.before_json else None,
        "after": json.loads(e.after_json) if e.after_json else None,
    }


def audit(args: argparse.Namespace) -> int:
    f = _filter(args)
    with _client(args) as client:
        if args.jsonl:
            for page in client.iam.ExportAuditEvents(iam.ExportAuditEventsRequest(filter=f), timeout=3600):
                for e in page.events:
                    sys.stdout.write(json.dumps(event_json(e), sort_keys=True) + "\n")
            return 0
        shown, token = 0, ""
        while shown < args.limit:
            req = iam.ListAuditEventsRequest(
                filter=f, page_size=min(1000, args.limit - shown), page_token=token
            )
            listed = client.iam.ListAuditEvents(req)
            for e in listed.events:
                print(f"{_time(e.create_time)}  {e.actor.name:<20} {e.action:<22} {e.target}")
            shown += len(listed.events)
            token = listed.next_page_token
            if not token:
                break
    return 0
