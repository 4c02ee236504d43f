"""`python -m strata_server.web` (and `strata web`): the console alone, calling the gRPC services at
$STRATA_ADDR. The all-in-one server (`strata server`, `make run`) starts it beside the services."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .config import WebSettings
from .server import serve


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Strata web console (HTTP) in front of the gRPC services.")
    parser.add_argument(
        "--web-addr", help="listen address host:port (default $STRATA_WEB_ADDR or 127.0.0.1:8080)"
    )
    parser.add_argument("--addr", help="gRPC services to call (default $STRATA_ADDR or 127.0.0.1:50051)")
    args = parser.parse_args(argv)
    settings = WebSettings.from_env(web_addr=args.web_addr, grpc_addr=args.addr)
    print(
        f"Strata console on {settings.url()} (services at {settings.grpc_addr})", file=sys.stderr, flush=True
    )
    serve(settings)


if __name__ == "__main__":
    main()
