"""Fixtures of the lineage tests: graphs written as SQL rows (tests/fixtures/lineage.py) on the
module's server, and a lineage stub on a real channel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.lineage import (
    ClassifierPipeline,
    GraphBuilder,
    TokenizerSwap,
    build_classifier_pipeline,
    build_tokenizer_swap,
)


@pytest.fixture(scope="module")
def builder(server) -> GraphBuilder:  # type: ignore[no-untyped-def]
    return GraphBuilder(server)


@pytest.fixture(scope="module")
def pipe(builder: GraphBuilder) -> ClassifierPipeline:
    return build_classifier_pipeline(builder)


@pytest.fixture(scope="module")
def swap(builder: GraphBuilder) -> TokenizerSwap:
    return build_tokenizer_swap(builder)


@pytest.fixture(scope="module")
def lineage(server) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """The raw LineageService stub of a client on the module's server."""
    with server.client() as client:
        yield client.lineage
