"""Offline checks of the Gateway API routes (deploy/kubernetes/gateway-api), used by check.py.

kubernetes-validate knows only the core API, so a GRPCRoute is checked here:
  * by its shape (gateway.networking.k8s.io/v1 GRPCRoute, the fields of the Gateway API reference
    that these routes use), strictly: an unknown or misspelt field fails, as `--strict` does for core
    objects, and each value has its documented type;
  * its metadata by the API server's rules that the CRD schema leaves out (a DNS-1123 name, string
    labels, only fields a client may set);
  * against the rest of the deployment: every backend is a Service of the rendered overlay on a port it
    exposes, and every gRPC package the router (nginx.conf) routes has a route, and no route more.
The CRD's CEL rules (x-kubernetes-validations) are not evaluated here; the API server checks them on apply.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

DNS_1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
METADATA_FIELDS = {"name", "namespace", "labels", "annotations"}
ROUTER_PACKAGE = re.compile(r"location /(strata\.[a-z]+\.v1)\.")


def check_routes(routes: list[dict], overlay: list[dict], router_conf: Path) -> list[str]:
    """Every problem found in `routes` (GRPCRoute objects), given the overlay's objects and the router."""
    problems: list[str] = []
    for route in routes:
        where = f"{route.get('kind')} {route.get('metadata', {}).get('name')}"
        if route.get("kind") != "GRPCRoute":
            problems.append(f"{where}: only GRPCRoute objects belong here")
            continue
        problems += [f"{where}: {p}" for p in _shape(route)]
        problems += [f"{where}: {p}" for p in _metadata(route.get("metadata", {}))]
        problems += [f"{where}: {p}" for p in _backends(route, overlay)]
    problems += _coverage(routes, router_conf)
    return problems


# The GRPCRoute fields these routes may use, by path, with their types: a dict names the allowed keys
# of an object, a one-element list a list of such values, a type a leaf.
_PARENT_REF = {"group": str, "kind": str, "namespace": str, "name": str, "sectionName": str, "port": int}
_BACKEND_REF = {"group": str, "kind": str, "name": str, "namespace": str, "port": int, "weight": int}
_METHOD = {"type": str, "service": str, "method": str}
_HEADER = {"type": str, "name": str, "value": str}
_RULE = {
    "name": str,
    "matches": [{"method": _METHOD, "headers": [_HEADER]}],
    "backendRefs": [_BACKEND_REF],
}
_GRPCROUTE: dict[str, Any] = {
    "apiVersion": str,
    "kind": str,
    "metadata": dict,
    "spec": {"parentRefs": [_PARENT_REF], "hostnames": [str], "rules": [_RULE]},
}
_METHOD_TYPES = {"Exact", "RegularExpression"}


def _shape(route: dict) -> list[str]:
    problems = _walk(route, _GRPCROUTE, "")
    if route.get("apiVersion") != "gateway.networking.k8s.io/v1":
        problems.append("apiVersion must be gateway.networking.k8s.io/v1")
    for i, rule in enumerate(route.get("spec", {}).get("rules", [])):
        for j, match in enumerate(rule.get("matches", [])):
            if match.get("method", {}).get("type", "Exact") not in _METHOD_TYPES:
                problems.append(f"spec.rules[{i}].matches[{j}].method.type must be one of {sorted(_METHOD_TYPES)}")
        if not rule.get("backendRefs"):
            problems.append(f"spec.rules[{i}].backendRefs is required")
    return problems


def _walk(value: Any, shape: Any, path: str) -> list[str]:
    where = path or "(root)"
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{where} must be an object"]
        problems = [f"{path + '.' if path else ''}{k} is not a GRPCRoute field" for k in set(value) - set(shape)]
        for key, sub in shape.items():
            if key in value:
                problems += _walk(value[key], sub, f"{path + '.' if path else ''}{key}")
        return problems
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{where} must be a list"]
        return [p for i, item in enumerate(value) for p in _walk(item, shape[0], f"{path}[{i}]")]
    if shape is int and (isinstance(value, bool) or not isinstance(value, int)):
        return [f"{where} must be an integer"]
    if not isinstance(value, shape):
        return [f"{where} must be a {shape.__name__}"]
    return []


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
