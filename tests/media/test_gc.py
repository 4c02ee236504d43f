"""Blobs of rich values are referenced by the media index: garbage collection keeps them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import strata
from strata.registry.v1 import registry_service_pb2 as rpb

from tests.fixtures.servers import ServerThread, make_settings

pytestmark = [pytest.mark.usefixtures("spool"), pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def gc_server(pg_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """No grace period: every unreferenced blob is collectable at once."""
    srv = ServerThread(
        make_settings(tmp_path_factory.mktemp("gc"), pg_dsn, gc_grace=0.0, gc_interval=0.0)
    ).start()
    yield srv
    srv.stop()


def test_garbage_collection_keeps_the_blobs_of_rich_values(gc_server: ServerThread, tmp_path: Path) -> None:
    img = np.arange(64, dtype=np.uint8).reshape(8, 8)
    run = strata.init(project="media-gc", entity="tester", addr=gc_server.addr)
    run.log({"img": strata.Image(img), "t": "kept"})
    run.finish()
    with gc_server.client() as c:
        report = c.registry.RunGarbageCollection(rpb.RunGarbageCollectionRequest()).report
    assert report.deleted_blobs == 0
    r = strata.Api(addr=gc_server.addr).run(run.path)
    assert r.media("t")[0].text() == "kept"
    assert r.media("img")[0].download(tmp_path).stat().st_size > 0
