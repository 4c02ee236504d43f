"""`strata artifact|alias|gc|sidecar`: artifact versions, aliases with history, TTL, garbage collection,
and the Kubernetes model sidecar.

References are "[[entity/]project/]name[:version-or-alias]" (entity defaults to $STRATA_ENTITY or you,
project to $STRATA_PROJECT or "uncategorized").
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from types import SimpleNamespace
from typing import Any

from google.protobuf import json_format

from strata.client import Client
from strata.registry.v1 import artifact_pb2
from strata.registry.v1 import registry_service_pb2 as pb
from strata.sdk._context import project_parent
from strata.wire.paths import printable


def _client(args: argparse.Namespace) -> Client:
    return Client(getattr(args, "addr", None))


def _ts(msg: Any, field: str) -> str:
    return getattr(msg, field).ToDatetime().strftime("%Y-%m-%d %H:%M:%S") if msg.HasField(field) else "-"


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _print_json(msg: Any) -> None:
    print(json.dumps(json_format.MessageToDict(msg, preserving_proto_field_name=True), indent=2))


# --- artifact ---


def cmd_ls(args: argparse.Namespace) -> int:
    from strata.sdk._artifact_refs import parse_ref

    client = _client(args)
    parts = args.path.split("/")
    if len(parts) <= 2 and ":" not in args.path:  # a project: its collections
        from strata.sdk._context import default_entity

        entity, project = (parts[0], parts[1]) if len(parts) == 2 else (default_entity(client), parts[0])
        parent, token = project_parent(entity, project), ""
        while True:
            page = client.registry.ListArtifacts(
                pb.ListArtifactsRequest(parent=parent, type=args.type, page_token=token)
            )
            for a in page.artifacts:
                latest = a.latest_version.rsplit("/", 1)[-1] or "-"
                name = printable(a.name.rsplit("/", 1)[1])
                print(f"{name:<40} {printable(a.type):<12} {a.version_count:>5} versions  latest {latest}")
            token = page.next_page_token
            if not token:
                return 0
    ref = parse_ref(client, args.path)
    listed = client.registry.ListArtifactVersions(
        pb.ListArtifactVersionsRequest(parent=ref.artifact, page_size=500)
    )
    for v in listed.versions:
        aliases = printable(",".join(v.aliases)) or "-"
        print(
            f"v{v.version:<6} {_ts(v, 'commit_time')}  {v.file_count:>7} files {_human(v.total_size):>10}  {aliases}"
        )
    return 0


def cmd_get(args: argparse.Namespace) -> int:
    from strata.sdk.artifact import fetch_artifact

    art = fetch_artifact(SimpleNamespace(client=_client(args)), args.ref)
    v = art._logged()
    if args.json:
        _print_json(v)
        return 0
    print(f"{art.qualified_name}  ({v.name})")
    print(f"  type         {v.type}")
    print(f"  aliases      {printable(', '.join(v.aliases)) or '-'}")
    print(f"  files        {v.file_count} ({_human(v.total_size)})  digest {v.manifest_digest[:16]}")
    print(f"  committed    {_ts(v, 'commit_time')} by {printable(v.author.name) or '-'}")
    print(f"  expires      {_ts(v, 'expire_time')}  (ttl {_ttl_text(art.ttl)})")
    print(f"  logged by    {v.producer_run or '-'}")
    if v.provenance.git_commit:
        dirty = " (dirty)" if v.provenance.git_dirty else ""
        git = printable(f"{v.provenance.git_commit}{dirty} {v.provenance.git_remote}")
        print(f"  git          {git}")
    if v.description:
        print(f"  description  {printable(v.description)}")
    print(f"  metadata     {printable(v.metadata_json)}")
    return 0


def _ttl_text(ttl: Any) -> str:
    from strata.sdk._artifact_refs import format_ttl

    return format_ttl(ttl)


def cmd_put(args: argparse.Namespace) -> int:
    from pathlib import Path

    from strata.sdk._artifact_refs import parse_ref, parse_ttl
    from strata.sdk.artifact import Artifact

    client = _client(args)
    ref = parse_ref(client, args.name)
    art = Artifact(
        ref.name, args.type, args.description, json.loads(args.metadata) if args.metadata else None
    )
    if args.ttl:
        art.ttl = parse_ttl(args.ttl)
    for path in args.paths:
        if path.startswith(("s3://", "http://", "https://")):
            art.add_reference(path)
        elif Path(path).is_dir():
            art.add_dir(path)
        else:
            art.add_file(path)
    art.aliases = list(args.alias or [])
    art._client = client
    art.save(project=ref.project, entity=ref.entity)
    note = " (identical to the latest: no new version)" if art.deduplicated else ""
    print(f"{art.qualified_name}{note}")
    return 0


def cmd_files(args: argparse.Namespace) -> int:
    """A version's manifest: size, sha256 (or the reference's URI) and path, paths shown escaped."""
    from strata.sdk.artifact import fetch_artifact

    art = fetch_artifact(SimpleNamespace(client=_client(args)), args.ref)
    for e in art._entries(args.path_prefix):
        if e.HasField("reference"):
            size, what = e.reference.size, printable(e.reference.uri, 200)
        else:
            size, what = e.blob.size, e.blob.sha256[:12]
        sys.stdout.write(f"{size:>14}  {what}  {printable(e.path)}\n")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from strata.sdk.artifact import fetch_artifact

    art = fetch_artifact(SimpleNamespace(client=_client(args)), args.ref)
    print(art.download(args.root, path_prefix=args.path_prefix))
    return 0


def cmd_ttl(args: argparse.Namespace) -> int:
    from strata.sdk._artifact_refs import parse_ttl
    from strata.sdk.artifact import fetch_artifact

    art = fetch_artifact(SimpleNamespace(client=_client(args)), args.ref)
    art.ttl = parse_ttl(args.ttl)
    art.save()
    expires = art.expires_at.strftime("%Y-%m-%d %H:%M:%S") if art.expires_at else "never"
    print(f"{art.qualified_name}: ttl {_ttl_text(art.ttl)}, expires {expires}")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from strata.sdk.artifact import fetch_artifact

    art = fetch_artifact(SimpleNamespace(client=_client(args)), args.ref)
    art.delete(delete_aliases=args.delete_aliases)
    print(f"deleted {art.qualified_name}")
    return 0


def cmd_usage(args: argparse.Namespace) -> int:
    from strata.sdk._context import default_entity, default_project

    client = _client(args)
    parts = (args.project or "").split("/") if args.project else []
    entity = parts[0] if len(parts) == 2 else default_entity(client)
    project = parts[-1] if parts else default_project()
    u = client.registry.GetStorageUsage(
        pb.GetStorageUsageRequest(parent=project_parent(entity, project))
    ).usage
    saved = 1 - u.stored_bytes / u.logical_bytes if u.logical_bytes else 0.0
    print(f"{entity}/{project}: {u.version_count} live versions, {u.blob_count} distinct blobs")
    print(f"  logical {_human(u.logical_bytes)}  stored {_human(u.stored_bytes)}  (dedupe saves {saved:.0%})")
    return 0


# --- alias ---


def _ref(client: Client, ref: str) -> Any:
    """An artifact reference as typed, completed with the default entity and project."""
    from strata.sdk._artifact_refs import parse_ref

    return parse_ref(client, ref)


def _alias_ref(client: Client, ref: str) -> Any:
    from strata.sdk._artifact_refs import bad_ref

    parsed = _ref(client, ref)
    if ":" not in ref or parsed.version is not None or parsed.selector == "latest":
        raise bad_ref(ref, "name an alias: [[entity/]project/]name:alias")
    return parsed


def _print_move(alias: str, event: Any, how: str = "") -> None:
    """An alias move as `alias: v1 -> v2 (revision N)`; `how` ("reverted, ") goes before the revision."""
    moved = f"{_short(event.from_version)} -> {_short(event.to_version)}"
    print(f"{alias}: {moved} ({how}revision {event.revision})")


def cmd_alias_set(args: argparse.Namespace) -> int:
    client = _client(args)
    ref = _ref(client, args.ref)
    version = client.registry.ResolveArtifactVersion(pb.ResolveArtifactVersionRequest(ref=str(ref))).version
    event = client.registry.SetAlias(
        pb.SetAliasRequest(version=version.name, alias=args.alias, reason=args.reason)
    ).event
    _print_move(args.alias, event)
    return 0


def _short(name: str) -> str:
    return name.rsplit("/", 1)[-1] if name else "-"


def cmd_alias_history(args: argparse.Namespace) -> int:
    client = _client(args)
    ref = _ref(client, args.ref)
    alias = args.ref.partition(":")[2]
    page = client.registry.ListAliasHistory(
        pb.ListAliasHistoryRequest(artifact=ref.artifact, alias=alias, page_size=args.limit)
    )
    for e in page.events:
        kind = artifact_pb2.AliasEventKind.Name(e.kind).rsplit("_", 1)[-1].lower()
        when = e.create_time.ToDatetime().strftime("%Y-%m-%d %H:%M:%S")
        reason = f"  {printable(e.reason)}" if e.reason else ""
        moved = f"{_short(e.from_version):>6} -> {_short(e.to_version):<6}"
        print(
            f"#{e.revision:<5} {when}  {printable(e.alias):<12} {kind:<8} {moved} {printable(e.actor.name)}{reason}"
        )
    return 0


def cmd_alias_revert(args: argparse.Namespace) -> int:
    client = _client(args)
    ref = _alias_ref(client, args.ref)
    event = client.registry.RevertAlias(
        pb.RevertAliasRequest(artifact=ref.artifact, alias=ref.selector, reason=args.reason)
    ).event
    _print_move(ref.selector, event, "reverted, ")
    return 0


def cmd_alias_remove(args: argparse.Namespace) -> int:
    client = _client(args)
    ref = _alias_ref(client, args.ref)
    client.registry.RemoveAlias(
        pb.RemoveAliasRequest(artifact=ref.artifact, alias=ref.selector, reason=args.reason)
    )
    print(f"removed {ref.selector} from {ref.entity}/{ref.project}/{ref.name}")
    return 0


def cmd_alias_ls(args: argparse.Namespace) -> int:
    client = _client(args)
    ref = _ref(client, args.ref)
    for a in client.registry.ListAliases(pb.ListAliasesRequest(artifact=ref.artifact)).aliases:
        flag = " (protected)" if a.protected else ""
        print(f"{printable(a.alias):<16} {_short(a.version):<8} revision {a.revision}{flag}")
    return 0


# --- gc, sidecar ---


def cmd_gc(args: argparse.Namespace) -> int:
    r = (
        _client(args)
        .registry.RunGarbageCollection(pb.RunGarbageCollectionRequest(dry_run=args.dry_run), timeout=3600)
        .report
    )
    verb = "would delete" if r.dry_run else "deleted"
    print(
        f"{'dry run: ' if r.dry_run else ''}{r.expired_versions} version(s) expired, "
        f"{r.expired_drafts} idle draft(s) discarded, {verb} {r.deleted_blobs} blob(s), "
        f"{_human(r.reclaimed_bytes)} reclaimed"
    )
    return 0


def cmd_sidecar(args: argparse.Namespace) -> int:
    from strata.sdk.sidecar import Sidecar

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    sidecar = Sidecar(_client(args), args.artifact, args.dir, keep=args.keep, on_change=args.on_change)
    sidecar.run(once=args.once)
    return 0


def _add(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    func: Any,
    help: str,
    description: str | None = None,
) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help, description=description or help)
    parser.set_defaults(func=func)
    return parser


def register(sub: Any) -> None:
    art = sub.add_parser(
        "artifact",
        help="artifact versions: list, inspect, log, download, TTL",
        description="Artifact versions: list, inspect, log, download, TTL, delete, storage usage.",
    )
    asub = art.add_subparsers(dest="artifact_command", metavar="COMMAND", required=True)
    p = _add(
        asub, "ls", cmd_ls, "list a project's artifacts, or an artifact's versions (entity/project[/name])"
    )
    p.add_argument("path", help="entity/project, or [[entity/]project/]name")
    p.add_argument("--type", default="", help="only artifacts of this type")
    p = _add(asub, "get", cmd_get, "show a version: aliases, size, TTL, provenance, metadata")
    p.add_argument("ref", help="[[entity/]project/]name[:v3|:alias]")
    p.add_argument("--json", action="store_true", help="print the version as JSON")
    p = _add(asub, "put", cmd_put, "log files, folders or s3:// / https:// references as a new version")
    p.add_argument("paths", nargs="+", help="files, folders or references")
    p.add_argument("--name", required=True, help="[[entity/]project/]name")
    p.add_argument("--type", required=True, help="artifact type, e.g. dataset or model")
    p.add_argument("--alias", action="append", help="alias to set (repeatable)")
    p.add_argument("--description", default="", help="description")
    p.add_argument("--metadata", help="metadata as a JSON object")
    p.add_argument("--ttl", help="time to live: 7d, 12h, none, inherit")
    p = _add(asub, "files", cmd_files, "list a version's files: size, sha256 or reference, path (escaped)")
    p.add_argument("ref", help="[[entity/]project/]name[:v3|:alias]")
    p.add_argument("--path-prefix", help="only files under this path prefix")
    p = _add(asub, "download", cmd_download, "download a version (resumable, verified, cached)")
    p.add_argument("ref", help="[[entity/]project/]name[:v3|:alias]")
    p.add_argument("--root", help="target folder (default ./artifacts/<name>:vN)")
    p.add_argument("--path-prefix", help="only files under this path prefix")
    p = _add(
        asub, "ttl", cmd_ttl, "set a version's TTL: 7d, 12h, none (never expires), inherit (project default)"
    )
    p.add_argument("ref", help="[[entity/]project/]name:v3|:alias")
    p.add_argument("ttl", help="7d, 12h, 30m, none or inherit")
    p = _add(asub, "delete", cmd_delete, "soft-delete a version (its bytes go at the next GC)")
    p.add_argument("ref", help="[[entity/]project/]name:v3|:alias")
    p.add_argument("--delete-aliases", action="store_true", help="also remove the aliases it holds")
    p = _add(asub, "usage", cmd_usage, "storage of a project: logical bytes vs. stored after dedupe")
    p.add_argument("project", nargs="?", help="[entity/]project (default $STRATA_PROJECT)")

    _register_alias(sub)
    _register_alias(asub)  # `strata artifact alias ...` works too

    p = _add(sub, "gc", cmd_gc, "run TTL expiry and garbage collection now (server admins)")
    p.add_argument("--dry-run", action="store_true", help="report only; delete nothing")

    p = _add(
        sub,
        "sidecar",
        cmd_sidecar,
        "keep a folder synced with an alias (Kubernetes model sidecar)",
        "Download the version an alias points at into DIR/vN, switch DIR/current to it atomically, "
        "and repeat on every move of the alias. See deploy/kubernetes/model-sidecar.yaml.",
    )
    p.add_argument("--artifact", required=True, help="entity/project/name:alias (or :v3 to pin)")
    p.add_argument("--dir", required=True, help="folder to keep in sync")
    p.add_argument("--keep", type=int, default=2, help="version folders to keep (default 2)")
    p.add_argument(
        "--once", action="store_true", help="download the current holder and exit (init container)"
    )
    p.add_argument(
        "--on-change", help="shell command run after each switch ($STRATA_VERSION, $STRATA_VERSION_DIR)"
    )


def _register_alias(sub: Any) -> None:
    alias = sub.add_parser(
        "alias",
        help="move, list, revert aliases and show their history",
        description="Aliases: movable names (staging, production) with a recorded history.",
    )
    lsub = alias.add_subparsers(dest="alias_command", metavar="COMMAND", required=True)
    p = _add(lsub, "set", cmd_alias_set, "point an alias at a version (moves it from its holder)")
    p.add_argument("ref", help="the version: [[entity/]project/]name:v5 (or :other-alias)")
    p.add_argument("alias", help="alias to set, e.g. production")
    p.add_argument("--reason", default="", help="why (kept in the history)")
    p = _add(lsub, "history", cmd_alias_history, "every move of an alias (or of all aliases), newest first")
    p.add_argument("ref", help="[[entity/]project/]name:alias, or name for all aliases")
    p.add_argument("--limit", type=int, default=50, help="events to show (max 1000)")
    p = _add(
        lsub, "revert", cmd_alias_revert, "move an alias back to the version it held before its last move"
    )
    p.add_argument("ref", help="[[entity/]project/]name:alias")
    p.add_argument("--reason", default="", help="why")
    p = _add(lsub, "remove", cmd_alias_remove, "remove an alias")
    p.add_argument("ref", help="[[entity/]project/]name:alias")
    p.add_argument("--reason", default="", help="why")
    p = _add(lsub, "ls", cmd_alias_ls, "list an artifact's aliases")
    p.add_argument("ref", help="[[entity/]project/]name")
