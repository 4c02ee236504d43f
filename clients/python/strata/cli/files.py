"""`strata files put|ls|get`: files attached to runs (checkpoints, logs, output.log) from the shell.

    strata files put ml/text-clf/3xk2a9 model.pt logs/            # attach a file and a directory
    strata files ls  ml/text-clf/3xk2a9
    strata files get ml/text-clf/3xk2a9 --dest out/ --prefix logs/

RUN is entity/project/run_id or the full name entities/e/projects/p/runs/r. Uploads are
content-addressed and resumable (an interrupted `put` continues where it stopped when run again);
downloads are resumable, verified and go through the client cache. Listings show paths escaped
(control and invisible format characters as `\\x1b`, `\\n`, `\\u202e`), and `get` never stops at
one bad file: it fetches every other one, names the failures at the end and exits 1. Artifact files
have their own commands (`strata artifact ...`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from strata.client import Client
from strata.wire.paths import printable


def _run_argument(parser: argparse.ArgumentParser) -> None:
    """The RUN every files command takes (see `run_name`)."""
    parser.add_argument("run", metavar="RUN", help="entity/project/run_id or entities/e/projects/p/runs/r")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "files",
        help="attach files to runs and fetch them (resumable, verified, deduplicated)",
        description="Files attached to runs: checkpoints, logs, output.log. Content-addressed: bytes the "
        "project already has are not sent again; interrupted transfers resume.",
    )
    files = p.add_subparsers(dest="files_command", metavar="COMMAND", required=True)

    put = files.add_parser(
        "put",
        help="upload files or directories and attach them to a run",
        description="Upload PATHs (files, or directories recursively) and attach them to RUN. A file is "
        "attached under its name, a directory's files under the directory name (or under --as).",
    )
    _run_argument(put)
    put.add_argument("paths", metavar="PATH", nargs="+", type=Path, help="files or directories")
    put.add_argument("--as", dest="prefix", default=None, help="folder inside the run to put them under")
    put.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    put.set_defaults(func=cmd_put)

    ls = files.add_parser(
        "ls", help="list a run's files", description="List a run's files: path, size, sha256."
    )
    _run_argument(ls)
    ls.set_defaults(func=cmd_ls)

    get = files.add_parser(
        "get",
        help="download a run's files",
        description="Download RUN's files (those under --prefix) into --dest. Resumable and verified; "
        "files already present (or in the client cache) are not fetched again.",
    )
    _run_argument(get)
    get.add_argument("--dest", type=Path, default=Path("."), help="target folder (default: current folder)")
    get.add_argument("--prefix", default=None, help="only files whose path starts with this")
    get.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    get.set_defaults(func=cmd_get)


def run_name(text: str) -> str:
    if text.startswith("entities/"):
        return text
    parts = text.strip("/").split("/")
    if len(parts) != 3 or not all(parts):
        raise SystemExit(f"error: RUN must be entity/project/run_id, not {text!r}")
    entity, project, run_id = parts
    return f"entities/{entity}/projects/{project}/runs/{run_id}"


def _collect(paths: list[Path], prefix: str | None) -> list[tuple[str, Path]]:
    from strata.sdk import transfer

    out: list[tuple[str, Path]] = []
    base = (prefix or "").strip("/")
    for path in paths:
        if path.is_dir():
            folder = f"{base}/{path.resolve().name}" if base else path.resolve().name
            out += transfer.list_dir_files(path, folder)
        elif path.is_file():
            out.append((f"{base}/{path.name}" if base else path.name, path))
        else:
            raise SystemExit(f"error: {path} is not a file or directory")
    return out


def cmd_put(args: argparse.Namespace) -> int:
    from strata.sdk import run_files

    files = _collect(args.paths, args.prefix)
    with Client(args.addr) as client:
        attached = run_files.upload_run_files(
            client, run_name(args.run), files, progress=False if args.quiet else None
        )
    total = sum(f.blob.size for f in attached)
    print(f"attached {len(attached)} file(s), {total} bytes, to {run_name(args.run)}")
    return 0


def cmd_ls(args: argparse.Namespace) -> int:
    from strata.sdk import run_files

    with Client(args.addr) as client:
        for f in run_files.list_run_files(client, run_name(args.run)):
            sys.stdout.write(f"{f.blob.size:>14}  {f.blob.sha256[:12]}  {printable(f.path)}\n")
    return 0


def cmd_get(args: argparse.Namespace) -> int:
    """Download every file it can; a file that fails (a name the path rule or the file system refuses,
    a blob that cannot be read) is reported at the end, and the exit status is then 1."""
    from strata.sdk import run_files
    from strata.sdk.transfer import DownloadIncomplete

    with Client(args.addr) as client:
        try:
            root = run_files.download_run_files(
                client,
                run_name(args.run),
                args.dest,
                path_prefix=args.prefix,
                progress=False if args.quiet else None,
            )
        except DownloadIncomplete as e:
            print(f"downloaded into {e.root}, except:", file=sys.stderr)
            for path, error in e.failures:
                print(f"  failed: '{printable(path)}': {printable(_reason(error))}", file=sys.stderr)
            return 1
    print(f"downloaded into {root}")
    return 0


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None)
    if reason is not None:
        return f"{reason}: {getattr(error, 'message', error)}"
    return getattr(error, "strerror", None) or str(error)
