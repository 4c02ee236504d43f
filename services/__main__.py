"""The embedded default: every service in one process on one port.

`python -m strata_server` (also `strata server` and `make run`); the web console starts beside it on
STRATA_WEB_ADDR (default http://127.0.0.1:8080).
"""

from __future__ import annotations

from collections.abc import Sequence

from .common.server import ServiceSpec, run_main


def all_specs() -> list[ServiceSpec]:
    from .iam.server import SPEC as IAM
    from .ingest.server import SPEC as INGEST
    from .lineage.server import SPEC as LINEAGE
    from .query.server import SPEC as QUERY
    from .registry.server import SPEC as REGISTRY

    return [INGEST, REGISTRY, LINEAGE, QUERY, IAM]


def main(argv: Sequence[str] | None = None) -> None:
    run_main(
        all_specs(),
        argv,
        description="Strata: all services and the web console in one process (the embedded default).",
        console=True,
    )


if __name__ == "__main__":
    main()
