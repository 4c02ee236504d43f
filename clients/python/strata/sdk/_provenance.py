"""Automatic provenance: who ran what, where, from which commit (recorded on runs and artifact versions).

Captured once per process and cheap to reuse; every field degrades to empty when unavailable (no git,
no hostname). Remote URLs are stripped of credentials.
"""

from __future__ import annotations

import getpass
import platform
import re
import socket
import subprocess
import sys
from functools import lru_cache

from strata.common.v1 import actor_pb2


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def _strip_credentials(url: str) -> str:
    return re.sub(r"(?<=://)[^/@]+@", "", url)


@lru_cache(maxsize=1)
def capture() -> actor_pb2.Provenance:
    try:
        user = getpass.getuser()
    except Exception:
        user = ""
    commit = _git("rev-parse", "HEAD")
    dirty = bool(commit) and bool(_git("status", "--porcelain", "--untracked-files=no"))
    from strata import __version__

    return actor_pb2.Provenance(
        os_user=user,
        hostname=socket.gethostname(),
        git_commit=commit,
        git_dirty=dirty,
        git_remote=_strip_credentials(_git("config", "--get", "remote.origin.url")) if commit else "",
        command=[sys.executable, *sys.argv],
        runtime=f"python {platform.python_version()}; strata {__version__}",
    )
