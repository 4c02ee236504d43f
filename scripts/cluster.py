"""`make cluster`: Strata as separate services behind one gRPC router, on this machine, until Ctrl-C.

Starts PostgreSQL (pgserver), SeaweedFS S3, each service as its own process (two ingest and two
registry replicas), nginx as the router and the web console in front of it (tests/fixtures/cluster.py,
the fixture tests/cluster uses), then prints the router address, the console URL and the admin key to
use. Everything lives in a temporary folder, removed on exit.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures.cluster import Cluster
from tests.fixtures.postgres import PostgresServer
from tests.fixtures.seaweed import SeaweedS3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--max-connection-age", type=float, default=300.0, help="STRATA_GRPC_MAX_CONNECTION_AGE (seconds)"
    )
    args = parser.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with tempfile.TemporaryDirectory(prefix="strata-cluster-") as workdir:
        postgres, seaweed = PostgresServer(), SeaweedS3()
        cluster = Cluster(Path(workdir), postgres, seaweed, max_connection_age=args.max_connection_age)
        try:
            print("starting PostgreSQL, S3, 7 service processes, the router and the console...", flush=True)
            cluster.start()
            print(cluster.banner(), flush=True)
            stop.wait()
        finally:
            print("stopping...", flush=True)
            cluster.stop()
            seaweed.cleanup()
            postgres.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
