"""The commands behind `strata login|whoami|user|team|service-account|key` (parser: strata/cli/iam.py).

Names may be short: a team or user is `lab` (or `entities/lab`), a project `lab/vision`, a service
account `lab/ci`, a key `k1ab2cd3ef4g` (or `apiKeys/...`).
"""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from google.protobuf.timestamp_pb2 import Timestamp

from strata._settings import store_api_key, write_private_file
from strata.client import Client, resolve_addr
from strata.iam.v1 import iam_pb2
from strata.iam.v1 import iam_service_pb2 as iam

ROLES = {"viewer": iam_pb2.ROLE_VIEWER, "member": iam_pb2.ROLE_MEMBER, "admin": iam_pb2.ROLE_ADMIN}
ROLE_NAMES = {v: k for k, v in ROLES.items()}
VISIBILITY = {
    "private": iam_pb2.PROJECT_VISIBILITY_PRIVATE,
    "public": iam_pb2.PROJECT_VISIBILITY_PUBLIC_READ,
}
_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


# --- names and values ---


def entity(value: str) -> str:
    return value if value.startswith("entities/") else f"entities/{value}"


def _qualified(value: str, what: str, shape: str, collection: str) -> str:
    """`value` as a full resource name: "entities/..." as given, "<owner>/<name>" expanded to
    entities/<owner>/<collection>/<name>."""
    if value.startswith("entities/"):
        return value
    owner_name, _, name = value.partition("/")
    if not name:
        raise SystemExit(f"{what} {value!r} must look like {shape}")
    return f"entities/{owner_name}/{collection}/{name}"


def project(value: str) -> str:
    return _qualified(value, "project", "entity/project", "projects")


def service_account(value: str) -> str:
    return _qualified(value, "service account", "team/name", "serviceAccounts")


def owner(value: str | None) -> str:
    """A key owner: "" (me), a user, or a service account (team/name)."""
    if not value:
        return ""
    if value.startswith("entities/"):
        return value
    return service_account(value) if "/" in value else entity(value)


def duration(value: str) -> timedelta:
    m = _DURATION.match(value.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"{value!r} is not a duration like 30d, 12h, 90m, 2w")
    return timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)])


def moment(value: str) -> datetime:
    """ISO 8601 time, or a duration meaning that long ago (7d)."""
    if _DURATION.match(value.strip()):
        return datetime.now(timezone.utc) - duration(value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{value!r} is neither ISO 8601 nor a duration like 7d") from e
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _time(ts: Timestamp) -> str:
    if not ts.seconds and not ts.nanos:
        return "-"
    return ts.ToDatetime(tzinfo=timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def _client(args: argparse.Namespace) -> Client:
    return Client(args.addr)


# --- login / whoami ---


def login(args: argparse.Namespace) -> int:
    if args.key_file:
        key = Path(args.key_file).read_text().strip()
    elif not sys.stdin.isatty():
        key = sys.stdin.readline().strip()
    else:
        key = getpass.getpass("API key: ").strip()
    if not key:
        print("error: no API key given", file=sys.stderr)
        return 1
    addr = resolve_addr(args.addr)
    with Client(addr, api_key=key) as client:
        who = client.iam.GetPrincipal(iam.GetPrincipalRequest(), timeout=10)
    path = store_api_key(addr, key)
    print(f"logged in to {addr} as {who.actor.name} (key stored in {path}, mode 0600)")
    return 0


def whoami(args: argparse.Namespace) -> int:
    with _client(args) as client:
        who = client.iam.GetPrincipal(iam.GetPrincipalRequest())
    kind = {1: "user", 2: "service account", 4: "local user (open local mode)"}.get(who.actor.kind, "?")
    print(f"{who.actor.name} ({kind}{', server admin' if who.server_admin else ''})")
    for m in who.memberships:
        print(f"  {m.team.removeprefix('entities/')}: {ROLE_NAMES.get(m.role, '?')}")
    if who.HasField("service_account"):
        sa = who.service_account
        scope = ", ".join(sa.projects) or "all the team's projects"
        print(f"  role {ROLE_NAMES.get(sa.role, '?')} in {scope}")
    return 0


# --- users and teams ---


def user_create(args: argparse.Namespace) -> int:
    u = iam_pb2.User(
        name=entity(args.name), display_name=args.display_name, email=args.email, server_admin=args.admin
    )
    with _client(args) as client:
        created = client.iam.CreateUser(iam.CreateUserRequest(user=u)).user
    print(f"created user {created.name.removeprefix('entities/')}")
    return 0


def user_ls(args: argparse.Namespace) -> int:
    with _client(args) as client:
        token = ""
        while True:
            page = client.iam.ListUsers(iam.ListUsersRequest(page_token=token))
            for u in page.users:
                print(f"{u.name.removeprefix('entities/')}{'  (server admin)' if u.server_admin else ''}")
            token = page.next_page_token
            if not token:
                return 0


def team_create(args: argparse.Namespace) -> int:
    with _client(args) as client:
        team = iam_pb2.Team(name=entity(args.team), display_name=args.display_name)
        client.iam.CreateTeam(iam.CreateTeamRequest(team=team))
    print(f"created team {args.team}; you are its admin")
    return 0


def team_add(args: argparse.Namespace) -> int:
    with _client(args) as client:
        req = iam.AddTeamMemberRequest(team=entity(args.team), user=entity(args.user), role=ROLES[args.role])
        client.iam.AddTeamMember(req)
    print(f"added {args.user} to {args.team} as {args.role}")
    return 0


def team_remove(args: argparse.Namespace) -> int:
    with _client(args) as client:
        client.iam.RemoveTeamMember(
            iam.RemoveTeamMemberRequest(team=entity(args.team), user=entity(args.user))
        )
    print(f"removed {args.user} from {args.team}")
    return 0


def team_role(args: argparse.Namespace) -> int:
    with _client(args) as client:
        req = iam.UpdateTeamMemberRequest(
            team=entity(args.team), user=entity(args.user), role=ROLES[args.role]
        )
        client.iam.UpdateTeamMember(req)
    print(f"{args.user} is now {args.role} of {args.team}")
    return 0


def team_ls(args: argparse.Namespace) -> int:
    with _client(args) as client:
        if args.team:
            members = client.iam.ListTeamMembers(iam.ListTeamMembersRequest(team=entity(args.team))).members
            for m in members:
                print(f"{m.user.removeprefix('entities/'):<32} {ROLE_NAMES.get(m.role, '?')}")
            return 0
        for t in client.iam.ListTeams(iam.ListTeamsRequest(page_size=1000)).teams:
            print(t.name.removeprefix("entities/"))
    return 0


# --- service accounts and keys ---


def sa_create(args: argparse.Namespace) -> int:
    req = iam.CreateServiceAccountRequest(
        parent=entity(args.team),
        service_account_id=args.name,
        description=args.description,
        role=ROLES[args.role],
        projects=[project(p) for p in args.project or []],
    )
    with _client(args) as client:
        sa = client.iam.CreateServiceAccount(req).service_account
        print(f"created service account {sa.name} ({args.role})", file=sys.stderr)
        if args.key:
            _emit_key(client, sa.name, f"key for {sa.name}", None, args.output)
    return 0


def sa_ls(args: argparse.Namespace) -> int:
    with _client(args) as client:
        accounts = client.iam.ListServiceAccounts(iam.ListServiceAccountsRequest(parent=entity(args.team)))
    for sa in accounts.service_accounts:
        scope = ",".join(p.split("/projects/")[-1] for p in sa.projects) or "*"
        name = sa.name.split("/serviceAccounts/")[-1]
        print(f"{name:<24} {ROLE_NAMES.get(sa.role, '?'):<8} projects={scope}  {sa.description}")
    return 0


def _emit_key(
    client: Client, owner_name: str, description: str, expires_in: timedelta | None, output: str | None
) -> None:
    req = iam.CreateApiKeyRequest(owner=owner_name, description=description)
    if expires_in is not None:
        req.expire_time.FromDatetime(datetime.now(timezone.utc) + expires_in)
    created = client.iam.CreateApiKey(req)
    if output:
        write_private_file(Path(output), created.secret + "\n")
        print(f"created {created.api_key.name}; secret written to {output} (mode 0600)", file=sys.stderr)
    else:
        print(f"created {created.api_key.name} (shown once; store it now):", file=sys.stderr)
        print(created.secret)


def key_create(args: argparse.Namespace) -> int:
    with _client(args) as client:
        _emit_key(client, owner(args.owner), args.description, args.expires_in, args.output)
    return 0


def key_revoke(args: argparse.Namespace) -> int:
    name = args.key if args.key.startswith("apiKeys/") else f"apiKeys/{args.key}"
    with _client(args) as client:
        client.iam.RevokeApiKey(iam.RevokeApiKeyRequest(name=name))
    print(f"revoked {name}")
    return 0


def key_ls(args: argparse.Namespace) -> int:
    with _client(args) as client:
        keys = client.iam.ListApiKeys(iam.ListApiKeysRequest(owner=owner(args.owner), show_revoked=args.all))
    for k in keys.api_keys:
        state = "revoked " + _time(k.revoke_time) if k.HasField("revoke_time") else "active"
        print(
            f"{k.name.removeprefix('apiKeys/'):<14} {state:<28} created {_time(k.create_time)}  "
            f"expires {_time(k.expire_time)}  last used {_time(k.last_use_time)}  {k.description}"
        )
    return 0
