"""structlog set-up: JSON lines (or console), context variables merged first.

The server interceptor binds `rpc`, `request_id`, `peer` and `principal` into contextvars, so every
event logged while serving a call carries them; with tracing on, `trace_id` and `span_id` of the
active span are added too (tracing.add_trace_ids). Events are snake_case names with key/value fields.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

from .tracing import add_trace_ids


def configure(level: str = "info", fmt: str = "json", file: TextIO | None = None) -> None:
    """Structured logs at `level`, as JSON lines or for a console, to `file` (default stderr)."""
    log_level = getattr(logging, level.upper(), logging.INFO)
    renderer: structlog.typing.Processor
    if fmt == "console":
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    else:
        renderer = structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            add_trace_ids,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(log_level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr if file is None else file),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
