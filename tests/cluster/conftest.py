"""Cluster tests: every service its own process behind the nginx gRPC router (tests/fixtures/cluster.py).

One cluster per module, with a short maximum connection age (2 s, 3 s grace), so the tests also run
through many GOAWAYs and reconnects."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.cluster import Cluster
from tests.fixtures.postgres import PostgresServer
from tests.fixtures.seaweed import SeaweedS3

MAX_CONNECTION_AGE = 2.0


@pytest.fixture(scope="module")
def cluster(
    postgres: PostgresServer, seaweed: SeaweedS3, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    c = Cluster(
        tmp_path_factory.mktemp("cluster"),
        postgres,
        seaweed,
        max_connection_age=MAX_CONNECTION_AGE,
        max_connection_age_grace=3.0,
    )
    try:
        c.start()
        yield c
    finally:
        c.stop()
