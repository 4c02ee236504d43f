"""Run the registry service alone: `python -m strata_server.registry` (one Kubernetes deployment)."""

from ..common.server import run_main
from .server import SPEC


def main() -> None:
    run_main([SPEC], description="Strata registry service (alone).")


if __name__ == "__main__":
    main()
