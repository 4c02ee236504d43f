"""Offline checks of the Gateway API routes (deploy/kubernetes/gateway-api), used by check.py.

kubernetes-validate knows only the core API, so a GRPCRoute is checked here:
  * against the GRPCRoute v1 schema vendored from the Gateway API CRD (schemas/gateway-api-grpcroute-v1.json,
    Apache-2.0), made strict: an unknown or misspelt field fails, as `--strict` does for core objects;
  * its metadata by the API server's rules that the CRD schema leaves out (a DNS-1123 name, string
    labels, only fields a client may set);
  * against the rest of the deployment: every backend is a Service of the rendered overlay on a port it
    exposes, and every gRPC package the router (nginx.conf) routes has a route, and no route more.
The CRD's CEL rules (x-kubernetes-validations) are not evaluated here; the API server checks them on apply.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema

SCHEMA = Path(__file__).resolve().parent / "schemas" / "gateway-api-grpcroute-v1.json"
DNS_1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
METADATA_FIELDS = {"name", "namespace", "labels", "annotations"}
ROUTER_PACKAGE = re.compile(r"location /(strata\.[a-z]+\.v1)\.")


def check_routes(routes: list[dict], overlay: list[dict], router_conf: Path) -> list[str]:
    """Every problem found in `routes` (GRPCRoute objects), given the overlay's objects and the router."""
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    problems: list[str] = []
    for route in routes:
        where = f"{route.get('kind')} {route.get('metadata', {}).get('name')}"
        if route.get("kind") != "GRPCRoute":
            problems.append(f"{where}: only GRPCRoute has a vendored schema")
            continue
        problems += [f"{where}: {_path(e)}: {e.message}" for e in validator.iter_errors(route)]
        problems += [f"{where}: {p}" for p in _metadata(route.get("metadata", {}))]
        problems += [f"{where}: {p}" for p in _backends(route, overlay)]
    problems += _coverage(routes, router_conf)
    return problems


def _path(error: jsonschema.ValidationError) -> str:
    return "/".join(str(part) for part in error.absolute_path) or "(root)"


def _metadata(metadata: dict) -> list[str]:
    problems = [f"metadata.{field} is not a field to set" for field in set(metadata) - METADATA_FIELDS]
    name = str(metadata.get("name", ""))
    if len(name) > 253 or not DNS_1123_SUBDOMAIN.fullmatch(name):
        problems.append(f"metadata.name {name!r} is not a DNS-1123 subdomain")
    for field in ("labels", "annotations"):
        values = metadata.get(field, {})
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            problems.append(f"metadata.{field} must map names to strings")
    return problems


def _backends(route: dict, overlay: list[dict]) -> list[str]:
    ports = {
        o["metadata"]["name"]: {p["port"] for p in o["spec"].get("ports", [])}
        for o in overlay
        if o["kind"] == "Service"
    }
    problems = []
    for rule in route.get("spec", {}).get("rules", []):
        for ref in rule.get("backendRefs", []):
            if ref.get("kind", "Service") != "Service" or ref.get("port") not in ports.get(
                ref["name"], set()
            ):
                problems.append(
                    f"backend {ref.get('name')}:{ref.get('port')} is no Service port of the overlay"
                )
    return problems


def _coverage(routes: list[dict], router_conf: Path) -> list[str]:
    """The routes send the same gRPC packages as the router, each to the router's service."""
    routed: dict[str, str] = {}
    for route in routes:
        for rule in route.get("spec", {}).get("rules", []):
            backends = {ref["name"] for ref in rule.get("backendRefs", [])}
            for match in rule.get("matches", []):
                package = str(match.get("method", {}).get("service", "")).rpartition(".")[0]
                if package.startswith("strata."):
                    routed[package] = ",".join(sorted(backends))
    expected = {pkg: f"strata-{pkg.split('.')[1]}" for pkg in ROUTER_PACKAGE.findall(router_conf.read_text())}
    problems = [
        f"package {pkg} has no route (the router sends it to {svc})"
        for pkg, svc in expected.items()
        if pkg not in routed
    ]
    problems += [
        f"package {pkg} goes to {routed[pkg] or 'no backend'}, not {expected.get(pkg, 'anywhere')} as in the router"
        for pkg in routed
        if routed[pkg] != expected.get(pkg)
    ]
    return problems
