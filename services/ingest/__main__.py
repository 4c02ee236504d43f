"""Run the ingest service alone: `python -m strata_server.ingest` (one Kubernetes deployment)."""

from ..common.server import run_main
from .server import SPEC


def main() -> None:
    run_main([SPEC], description="Strata ingest service (alone).")


if __name__ == "__main__":
    main()
