"""The public schema's invariants: generated code is fresh, every RPC has a permission rule and a
comment, every error reason the servers use exists in strata.common.v1.ErrorReason."""

from __future__ import annotations

import subprocess
import sys
import typing
from collections import abc
from pathlib import Path

import pytest
from google.protobuf import descriptor_pool
from strata.errors import Reason
from strata_server.__main__ import all_specs
from strata_server.common.auth.policy import RULES, resource_values

ROOT = Path(__file__).resolve().parents[2]


def _service_descriptors():
    import importlib

    for spec in all_specs():
        pkg = spec.full_name.rsplit(".", 1)[0]
        module = importlib.import_module(f"strata.{pkg.split('.')[1]}.v1.{spec.name}_service_pb2")
        yield module.DESCRIPTOR.services_by_name[spec.full_name.rsplit(".", 1)[1]]


def test_generated_code_matches_the_proto_files() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_proto.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_typed_client_has_one_method_per_rpc_typed_with_its_messages() -> None:
    """`client.<service>.<Rpc>` exists for every RPC of every service, takes its request message (an
    iterable of them when the client streams) and returns its response (an iterator when the server
    streams), so editors and mypy know every call."""
    from strata.client import Client

    client = Client("127.0.0.1:1", api_key="")  # nothing connects before a call
    try:
        for svc in _service_descriptors():
            wrapper = getattr(client, svc.full_name.split(".")[1])
            assert type(wrapper).__name__ == svc.name
            for m in svc.methods:
                hints = typing.get_type_hints(getattr(wrapper, m.name))
                request = hints.pop("requests" if m.client_streaming else "request")
                response = hints.pop("return")
                if m.client_streaming:
                    assert typing.get_origin(request) is abc.Iterable, m.full_name
                    [request] = typing.get_args(request)
                if m.server_streaming:
                    assert typing.get_origin(response) is abc.Iterator, m.full_name
                    [response] = typing.get_args(response)
                assert request.DESCRIPTOR is m.input_type, m.full_name
                assert response.DESCRIPTOR is m.output_type, m.full_name
                assert set(hints) == {"timeout", "metadata", "retry"}, m.full_name
    finally:
        client.close()


def test_every_rpc_of_every_service_has_a_permission_rule() -> None:
    methods = [f"/{svc.full_name}/{m.name}" for svc in _service_descriptors() for m in svc.methods]
    assert len(methods) > 60
    missing = [m for m in methods if m not in RULES]
    assert missing == []


@pytest.mark.parametrize("method", sorted(k for k in RULES if k.startswith("/strata.")))
def test_permission_rules_name_fields_that_exist(method: str) -> None:
    """A rule's resource path must exist on the request (or first stream message) type."""
    service_name, rpc = method.strip("/").split("/")
    pool = descriptor_pool.Default()
    request = pool.FindMethodByName(f"{service_name}.{rpc}").input_type
    for check in RULES[method].checks:
        if check.field is None:
            continue
        path = check.field.split(":", 1)[-1].replace("[]", "").split(".")
        desc = request
        for part in path:
            assert part in desc.fields_by_name, f"{method}: {check.field} not in {desc.full_name}"
            field = desc.fields_by_name[part]
            desc = field.message_type if field.message_type else None


def test_resource_values_reads_nested_and_repeated_fields() -> None:
    from strata.ingest.v1 import ingest_service_pb2, run_pb2
    from strata.query.v1 import query_service_pb2

    req = ingest_service_pb2.UpdateRunRequest(run=run_pb2.Run(name="entities/a/projects/b/runs/c"))
    assert resource_values(req, "run.name") == ["entities/a/projects/b/runs/c"]
    batch = query_service_pb2.BatchGetHistoryRequest(runs=["r1", "r2"])
    assert resource_values(batch, "runs[]") == ["r1", "r2"]
    assert resource_values(batch, "ref:runs[]") == ["r1", "r2"]


def test_every_rpc_is_documented_in_the_proto() -> None:
    for svc in _service_descriptors():
        file_proto = svc.file
        source = (ROOT / "proto" / file_proto.name).read_text()
        for m in svc.methods:
            line = next(i for i, text in enumerate(source.splitlines()) if f"rpc {m.name}(" in text)
            above = source.splitlines()[line - 1].strip()
            assert above.startswith("//"), f"{svc.full_name}/{m.name} has no comment"


def test_error_reasons_used_in_server_code_exist_in_the_schema() -> None:
    import re

    used = set()
    for path in (ROOT / "services").rglob("*.py"):
        used |= set(re.findall(r"Reason\.([A-Z_]+)", path.read_text()))
    assert used, "no reasons found"
    assert sorted(r for r in used if r not in Reason) == []
