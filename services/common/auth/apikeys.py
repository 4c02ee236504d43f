"""API keys: their format, the keyed hash they are stored under, and the server's pepper.

A key reads `strata_<id>_<secret>`:
  id      12 characters of [a-z0-9]: public. It names the key (`apiKeys/<id>`), is its shown prefix
          ("strata_<id>") and is how the server finds the row, so no secret is ever searched for.
  secret  32 random bytes, base64url (43 characters): 256 bits, shown once at creation.
The database keeps HMAC-SHA256(pepper, "<id>:<secret>") only. The pepper is a server secret kept out of
the database (STRATA_API_KEY_PEPPER, or a 0600 file in the data folder), so a database dump reveals no
key and does not even let anyone test guesses offline. Verification recomputes the HMAC and compares
with `hmac.compare_digest`, whose running time does not depend on how many bytes match.
"""

from __future__ import annotations

import base64
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from ..config import MIN_PEPPER_BYTES

KEY_PREFIX = "strata_"
ID_LENGTH = 12
SECRET_BYTES = 32
_SECRET_LENGTH = 43  # base64url of 32 bytes, unpadded
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_KEY_RE = re.compile(rf"{KEY_PREFIX}([a-z0-9]{{{ID_LENGTH}}})_([A-Za-z0-9_-]{{{_SECRET_LENGTH}}})")
_FINGERPRINT_MESSAGE = b"strata api-key pepper fingerprint v1"


@dataclass(frozen=True)
class NewKey:
    id: str
    token: str  # the whole key, given to the caller once
    prefix: str
    secret_hash: bytes


def generate(pepper: bytes) -> NewKey:
    key_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(ID_LENGTH))
    secret = base64.urlsafe_b64encode(secrets.token_bytes(SECRET_BYTES)).rstrip(b"=").decode()
    return NewKey(
        id=key_id,
        token=f"{KEY_PREFIX}{key_id}_{secret}",
        prefix=f"{KEY_PREFIX}{key_id}",
        secret_hash=hash_secret(pepper, key_id, secret),
    )


def parse(token: str) -> tuple[str, str] | None:
    """Split a presented key into (id, secret); None when it is not shaped like a Strata key."""
    m = _KEY_RE.fullmatch(token)
    return (m.group(1), m.group(2)) if m is not None else None


def hash_secret(pepper: bytes, key_id: str, secret: str) -> bytes:
    return hmac.digest(pepper, f"{key_id}:{secret}".encode(), "sha256")


def verify(pepper: bytes, key_id: str, secret: str, stored_hash: bytes) -> bool:
    """Constant-time check of a presented secret against the stored keyed hash."""
    return hmac.compare_digest(hash_secret(pepper, key_id, secret), stored_hash)


def fingerprint(pepper: bytes) -> bytes:
    """What the database keeps to recognise the pepper (not the pepper, not usable to hash keys)."""
    return hmac.digest(pepper, _FINGERPRINT_MESSAGE, "sha256")


def load_pepper(configured: str | None, path: Path) -> bytes:
    """The configured pepper, else the one in `path`, created (0600, 32 random bytes) on first use."""
    if configured:
        if len(configured.encode()) < MIN_PEPPER_BYTES:
            raise SystemExit(f"STRATA_API_KEY_PEPPER must be at least {MIN_PEPPER_BYTES} bytes")
        return configured.encode()
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process of the same data folder won the race
        return bytes.fromhex(path.read_text().strip())
    with os.fdopen(fd, "w") as f:
        f.write(value.hex() + "\n")
    return value
