"""`strata login|whoami|user|team|service-account|key|project|audit`: identities, keys and the audit log.

strata login --key-file .strata/admin-api-key     # verify the key, store it (0600) for this server
strata team create lab && strata team add lab alice --role member
strata service-account create lab ci --project lab/vision --key --output ci.key
strata key revoke k1ab2cd3ef4g
strata audit --project lab/vision --since 7d --jsonl > audit.jsonl
"""

from __future__ import annotations

import argparse
from functools import partial

from strata.cli import _iam_commands as c
from strata.cli import _iam_projects as p


def _group(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help: str
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    parser = sub.add_parser(name, help=help, description=help)
    parser.set_defaults(func=partial(_usage, parser))
    return parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND")


def _usage(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """A command group run without its subcommand: show what it offers and fail."""
    parser.print_help()
    return 2


def _cmd(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help: str, func: object
) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help, description=help)
    parser.set_defaults(func=func)
    return parser


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    login = _cmd(
        sub, "login", "verify an API key with the server and store it (mode 0600) for this address", c.login
    )
    login.add_argument("--key-file", help="read the key from this file (default: prompt, or stdin)")
    _cmd(sub, "whoami", "show who the stored key (or $STRATA_API_KEY) authenticates as", c.whoami)
    _users(sub)
    _teams(sub)
    _service_accounts(sub)
    _keys(sub)
    _projects(sub)
    _audit(sub)


def _users(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = _group(sub, "user", "create and list users (server admins)")
    create = _cmd(users, "create", "create a user", c.user_create)
    create.add_argument("name", help="user name, [a-z0-9_.-]")
    create.add_argument("--display-name", default="")
    create.add_argument("--email", default="")
    create.add_argument("--admin", action="store_true", help="make the user a server admin")
    _cmd(users, "ls", "list users", c.user_ls)


def _teams(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    teams = _group(sub, "team", "create teams and manage their members and roles")
    create = _cmd(teams, "create", "create a team; you become its admin", c.team_create)
    create.add_argument("team")
    create.add_argument("--display-name", default="")
    for name, help, func in (
        ("add", "add a member", c.team_add),
        ("role", "change a member's role", c.team_role),
    ):
        cmd = _cmd(teams, name, help + " (team admins)", func)
        cmd.add_argument("team")
        cmd.add_argument("user")
        if name == "add":
            cmd.add_argument("--role", choices=sorted(c.ROLES), default="member")
        else:
            cmd.add_argument("role", choices=sorted(c.ROLES))
    remove = _cmd(teams, "remove", "remove a member (a team always keeps an admin)", c.team_remove)
    remove.add_argument("team")
    remove.add_argument("user")
    ls = _cmd(teams, "ls", "list your teams, or a team's members", c.team_ls)
    ls.add_argument("team", nargs="?")


def _service_accounts(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sas = _group(sub, "service-account", "API-only principals of a team (CI pipelines, sidecars)")
    create = _cmd(sas, "create", "create a service account (team admins)", c.sa_create)
    create.add_argument("team")
    create.add_argument("name")
    create.add_argument("--role", choices=sorted(c.ROLES), default="member")
    create.add_argument(
        "--project", action="append", help="limit it to this project (entity/project; repeatable)"
    )
    create.add_argument("--description", default="")
    create.add_argument("--key", action="store_true", help="also create an API key and print it")
    create.add_argument("--output", help="with --key: write the key to this file (0600) instead")
    ls = _cmd(sas, "ls", "list a team's service accounts", c.sa_ls)
    ls.add_argument("team")


def _keys(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = _group(sub, "key", "create, list and revoke API keys")
    help_owner = "a user, or a service account team/name (default: you)"
    create = _cmd(keys, "create", "create an API key; the secret is shown once", c.key_create)
    create.add_argument("--owner", help=help_owner)
    create.add_argument("--description", default="")
    create.add_argument("--expires-in", type=c.duration, help="e.g. 90d (default: never)")
    create.add_argument("--output", help="write the key to this file (0600) instead of printing it")
    revoke = _cmd(keys, "revoke", "revoke an API key (takes effect at once on every server)", c.key_revoke)
    revoke.add_argument("key", help="key id (the part after strata_) or apiKeys/ID")
    ls = _cmd(keys, "ls", "list API keys (never their secrets)", c.key_ls)
    ls.add_argument("--owner", help=help_owner)
    ls.add_argument("--all", action="store_true", help="include revoked keys")


def _project_settings(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--description")
    parser.add_argument("--visibility", choices=sorted(c.VISIBILITY))
    parser.add_argument("--ttl", help="default TTL of new artifact versions, e.g. 30d ('none' clears)")
    parser.add_argument("--protected-aliases", help="comma-separated aliases only admins may move")


def _projects(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    projects = _group(sub, "project", "create, inspect and configure projects")
    create = _cmd(projects, "create", "create a project (members of the entity)", p.project_create)
    create.add_argument("project", help="entity/project")
    _project_settings(create)
    get = _cmd(projects, "get", "show a project's settings", p.project_get)
    get.add_argument("project")
    update = _cmd(projects, "update", "change settings (project admins)", p.project_update)
    update.add_argument("project")
    _project_settings(update)
    ls = _cmd(projects, "ls", "list an entity's projects you can see", p.project_ls)
    ls.add_argument("entity")


def _audit(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = _cmd(sub, "audit", "list or export audit events (project/entity admins, server admins)", p.audit)
    audit.add_argument("--project", help="entity/project")
    audit.add_argument("--entity", help="a team or user: its projects' and its own events")
    audit.add_argument("--actor", help="a user name or team/service-account")
    audit.add_argument("--since", type=c.moment, help="ISO 8601 time or a duration ago (7d)")
    audit.add_argument("--until", type=c.moment, help="ISO 8601 time or a duration ago")
    audit.add_argument("--action", action="append", help="e.g. alias.set (repeatable)")
    audit.add_argument("--jsonl", action="store_true", help="export every match as JSON lines, oldest first")
    audit.add_argument("--limit", type=int, default=50, help="without --jsonl: newest N events (default 50)")
