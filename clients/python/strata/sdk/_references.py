"""External references (artifact.add_reference): objects that stay where they are (S3, HTTP) and are
recorded in the manifest by URI with the ETag and size seen at logging time.

Checksum mode (the default): the ETag (S3, or a strong HTTP ETag) and size are recorded, and download()
fetches the object only if it is still the same: the request carries If-Match and the answer is checked,
so a changed object fails with REFERENCE_CHANGED instead of silently giving other bytes. Without a
checksum (checksum=False, or an HTTP server that sends no strong ETag) the reference is recorded by URI
only and download() does not fetch it: it cannot tell whether the bytes are still the ones logged.

S3 access uses the standard variables: AWS_ENDPOINT_URL (e.g. http://minio:9000; default AWS),
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION. The `minio` package is needed for s3:// references
(`pip install strata-ml-client[s3]`).
"""

from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from strata.errors import Reason, StrataError

MAX_OBJECTS = 10_000
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Reference:
    path: str  # logical path in the artifact
    uri: str
    etag: str
    size: int  # -1 when unknown
    checksum: bool


def changed(uri: str, why: str) -> StrataError:
    return StrataError(
        grpc.StatusCode.FAILED_PRECONDITION,
        Reason.REFERENCE_CHANGED,
        f"reference {uri} changed since it was logged: {why}",
    )


def _s3_client() -> Any:
    try:
        from minio import Minio
    except ImportError as e:  # pragma: no cover - depends on the installation
        raise RuntimeError(
            "s3:// references need the minio package: pip install 'strata-ml-client[s3]'"
        ) from e
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or "https://s3.amazonaws.com"
    parsed = urllib.parse.urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    return Minio(
        parsed.netloc,
        access_key=os.environ.get("AWS_ACCESS_KEY_ID") or None,
        secret_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None,
        secure=parsed.scheme == "https",
    )


def _split_s3(uri: str) -> tuple[str, str]:
    parsed = urllib.parse.urlsplit(uri)
    return parsed.netloc, parsed.path.lstrip("/")


def resolve(uri: str, name: str | None, checksum: bool) -> list[Reference]:
    """The manifest entries for add_reference(uri, name): one object, or every object under an S3 prefix."""
    if uri.startswith("s3://"):
        return _resolve_s3(uri, name, checksum)
    if uri.startswith(("https://", "http://")):
        return [_resolve_http(uri, name, checksum)]
    raise StrataError(
        grpc.StatusCode.INVALID_ARGUMENT,
        Reason.INVALID_NAME,
        f"unsupported reference {uri!r}: use s3:// or http(s)://",
    )


def _resolve_s3(uri: str, name: str | None, checksum: bool) -> list[Reference]:
    bucket, key = _split_s3(uri)
    s3 = _s3_client()
    if key and not key.endswith("/"):
        if not checksum:
            return [Reference(name or key.rsplit("/", 1)[-1], uri, "", -1, False)]
        stat = s3.stat_object(bucket, key)
        etag = (stat.etag or "").strip('"')
        return [Reference(name or key.rsplit("/", 1)[-1], uri, etag, stat.size, bool(etag))]
    out = []
    for obj in s3.list_objects(bucket, prefix=key, recursive=True):
        if obj.is_dir:
            continue
        rel = obj.object_name[len(key) :]
        path = f"{name.strip('/')}/{rel}" if name else rel
        etag = (obj.etag or "").strip('"') if checksum else ""
        out.append(
            Reference(
                path, f"s3://{bucket}/{obj.object_name}", etag, obj.size if checksum else -1, bool(etag)
            )
        )
        if len(out) > MAX_OBJECTS:
            raise ValueError(f"{uri} holds more than {MAX_OBJECTS} objects; reference a narrower prefix")
    if not out:
        raise FileNotFoundError(f"no objects under {uri}")
    return out


def _resolve_http(uri: str, name: str | None, checksum: bool) -> Reference:
    path = name or (urllib.parse.urlsplit(uri).path.rstrip("/").rsplit("/", 1)[-1] or "index")
    if not checksum:
        return Reference(path, uri, "", -1, False)
    request = urllib.request.Request(uri, method="HEAD")
    with urllib.request.urlopen(request, timeout=30) as response:
        etag = response.headers.get("ETag") or ""
        length = response.headers.get("Content-Length")
    strong = bool(etag) and not etag.startswith("W/")
    size = int(length) if length is not None and length.isdigit() else -1
    return Reference(path, uri, etag if strong else "", size, strong)


def download(uri: str, etag: str, size: int, checksum: bool, dest: Path) -> bool:
    """Fetch a checksum-mode reference to dest (atomically); False when it is not downloadable."""
    if not checksum:
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.strata-ref")
    try:
        got = (
            _fetch_s3(uri, etag, size, tmp) if uri.startswith("s3://") else _fetch_http(uri, etag, size, tmp)
        )
        if size >= 0 and got != size:
            raise changed(uri, f"size is now {got}, was {size}")
        os.replace(tmp, dest)
        return True
    finally:
        tmp.unlink(missing_ok=True)


def _fetch_s3(uri: str, etag: str, size: int, tmp: Path) -> int:
    from minio.error import S3Error

    bucket, key = _split_s3(uri)
    s3 = _s3_client()
    try:
        stat = s3.stat_object(bucket, key)
    except S3Error as e:
        if e.code in {"NoSuchKey", "NoSuchBucket"}:
            raise changed(uri, "the object no longer exists") from None
        raise
    if (stat.etag or "").strip('"') != etag or (size >= 0 and stat.size != size):
        raise changed(uri, f"etag {stat.etag} size {stat.size}, logged etag {etag} size {size}")
    try:
        response = s3.get_object(bucket, key, request_headers={"If-Match": f'"{etag}"'})
    except S3Error as e:
        if e.code == "PreconditionFailed":
            raise changed(uri, "it was replaced during the download") from None
        raise
    try:
        return _copy(response, tmp)
    finally:
        response.close()
        response.release_conn()


def _fetch_http(uri: str, etag: str, size: int, tmp: Path) -> int:
    request = urllib.request.Request(uri, headers={"If-Match": etag})
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as e:
        if e.code in (404, 410, 412):
            raise changed(uri, f"HTTP {e.code}") from None
        raise
    with response:
        now = response.headers.get("ETag") or ""
        if now != etag:
            raise changed(uri, f"ETag is now {now or 'absent'}, was {etag}")
        return _copy(response, tmp)


def _copy(source: Any, tmp: Path) -> int:
    total = 0
    with open(tmp, "wb") as f:
        while True:
            chunk = source.read(_CHUNK)
            if not chunk:
                break
            f.write(chunk)
            total += len(chunk)
        f.flush()
        os.fsync(f.fileno())
    return total
