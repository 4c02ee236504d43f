"""Run benchmark modules: `python -m bench [name ...]` (names match bench/bench_<name>.py)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    available = sorted(
        m.name[len("bench_") :]
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.startswith("bench_")
    )
    wanted = [a for a in argv if not a.startswith("-")] or available
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        print(f"unknown benchmarks {unknown}; available: {available}")
        return 2
    if not available:
        print("no benchmarks yet")
        return 0
    for name in wanted:
        print(f"\n=== bench {name} ===", flush=True)
        t0 = time.perf_counter()
        importlib.import_module(f"bench.bench_{name}").main([a for a in argv if a.startswith("-")])
        print(f"=== bench {name} done in {time.perf_counter() - t0:.1f}s ===", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
