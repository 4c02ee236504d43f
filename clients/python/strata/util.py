"""Small helpers W&B scripts reach for under `wandb.util`: `parse_time("7d")` for artifact TTLs."""

from __future__ import annotations

from strata.sdk._artifact_refs import TTL, parse_ttl

__all__ = ["parse_time"]


def parse_time(text: str) -> TTL:
    """ "7d", "12h", "30m", "90s", "2w" -> timedelta ("none" -> None): `artifact.ttl = parse_time("7d")`."""
    return parse_ttl(text)
