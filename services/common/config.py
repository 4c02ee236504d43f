"""Configuration from environment variables, read once at start-up.

Every variable, its default and meaning is listed in `SETTINGS_DOC` (docs/configuration.md is generated
from it by `python scripts/gen_docs.py`; `python -m strata_server.common.config` prints the table).

Secrets (`SECRET_VARIABLES`) may instead be given as a file: `<VAR>_FILE=/path` reads the value from
the file with its trailing newline stripped, the way Kubernetes and Compose mount secrets. Setting both
`<VAR>` and `<VAR>_FILE` is an error. A secret still holding a placeholder (`CHANGE-ME`), or an API-key
pepper shorter than `MIN_PEPPER_BYTES`, stops the start with a `ConfigError` naming the variable: a
deployment must never run on a value copied from an example. The embedded default needs none of them
(no DSN, a local blob folder, a pepper generated into the data folder).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# (variable, default, description): the single source of the configuration table.
SETTINGS_DOC: list[tuple[str, str, str]] = [
    ("STRATA_ADDR", "127.0.0.1:50051", "Address the all-in-one server (and each service alone) listens on."),
    (
        "STRATA_DATA_DIR",
        "./.strata",
        "Data folder of the embedded default: PostgreSQL data and the blob folder.",
    ),
    (
        "STRATA_PG_DSN",
        "(unset)",
        "PostgreSQL DSN. Unset: start an embedded PostgreSQL (pgserver) in $STRATA_DATA_DIR/pg.",
    ),
    (
        "STRATA_PG_READ_DSN",
        "(unset)",
        "PostgreSQL DSN of a read replica (a hot standby of STRATA_PG_DSN). Set: the query service's reads "
        "(run search and counts, metric keys and history) go to a second pool on it. Unset: they use the primary.",
    ),
    ("STRATA_PG_POOL_MIN", "2", "Minimum connections in the asyncpg pool."),
    ("STRATA_PG_POOL_MAX", "16", "Maximum connections in the asyncpg pool."),
    (
        "STRATA_INGEST_COMMITTERS",
        "2",
        "Group committers per ingest process (1-64): each commits the metric streams of its share of the "
        "runs, all of them in one transaction at a time, so this is how many metric transactions one "
        "process runs at once. Raise it when PostgreSQL has cores to spare and the "
        "strata_ingest_group_commit_seconds histogram shows commits as the wait.",
    ),
    (
        "STRATA_PG_STATEMENT_TIMEOUT",
        "30",
        "Seconds any one SQL statement of the pool may run (PostgreSQL statement_timeout; 0: no limit). "
        "A statement cut off answers DEADLINE_EXCEEDED, so no call holds a pool connection for long.",
    ),
    (
        "STRATA_HEAVY_CALLS_PER_PRINCIPAL",
        "4",
        "keys mode: heavy calls (bulk writes, listed in operations.md) one principal may have in progress "
        "at once; further ones wait up to STRATA_HEAVY_CALL_WAIT, then answer RESOURCE_EXHAUSTED "
        "(TOO_MANY_CONCURRENT_CALLS). 0: no limit.",
    ),
    (
        "STRATA_HEAVY_CALL_WAIT",
        "2",
        "Seconds a heavy call over its principal's limit waits for a slot before it is refused.",
    ),
    (
        "STRATA_BLOB_DIR",
        "$STRATA_DATA_DIR/blobs",
        "Blob folder of the local backend (used when STRATA_S3_ENDPOINT is unset).",
    ),
    ("STRATA_S3_ENDPOINT", "(unset)", "S3 endpoint host:port (MinIO, AWS, SeaweedFS). Set: blobs go to S3."),
    ("STRATA_S3_ACCESS_KEY", "(empty)", "S3 access key."),
    ("STRATA_S3_SECRET_KEY", "(empty)", "S3 secret key."),
    ("STRATA_S3_BUCKET", "strata", "S3 bucket (created at start when missing)."),
    ("STRATA_S3_REGION", "(unset)", "S3 region."),
    ("STRATA_S3_SECURE", "false", "Use HTTPS for S3."),
    ("STRATA_S3_THREADS", "16", "Bound on concurrent blocking S3 calls (they run in threads)."),
    (
        "STRATA_WEB_ADDR",
        "127.0.0.1:8080",
        "Where the web console listens (the all-in-one server starts it beside the services; `off` "
        "disables it there). `python -m strata_server.web` runs it alone, calling the services at STRATA_ADDR.",
    ),
    ("STRATA_WEB_SESSION_SECONDS", "43200", "Lifetime of a console sign-in session (seconds)."),
    (
        "STRATA_WEB_SESSION_CACHE_SECONDS",
        "2",
        "How long a console replica trusts a session it checked in PostgreSQL before checking it again "
        "(sign-out and key revocation also reach it at once through LISTEN/NOTIFY).",
    ),
    ("STRATA_LOG_LEVEL", "info", "debug, info, warning or error."),
    ("STRATA_LOG_FORMAT", "json", "json (one object per line) or console."),
    (
        "STRATA_ACCESS_LOG_LEVEL",
        "info",
        "Level of the access log line written for every RPC (method, code, duration, principal): debug, "
        "info, warning or error; off: none.",
    ),
    (
        "STRATA_METRICS_ADDR",
        "127.0.0.1:9464",
        "host:port of the Prometheus endpoint (GET /metrics) of each server process; empty: none. "
        "Use 0.0.0.0:9464 to let a scraper on another host reach it.",
    ),
    (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "(unset)",
        "Set (e.g. http://collector:4317): export traces over OTLP/gRPC (needs the `otel` extra); the "
        "other standard OTEL_* variables apply.",
    ),
    ("STRATA_GRACE_SECONDS", "10", "On SIGTERM/SIGINT: seconds in-flight calls get to finish."),
    (
        "STRATA_TLS_CERT",
        "(unset)",
        "PEM certificate chain of the server. With STRATA_TLS_KEY: the server speaks TLS only (clients: "
        "STRATA_TLS=1, and STRATA_TLS_CA for a private CA). Unset: plaintext (put TLS in front).",
    ),
    ("STRATA_TLS_KEY", "(unset)", "PEM private key of STRATA_TLS_CERT."),
    (
        "STRATA_AUTH_MODE",
        "keys",
        "keys (API keys required; the first start creates an admin user and its key) or open-local "
        "(no keys, every caller is the local user; loopback addresses only).",
    ),
    (
        "STRATA_ADMIN_KEY_FILE",
        "$STRATA_DATA_DIR/admin-api-key",
        "keys mode: where the first start writes the bootstrap admin's API key (mode 0600).",
    ),
    (
        "STRATA_API_KEY_PEPPER",
        "(generated)",
        "Secret of the keyed hash (HMAC-SHA256) API keys are stored under. Unset: generated once into "
        "$STRATA_DATA_DIR/api-key-pepper (0600). Give every process of one deployment the same value.",
    ),
    (
        "STRATA_AUTH_CACHE_SECONDS",
        "10",
        "How long each process trusts a verified key and its roles; revocations and role changes "
        "also reach every process at once through PostgreSQL LISTEN/NOTIFY.",
    ),
    (
        "STRATA_RUN_CRASH_TIMEOUT",
        "300",
        "Seconds without heartbeat after which a running run becomes crashed.",
    ),
    (
        "STRATA_UPLOAD_EXPIRY",
        "86400",
        "Seconds after which an idle upload session expires and its parts are deleted.",
    ),
    (
        "STRATA_UPLOAD_PART_SIZE",
        "16777216",
        "Bytes gathered from upload chunks into one blob-store part (S3 needs >= 5 MiB).",
    ),
    ("STRATA_UPLOAD_MAX_CHUNK", "8388608", "Largest upload chunk (bytes) a client may send in one message."),
    (
        "STRATA_UPLOAD_BUFFER",
        "33554432",
        "Bound on upload bytes one server process buffers in memory across all streams.",
    ),
    (
        "STRATA_UPLOAD_BUFFER_PER_PRINCIPAL",
        "0",
        "Share of STRATA_UPLOAD_BUFFER (bytes) one principal's streams may hold (0: half of it).",
    ),
    (
        "STRATA_UPLOAD_IDLE_SECONDS",
        "60",
        "Seconds an upload stream may send nothing before the server ends it (UPLOAD_IDLE_TIMEOUT).",
    ),
    (
        "STRATA_UPLOAD_STREAMS_PER_PRINCIPAL",
        "16",
        "Upload streams one principal may run at once on a server process (TOO_MANY_UPLOAD_STREAMS).",
    ),
    (
        "STRATA_UPLOAD_SESSIONS_PER_PRINCIPAL",
        "500",
        "Open (uncommitted) upload sessions one principal may have (TOO_MANY_UPLOAD_SESSIONS).",
    ),
    (
        "STRATA_MAX_BLOB_BYTES",
        "1099511627776",
        "Largest blob (bytes) an upload session may declare (1 TiB; INVALID_ARGUMENT expected_size).",
    ),
    (
        "STRATA_GC_INTERVAL",
        "3600",
        "Seconds between background TTL-expiry and garbage-collection passes (0: off).",
    ),
    (
        "STRATA_GC_GRACE",
        "3600",
        "Seconds a blob must be untouched (not uploaded, not reported present) before GC may delete it.",
    ),
    (
        "STRATA_DRAFT_EXPIRY",
        "86400",
        "Seconds after which an idle uncommitted artifact draft is discarded by the GC pass.",
    ),
    (
        "STRATA_MAX_MESSAGE_BYTES",
        "67108864",
        "Maximum gRPC message size accepted by servers: the data paths (upload chunks, small-blob "
        "batches, metric streams) may use all of it.",
    ),
    (
        "STRATA_MAX_REQUEST_BYTES",
        "4194304",
        "Maximum request message of every other RPC (manifest and file-list writes: 4x this); larger "
        "ones answer RESOURCE_EXHAUSTED (TOO_LARGE) before they are parsed.",
    ),
    (
        "STRATA_GRPC_STREAM_WINDOW",
        "4194304",
        "HTTP/2 receive window (bytes) per incoming stream: how much a client may send ahead of what the "
        "server has read. Bounds memory during uploads; 0 restores gRPC's default (BDP-probed windows "
        "that grow without a bound the server controls; measured: +80 MB RSS during a 1 GiB upload).",
    ),
    (
        "STRATA_GRPC_MAX_CONNECTION_AGE",
        "300",
        "Seconds a client connection takes new calls (gRPC adds +-10% jitter), then the server sends "
        "GOAWAY and clients reconnect, through the load balancer again: long-lived connections spread "
        "over replicas added since. 0: no limit.",
    ),
    (
        "STRATA_GRPC_MAX_CONNECTION_AGE_GRACE",
        "60",
        "Seconds calls in flight on an aged connection get to finish before it is closed; streams cut "
        "then resume on a new connection (metric streams and WatchAlias lose nothing). 0: no limit.",
    ),
    (
        "STRATA_ROLLUP_INTERVAL",
        "2",
        "Seconds between passes of the query service's history rollup job (0: off; reads stay exact).",
    ),
]


# Variables that hold secrets: each also accepts `<VAR>_FILE`, and none may keep a placeholder value.
SECRET_VARIABLES = (
    "STRATA_PG_DSN",
    "STRATA_PG_READ_DSN",
    "STRATA_S3_ACCESS_KEY",
    "STRATA_S3_SECRET_KEY",
    "STRATA_API_KEY_PEPPER",
)
PLACEHOLDER = "CHANGE-ME"
MIN_PEPPER_BYTES = 32  # the generated pepper is 32 random bytes; `openssl rand -hex 32` gives 64 characters


class ConfigError(SystemExit):
    """A configuration that must not start. A SystemExit, so wherever the settings are read the process
    stops with this message and exit status 1, without a traceback."""


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "")
    return value if value != "" else default


def _int_in(name: str, default: int, low: int, high: int) -> int:
    raw = _env(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be in {low}..{high}, got {value}")
    return value


def _bool(name: str, default: bool) -> bool:
    return _env(name, "true" if default else "false").strip().lower() in {"1", "true", "yes", "on"}


def _secret(name: str) -> str:
    """A secret from `name` or from the file `name`_FILE names ("" when neither is set)."""
    value = os.environ.get(name, "")
    path = os.environ.get(f"{name}_FILE", "")
    if value and path:
        raise ConfigError(f"{name} and {name}_FILE are both set: set only one of them")
    if path:
        try:
            value = Path(path).read_text().rstrip("\r\n")
        except OSError as e:
            raise ConfigError(f"cannot read {name}_FILE ({path}): {e.strerror}") from e
        if not value:
            raise ConfigError(f"{name}_FILE ({path}) is empty")
    if PLACEHOLDER.lower() in value.lower():
        raise ConfigError(f"{name} still holds the placeholder {PLACEHOLDER!r}: set the real secret")
    return value


def _pepper() -> str | None:
    value = _secret("STRATA_API_KEY_PEPPER")
    if value and len(value.encode()) < MIN_PEPPER_BYTES:
        raise ConfigError(
            f"STRATA_API_KEY_PEPPER is shorter than {MIN_PEPPER_BYTES} bytes: use a random value "
            "(openssl rand -hex 32), or leave it unset to generate one into the data folder"
        )
    return value or None


@dataclass(frozen=True)
class S3Settings:
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str
    region: str | None
    secure: bool
    threads: int


@dataclass(frozen=True)
class Settings:
    addr: str = "127.0.0.1:50051"
    data_dir: Path = Path(".strata")
    pg_dsn: str | None = None
    pg_read_dsn: str | None = None
    pg_pool_min: int = 2
    pg_pool_max: int = 16
    pg_statement_timeout: float = 30.0
    heavy_calls_per_principal: int = 4
    heavy_call_wait: float = 2.0
    blob_dir: Path = Path(".strata/blobs")
    s3: S3Settings | None = None
    log_level: str = "info"
    log_format: str = "json"
    access_log_level: str = "info"
    metrics_addr: str = ""  # from_env defaults to 127.0.0.1:9464; "" (tests, embedded callers): none
    grace_seconds: float = 10.0
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    auth_mode: str = "keys"
    admin_key_file: Path | None = None  # None: data_dir / "admin-api-key"
    api_key_pepper: str | None = None  # None: data_dir / "api-key-pepper", generated once
    auth_cache_seconds: float = 10.0
    run_crash_timeout: float = 300.0
    upload_expiry: float = 86400.0
    upload_part_size: int = 16 * 1024 * 1024
    upload_max_chunk: int = 8 * 1024 * 1024
    upload_buffer: int = 32 * 1024 * 1024
    upload_buffer_per_principal: int = 0
    upload_idle_seconds: float = 60.0
    upload_streams_per_principal: int = 16
    upload_sessions_per_principal: int = 500
    max_blob_bytes: int = 1 << 40
    gc_interval: float = 3600.0
    gc_grace: float = 3600.0
    draft_expiry: float = 86400.0
    max_message_bytes: int = 64 * 1024 * 1024
    max_request_bytes: int = 4 * 1024 * 1024
    grpc_stream_window: int = 4 * 1024 * 1024
    grpc_max_connection_age: float = 300.0
    grpc_max_connection_age_grace: float = 60.0
    rollup_interval: float = 2.0
    ingest_committers: int = 2
    web_addr: str = "127.0.0.1:8080"  # "off": the all-in-one server starts no console
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def pepper_file(self) -> Path:
        """Where a generated API-key pepper lives (when STRATA_API_KEY_PEPPER is unset)."""
        return self.data_dir / "api-key-pepper"

    @property
    def admin_key_path(self) -> Path:
        return self.admin_key_file or self.data_dir / "admin-api-key"

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        data_dir = Path(_env("STRATA_DATA_DIR", ".strata"))
        s3 = None
        if os.environ.get("STRATA_S3_ENDPOINT"):
            s3 = S3Settings(
                endpoint=os.environ["STRATA_S3_ENDPOINT"],
                access_key=_secret("STRATA_S3_ACCESS_KEY"),
                secret_key=_secret("STRATA_S3_SECRET_KEY"),
                bucket=_env("STRATA_S3_BUCKET", "strata"),
                region=os.environ.get("STRATA_S3_REGION") or None,
                secure=_bool("STRATA_S3_SECURE", False),
                threads=int(_env("STRATA_S3_THREADS", "16")),
            )
        values: dict[str, Any] = dict(
            addr=_env("STRATA_ADDR", "127.0.0.1:50051"),
            data_dir=data_dir,
            pg_dsn=_secret("STRATA_PG_DSN") or None,
            pg_read_dsn=_secret("STRATA_PG_READ_DSN") or None,
            pg_pool_min=int(_env("STRATA_PG_POOL_MIN", "2")),
            pg_pool_max=int(_env("STRATA_PG_POOL_MAX", "16")),
            ingest_committers=_int_in("STRATA_INGEST_COMMITTERS", 2, 1, 64),
            pg_statement_timeout=float(_env("STRATA_PG_STATEMENT_TIMEOUT", "30")),
            heavy_calls_per_principal=int(_env("STRATA_HEAVY_CALLS_PER_PRINCIPAL", "4")),
            heavy_call_wait=float(_env("STRATA_HEAVY_CALL_WAIT", "2")),
            blob_dir=Path(_env("STRATA_BLOB_DIR", str(data_dir / "blobs"))),
            s3=s3,
            log_level=_env("STRATA_LOG_LEVEL", "info"),
            log_format=_env("STRATA_LOG_FORMAT", "json"),
            access_log_level=_env("STRATA_ACCESS_LOG_LEVEL", "info").strip().lower(),
            metrics_addr=os.environ.get("STRATA_METRICS_ADDR", "127.0.0.1:9464").strip(),
            grace_seconds=float(_env("STRATA_GRACE_SECONDS", "10")),
            tls_cert_file=Path(os.environ["STRATA_TLS_CERT"]) if os.environ.get("STRATA_TLS_CERT") else None,
            tls_key_file=Path(os.environ["STRATA_TLS_KEY"]) if os.environ.get("STRATA_TLS_KEY") else None,
            auth_mode=_env("STRATA_AUTH_MODE", "keys"),
            admin_key_file=Path(os.environ["STRATA_ADMIN_KEY_FILE"])
            if os.environ.get("STRATA_ADMIN_KEY_FILE")
            else None,
            api_key_pepper=_pepper(),
            auth_cache_seconds=float(_env("STRATA_AUTH_CACHE_SECONDS", "10")),
            run_crash_timeout=float(_env("STRATA_RUN_CRASH_TIMEOUT", "300")),
            upload_expiry=float(_env("STRATA_UPLOAD_EXPIRY", "86400")),
            upload_part_size=int(_env("STRATA_UPLOAD_PART_SIZE", str(16 * 1024 * 1024))),
            upload_max_chunk=int(_env("STRATA_UPLOAD_MAX_CHUNK", str(8 * 1024 * 1024))),
            upload_buffer=int(_env("STRATA_UPLOAD_BUFFER", str(32 * 1024 * 1024))),
            upload_buffer_per_principal=int(_env("STRATA_UPLOAD_BUFFER_PER_PRINCIPAL", "0")),
            upload_idle_seconds=float(_env("STRATA_UPLOAD_IDLE_SECONDS", "60")),
            upload_streams_per_principal=int(_env("STRATA_UPLOAD_STREAMS_PER_PRINCIPAL", "16")),
            upload_sessions_per_principal=int(_env("STRATA_UPLOAD_SESSIONS_PER_PRINCIPAL", "500")),
            max_blob_bytes=int(_env("STRATA_MAX_BLOB_BYTES", str(1 << 40))),
            gc_interval=float(_env("STRATA_GC_INTERVAL", "3600")),
            gc_grace=float(_env("STRATA_GC_GRACE", "3600")),
            draft_expiry=float(_env("STRATA_DRAFT_EXPIRY", "86400")),
            max_message_bytes=int(_env("STRATA_MAX_MESSAGE_BYTES", str(64 * 1024 * 1024))),
            max_request_bytes=int(_env("STRATA_MAX_REQUEST_BYTES", str(4 * 1024 * 1024))),
            grpc_stream_window=int(_env("STRATA_GRPC_STREAM_WINDOW", str(4 * 1024 * 1024))),
            grpc_max_connection_age=float(_env("STRATA_GRPC_MAX_CONNECTION_AGE", "300")),
            grpc_max_connection_age_grace=float(_env("STRATA_GRPC_MAX_CONNECTION_AGE_GRACE", "60")),
            rollup_interval=float(_env("STRATA_ROLLUP_INTERVAL", "2")),
            web_addr=_env("STRATA_WEB_ADDR", "127.0.0.1:8080"),
        )
        values.update(overrides)
        return cls(**values)


def markdown_table() -> str:
    rows = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    rows += [f"| `{name}` | `{default}` | {doc} |" for name, default, doc in SETTINGS_DOC]
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
