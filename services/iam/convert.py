"""Rows of the iam tables -> strata.iam.v1 messages, and request fields -> domain values."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from strata.common.v1 import actor_pb2
from strata.iam.v1 import iam_pb2, iam_service_pb2

from ..common import wellknown
from ..common.rows import message_from_row, timestamps
from ..common.runs import ts
from .audit.domain import Filter
from .projects.domain import ProjectSettings


def when(message: Any, field: str) -> datetime | None:
    """A Timestamp field as an aware datetime, None when unset."""
    return wellknown.timestamp(message, field)


def user(r: Any) -> iam_pb2.User:
    return message_from_row(iam_pb2.User, r, name=f"entities/{r['name']}", **timestamps(r, "create_time"))


def team(r: Any) -> iam_pb2.Team:
    return message_from_row(iam_pb2.Team, r, name=f"entities/{r['name']}", **timestamps(r, "create_time"))


def member(team_name: str, user_name: str, r: Any) -> iam_pb2.TeamMember:
    names = {"team": f"entities/{team_name}", "user": f"entities/{user_name}"}
    return message_from_row(iam_pb2.TeamMember, r, **names, **timestamps(r, "create_time"))


def service_account(r: Any) -> iam_pb2.ServiceAccount:
    return message_from_row(
        iam_pb2.ServiceAccount,
        r,
        name=f"entities/{r['team']}/serviceAccounts/{r['name']}",
        projects=list(r["projects"]),
        **timestamps(r, "create_time"),
    )


def api_key(r: Any) -> iam_pb2.ApiKey:
    when = timestamps(r, "create_time", "expire_time", "last_use_time", "revoke_time")
    return message_from_row(iam_pb2.ApiKey, r, name=f"apiKeys/{r['id']}", **when)


def project(r: Any) -> iam_pb2.Project:
    out = iam_pb2.Project(
        name=f"entities/{r['entity']}/projects/{r['name']}",
        description=r["description"],
        visibility=r["visibility"],
        protected_aliases=list(r["protected_aliases"]),
        create_time=ts(r["create_time"]),
    )
    if r["default_ttl"] is not None:
        out.default_ttl.FromTimedelta(r["default_ttl"])
    return out


def project_settings(p: iam_pb2.Project) -> ProjectSettings:
    ttl: timedelta | None = wellknown.duration(p, "default_ttl", "project.default_ttl")
    return ProjectSettings(
        description=p.description,
        visibility=p.visibility,
        default_ttl=ttl,
        protected_aliases=list(p.protected_aliases),
    )


def audit_event(r: Any) -> iam_pb2.AuditEvent:
    return iam_pb2.AuditEvent(
        id=r["id"],
        create_time=ts(r["create_time"]),
        actor=actor_pb2.Actor(name=r["actor_name"], kind=r["actor_kind"]),
        source_address=r["source_address"],
        request_id=r["request_id"],
        action=r["action"],
        project=r["project"],
        target=r["target"],
        before_json=r["before_json"] or "",
        after_json=r["after_json"] or "",
    )


def audit_filter(f: iam_service_pb2.AuditFilter) -> Filter:
    return Filter(
        project=f.project,
        entity=f.entity,
        actor=f.actor,
        start_time=when(f, "start_time"),
        end_time=when(f, "end_time"),
        actions=list(f.actions),
    )
