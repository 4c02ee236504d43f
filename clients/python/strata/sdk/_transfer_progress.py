"""Progress bars for transfers (bytes, rate, ETA) with tqdm; quiet unless stderr is a terminal.

`progress=None` (the default everywhere) shows a bar only when stderr is a TTY and STRATA_QUIET is not
set; `progress=False` never shows one; `progress=True` always does. Updates come from many worker
threads, so they are serialized here.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any


def progress_enabled(progress: bool | None) -> bool:
    if progress is not None:
        return bool(progress)
    if os.environ.get("STRATA_QUIET", "").strip().lower() in {"1", "true", "yes", "on"}:
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """A byte counter, drawn as a tqdm bar when enabled. Thread-safe; also a context manager."""

    def __init__(self, total: int, desc: str, enabled: bool) -> None:
        self.total = total
        self.done = 0
        self._lock = threading.Lock()
        self._bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=total,
                desc=desc,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                dynamic_ncols=True,
                leave=True,
                file=sys.stderr,
            )

    def update(self, n: int) -> None:
        if not n:
            return
        with self._lock:
            self.done += n
            if self._bar is not None:
                self._bar.update(n)

    def grow(self, n: int, desc: str | None = None) -> None:
        """More bytes to move than announced (a transfer that learns its work as it goes)."""
        with self._lock:
            self.total += n
            if self._bar is not None:
                self._bar.total = self.total
                if desc:
                    self._bar.set_description(desc, refresh=False)
                self._bar.refresh()

    def close(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_progress(total: int, desc: str, progress: bool | None) -> Progress:
    return Progress(total, desc, progress_enabled(progress))
