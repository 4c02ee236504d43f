"""Validation of what clients send (paths, entries, metadata, aliases) and the canonical manifest digest.

Manifest paths follow the one path rule of run files and manifests (common/paths.py, defined in
strata.wire.paths: 1..1024 bytes of UTF-8, relative, no empty, "." or ".." segment, no backslash, no
control or invisible format character); unique within a manifest, and no path may also be
a directory of another ("a" and "a/b"), so every manifest can be written to disk as is.

The manifest digest is the sha256 (hex) of the entries sorted by path (byte order), one line each:
  blob:       "{path}\\t{sha256}\\t{size}\\n"
  reference:  "{path}\\tref\\t{uri}\\t{etag}\\t{size}\\t{true|false}\\n"
versions/store.py computes it in SQL; `manifest_digest()` here is the same definition in Python (tests pin both).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import timedelta

from ...common import jsonvalue
from ...common import text as textcheck
from ...common.errors import InvalidArgument, Reason
from ...common.names import check_alias, check_sha256
from ...common.paths import check_path
from ..model import Entry

MAX_ENTRIES_PER_CALL = 10_000
MAX_METADATA_BYTES = 256 * 1024
MAX_DESCRIPTION_BYTES = 64 * 1024
MAX_REASON_BYTES = 4 * 1024
MAX_ALIASES = 64
MAX_URI_BYTES = 4096
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
REFERENCE_SCHEMES = ("s3://", "https://", "http://")


def check_entries(entries: Sequence[Entry], field: str = "entries") -> list[Entry]:
    """Validate entries of one request: safe unique paths, well-formed digests and references."""
    if len(entries) > MAX_ENTRIES_PER_CALL:
        raise InvalidArgument(field, Reason.TOO_LARGE, f"at most {MAX_ENTRIES_PER_CALL} entries per call")
    seen: set[str] = set()
    for i, e in enumerate(entries):
        where = f"{field}[{i}]"
        check_path(e.path, f"{where}.path")
        if e.path in seen:
            raise InvalidArgument(f"{where}.path", Reason.DUPLICATE_PATH, f"path {e.path!r} appears twice")
        seen.add(e.path)
        if e.ref_uri is not None:
            _check_reference(e, where)
        elif e.sha256 is None:
            raise InvalidArgument(where, Reason.FIELD_REQUIRED, f"{where}: blob or reference is required")
        else:
            check_sha256(e.sha256, f"{where}.blob.sha256")
            if e.size < 0:
                raise InvalidArgument(f"{where}.blob.size", Reason.INVALID_DIGEST, "size must be >= 0")
    return list(entries)


def _check_reference(e: Entry, where: str) -> None:
    uri = e.ref_uri or ""
    if not uri.startswith(REFERENCE_SCHEMES) or len(uri) > MAX_URI_BYTES or _CONTROL.search(uri):
        raise InvalidArgument(
            f"{where}.reference.uri", Reason.INVALID_NAME, "reference must be an s3:// or http(s):// URI"
        )
    if _CONTROL.search(e.ref_etag or ""):
        raise InvalidArgument(f"{where}.reference.etag", Reason.INVALID_NAME, "etag has control characters")
    if (e.ref_size or 0) < -1:
        raise InvalidArgument(f"{where}.reference.size", Reason.OUT_OF_RANGE, "size must be >= -1")


def check_removed(paths: Iterable[str], field: str = "removed_paths") -> list[str]:
    out = list(paths)
    if len(out) > MAX_ENTRIES_PER_CALL:
        raise InvalidArgument(field, Reason.TOO_LARGE, f"at most {MAX_ENTRIES_PER_CALL} paths per call")
    for i, p in enumerate(out):
        check_path(p, f"{field}[{i}]")
    return out


def check_metadata(text: str, field: str = "metadata_json") -> str:
    """A JSON object of at most MAX_METADATA_BYTES (empty means {}), checked by common/jsonvalue.py
    (depth, non-finite numbers, int64 range, U+0000 and lone surrogates are refused)."""
    if not text:
        return "{}"
    jsonvalue.parse_object(text, field, max_bytes=MAX_METADATA_BYTES)
    return text


def check_text(text: str, field: str, limit: int = MAX_DESCRIPTION_BYTES) -> str:
    """A free-text field of at most `limit` UTF-8 bytes without U+0000 or lone surrogates."""
    return textcheck.check_bytes(text, field, limit)


def check_ttl(ttl: timedelta | None, ttl_disabled: bool, field: str = "ttl") -> None:
    if ttl is not None and ttl.total_seconds() <= 0:
        raise InvalidArgument(field, Reason.OUT_OF_RANGE, "ttl must be positive")
    if ttl is not None and ttl_disabled:
        raise InvalidArgument(field, Reason.OUT_OF_RANGE, "ttl and ttl_disabled are mutually exclusive")


def check_aliases(aliases: Iterable[str], field: str = "aliases") -> list[str]:
    """Custom aliases requested at commit: valid, not reserved, de-duplicated in order."""
    out: list[str] = []
    for i, alias in enumerate(aliases):
        check_alias(alias, f"{field}[{i}]")
        if alias not in out:
            out.append(alias)
    if len(out) > MAX_ALIASES:
        raise InvalidArgument(field, Reason.TOO_LARGE, f"at most {MAX_ALIASES} aliases")
    return out


def canonical_line(e: Entry) -> str:
    if e.ref_uri is not None:
        size = -1 if e.ref_size is None else e.ref_size
        checksum = "true" if e.ref_checksum else "false"
        return f"{e.path}\tref\t{e.ref_uri}\t{e.ref_etag or ''}\t{size}\t{checksum}\n"
    return f"{e.path}\t{e.sha256}\t{e.size}\n"


def manifest_digest(entries: Iterable[Entry]) -> str:
    h = hashlib.sha256()
    for e in sorted(entries, key=lambda x: x.path.encode()):
        h.update(canonical_line(e).encode())
    return h.hexdigest()
