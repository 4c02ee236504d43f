"""The client's content-addressed blob cache.

Layout: <cache dir>/blobs/<sha256[:2]>/<sha256> (cache dir: STRATA_CACHE_DIR, else the platform's user
cache folder), plus index.sqlite3 recording each entry's size and last use for LRU eviction (file
times cannot be used: entries are hard links shared with downloaded files, whose times belong to the
user).

* A hit costs a hash check: an entry is re-hashed before use, and a corrupt one is dropped.
* Placing an entry at a destination hard-links it when both are on one filesystem (no copy, no extra
  space), else copies it. Hard-linked files are made read-only, because writing into one in place
  would change every checkout sharing it (and the cache entry, which the next hash check would
  then drop). STRATA_CACHE_LINK=copy always copies.
* After a download, the new file is adopted into the cache the same way (a link, or a copy).
* Size cap: STRATA_CACHE_MAX_BYTES (default 20 GiB; suffixes K, M, G, T; 0 turns the cache off).
  Least recently used entries are evicted after each download call until the cache is under 90 % of it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import stat
import threading
import time
import uuid
from pathlib import Path

from strata import _settings

from ._transfer_common import hash_file

DEFAULT_MAX_BYTES = 20 * 1024**3
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_size(text: str) -> int:
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = value[-1] if value and value[-1] in _UNITS else ""
    return int(float(value[: len(value) - len(unit)]) * _UNITS[unit])


class BlobCache:
    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES, link: bool = True) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.link = link
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    @classmethod
    def default(cls) -> BlobCache | None:
        """The cache configured by the environment, or None when STRATA_CACHE_MAX_BYTES is 0."""
        max_bytes = parse_size(os.environ.get("STRATA_CACHE_MAX_BYTES") or str(DEFAULT_MAX_BYTES))
        if max_bytes <= 0:
            return None
        link = os.environ.get("STRATA_CACHE_LINK", "auto").strip().lower() != "copy"
        return cls(_settings.cache_dir(), max_bytes, link)

    def path(self, sha256: str) -> Path:
        return self.root / "blobs" / sha256[:2] / sha256

    # --- index ---

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.root.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.root / "index.sqlite3", timeout=30, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")  # the index is a hint: a lost update only skews LRU order
            db.execute(
                "CREATE TABLE IF NOT EXISTS entries (sha256 TEXT PRIMARY KEY, size INTEGER, used REAL)"
            )
            self._db = db
        return self._db

    def _record(self, sha256: str, size: int) -> None:
        with self._lock:
            db = self._conn()
            db.execute("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", (sha256, size, time.time()))
            db.commit()

    def _forget(self, sha256: str) -> None:
        with self._lock:
            db = self._conn()
            db.execute("DELETE FROM entries WHERE sha256 = ?", (sha256,))
            db.commit()

    # --- use ---

    def lookup(self, sha256: str, size: int) -> Path | None:
        """The verified entry for this blob, or None (a corrupt entry is removed)."""
        p = self.path(sha256)
        try:
            if p.stat().st_size != size or hash_file(p)[0] != sha256:
                self._remove(sha256)
                return None
        except OSError:
            return None
        self._record(sha256, size)
        return p

    def place(self, sha256: str, dest: Path) -> bool:
        """Put the entry at dest (hard link or copy, atomically); False if the entry vanished."""
        src = self.path(sha256)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:12]}.strata-place")
        try:
            if not (self.link and _try_link(src, tmp)):
                shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
            return True
        except FileNotFoundError:
            return False
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def adopt(self, sha256: str, size: int, src: Path) -> None:
        """Add a verified file to the cache (hard link, made read-only; or a copy)."""
        target = self.path(sha256)
        if target.exists():
            self._record(sha256, size)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{sha256}.{uuid.uuid4().hex[:12]}.tmp")
        try:
            if self.link and _try_link(src, tmp):
                _make_read_only(tmp)
            else:
                shutil.copyfile(src, tmp)
                _make_read_only(tmp)
            os.replace(tmp, target)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()
            return
        self._record(sha256, size)

    def _remove(self, sha256: str) -> None:
        with contextlib.suppress(OSError):
            self.path(sha256).unlink()
        self._forget(sha256)

    def evict(self) -> int:
        """Delete least recently used entries until the cache is under 90 % of its cap; returns bytes freed."""
        with self._lock:
            db = self._conn()
            total = db.execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()[0]
            if total <= self.max_bytes:
                return 0
            rows = db.execute("SELECT sha256, size FROM entries ORDER BY used").fetchall()
        freed, target = 0, total - int(self.max_bytes * 0.9)
        for sha256, size in rows:
            if freed >= target:
                break
            self._remove(sha256)
            freed += size
        return freed

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def _try_link(src: Path, dst: Path) -> bool:
    try:
        os.link(src, dst)
        return True
    except OSError:  # another filesystem (EXDEV), or links not supported
        return False


def _make_read_only(path: Path) -> None:
    with contextlib.suppress(OSError):
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
