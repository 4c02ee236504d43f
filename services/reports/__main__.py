"""Run the reports service alone: `python -m strata_server.reports` (one Kubernetes deployment)."""

from ..common.server import run_main
from .server import SPEC


def main() -> None:
    run_main([SPEC], description="Strata reports service (alone).")


if __name__ == "__main__":
    main()
