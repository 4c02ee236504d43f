"""The console's Kubernetes objects work as written: the settings its Deployment sets let it serve its
probe path and accept a browser's sign-in behind a TLS-terminating Ingress, and the overlays fill the
Ingress's placeholders; the Gateway API routes are checked with teeth."""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.deploy.conftest import ROOT


def _load_renderer() -> ModuleType:
    """deploy/kubernetes/render.py, the offline kustomize renderer, under a name of its own."""
    spec = importlib.util.spec_from_file_location(
        "strata_deploy_render", ROOT / "deploy/kubernetes/render.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render = _load_renderer()

OVERLAYS = ROOT / "deploy" / "kubernetes" / "overlays"
PUBLIC_HOST = "strata.example.com"


def _object(overlay: str, kind: str, name: str) -> dict:
    objects = render.render(OVERLAYS / overlay)
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def _console_env(overlay: str) -> dict[str, str]:
    container = _object(overlay, "Deployment", "strata-console")["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container["env"]}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as e:
        return e.code


def _sign_in_through_tls_ingress(base: str) -> tuple[int, str]:
    """POST /api/v1/session as ingress-nginx forwards a browser's on https://PUBLIC_HOST: from another
    address than the console's own (127.0.0.2 here, a pod IP in a cluster), so uvicorn's default trust
    of the loopback proxy does not apply."""
    host, _, port = base.removeprefix("http://").rpartition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5, source_address=("127.0.0.2", 0))
    try:
        connection.request(
            "POST",
            "/api/v1/session",
            body=b"{}",
            headers={
                "Content-Type": "application/json",
                "Host": PUBLIC_HOST,
                "Origin": f"https://{PUBLIC_HOST}",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-For": "203.0.113.7",
            },
        )
        answer = connection.getresponse()
        return answer.status, answer.read().decode()
    finally:
        connection.close()


@pytest.fixture
def console(request: pytest.FixtureRequest) -> Iterator[str]:
    """The console as the manifest runs it (its env entries; no gRPC service behind STRATA_ADDR)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_") and k != "FORWARDED_ALLOW_IPS"}
    env.update({k: v for k, v in _console_env("prod").items() if k in request.param})
    env["STRATA_ADDR"] = f"127.0.0.1:{_free_port()}"  # the router's name does not resolve here
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "strata_server.web", "--web-addr", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if _get(f"{base}/signin") == 200:  # the path of the startup, readiness and liveness probes
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail(
                f"the console did not answer /signin: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("console", [("STRATA_ADDR", "FORWARDED_ALLOW_IPS")], indirect=True)
def test_console_as_deployed_accepts_a_same_origin_sign_in_behind_a_tls_ingress(console: str) -> None:
    """The CSRF check passes (the request reaches the handler, which asks for the key)."""
    status, body = _sign_in_through_tls_ingress(console)
    assert (status, json.loads(body)["error"]["reason"]) == (400, "FIELD_REQUIRED")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("console", [("STRATA_ADDR",)], indirect=True)
def test_without_trusting_the_ingress_the_console_refuses_that_sign_in(console: str) -> None:
    """Why the Deployment sets FORWARDED_ALLOW_IPS: without it the console sees http and refuses."""
    status, body = _sign_in_through_tls_ingress(console)
    assert (status, json.loads(body)["error"]["reason"]) == (403, "CSRF_FAILED")


def test_the_console_calls_the_router_and_shares_sessions_through_the_database() -> None:
    env = _console_env("prod")
    assert env["STRATA_ADDR"] == "strata-router:50051"
    # Sessions in PostgreSQL: the DSN file is mounted, so no replica pins browsers.
    assert env["STRATA_PG_DSN_FILE"] == "/etc/strata/secrets/pg-dsn"
    pod = _object("prod", "Deployment", "strata-console")["spec"]["template"]["spec"]
    secrets = next(v for v in pod["volumes"] if v["name"] == "secrets")["secret"]
    assert secrets["items"] == [{"key": "pg-dsn", "path": "pg-dsn"}]  # no other secret reaches it
    ingress = _object("prod", "Ingress", "strata-console")
    assert "nginx.ingress.kubernetes.io/affinity" not in ingress["metadata"]["annotations"]
    assert "sessionAffinity" not in _object("prod", "Service", "strata-console")["spec"]


def test_the_prod_overlay_replaces_the_ingress_placeholders_and_dev_serves_plain_http() -> None:
    prod = _object("prod", "Ingress", "strata-console")["spec"]
    assert prod["tls"] == [{"hosts": [PUBLIC_HOST], "secretName": "strata-console-tls"}]
    assert prod["rules"][0]["host"] == PUBLIC_HOST
    dev = _object("dev", "Ingress", "strata-console")
    assert "tls" not in dev["spec"]
    assert dev["metadata"]["annotations"]["nginx.ingress.kubernetes.io/ssl-redirect"] == "false"


def test_the_console_may_reach_only_the_routers_grpc_port_and_postgresql() -> None:
    policy = _object("prod", "NetworkPolicy", "strata-console")["spec"]
    assert policy["egress"] == [
        {
            "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/component": "router"}}}],
            "ports": [{"protocol": "TCP", "port": 8080}],
        },
        {"ports": [{"protocol": "TCP", "port": 5432}]},
    ]
    router = _object("prod", "Deployment", "strata-router")["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "grpc", "containerPort": 8080, "protocol": "TCP"} in router["ports"]


GATEWAY_PROBE = """
import copy, json, sys
from pathlib import Path
sys.path[:0] = ["deploy", "deploy/kubernetes"]
import gateway_api, render
routes = [o for o in render.render(Path("deploy/kubernetes/gateway-api")) if o["kind"] == "GRPCRoute"]
prod = render.render(Path("deploy/kubernetes/overlays/prod"))
conf = Path("deploy/kubernetes/base/router/nginx.conf")
misspelt = copy.deepcopy(routes)
misspelt[0]["spec"]["rules"][0]["backendRef"] = misspelt[0]["spec"]["rules"][0].pop("backendRefs")
wrong_port = copy.deepcopy(routes)
wrong_port[0]["spec"]["rules"][0]["backendRefs"][0]["port"] = 8080
print(json.dumps({
    "as shipped": gateway_api.check_routes(routes, prod, conf),
    "misspelt": gateway_api.check_routes(misspelt, prod, conf),
    "wrong port": gateway_api.check_routes(wrong_port, prod, conf),
    "one missing": gateway_api.check_routes(routes[1:], prod, conf),
}))
"""


def test_the_grpcroute_check_has_teeth(deploy_python: Path) -> None:
    """Shipped routes pass; a misspelt field, a port no Service has, a package left out each fail."""
    done = subprocess.run(
        [str(deploy_python), "-c", GATEWAY_PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["as shipped"] == []
    assert any("backendRef is not a GRPCRoute field" in p for p in found["misspelt"])
    assert any("is no Service port" in p for p in found["wrong port"])
    assert any("has no route" in p for p in found["one missing"])
