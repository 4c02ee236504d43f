"""Validate every deployment file offline (`make deploy-check`, and tests/deploy in CI).

Steps (run all, or name some): render, parity, kubernetes, gateway-api, checkov, hadolint, compose, nginx,
settings.
  render      the dev and prod overlays and the gateway-api kustomization into build/deploy/<name>.yaml
              (kubernetes/render.py)
  parity      the rendering equals `kubectl kustomize` (only where kubectl is installed)
  kubernetes  every core object, rendered and the model-sidecar example, with kubernetes-validate --strict
  gateway-api every GRPCRoute by its shape (gateway_api.py, strict: unknown fields fail), its metadata, and its matches and backends against the router and the Services
  checkov     the rendered manifests, the example and the Dockerfile: zero failed checks
  hadolint    the Dockerfile: nothing at level warning or above
  compose     compose.yaml against the Compose specification's JSON schema (from the docker-compose wheel)
  nginx       `nginx -t` on the router's config (service host names resolved to the loopback)
  settings    every STRATA_* variable the files set is one services/common/config.py reads
Runs with the tools of .tools/deploy-venv (deploy/requirements-tools.txt); exit status 0 when all pass.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import jsonschema
import yaml

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
sys.path[:0] = [str(DEPLOY), str(DEPLOY / "kubernetes")]
import gateway_api  # noqa: E402  (deploy/gateway_api.py, beside this file)
import render  # noqa: E402  (deploy/kubernetes/render.py, beside this file)

OVERLAYS = ("dev", "prod")
KUSTOMIZATIONS = {
    "dev": DEPLOY / "kubernetes" / "overlays" / "dev",
    "prod": DEPLOY / "kubernetes" / "overlays" / "prod",
    # Applied beside an overlay where the cluster has the Gateway API CRDs; not part of the base.
    "gateway-api": DEPLOY / "kubernetes" / "gateway-api",
}
GATEWAY_GROUP = "gateway.networking.k8s.io/"
OUT = ROOT / "build" / "deploy"
KUBERNETES_VERSION = "1.33.0"  # native sidecars (restartPolicy: Always init containers) are GA from 1.33
EXAMPLES = [DEPLOY / "kubernetes" / "model-sidecar.yaml"]
DOCKERFILE = DEPLOY / "Dockerfile"
ROUTER_CONF = DEPLOY / "kubernetes" / "base" / "router" / "nginx.conf"
# Checks skipped everywhere, each with its reason (checkov prints them as skipped).
CHECKOV_SKIPS = {
    "CKV_K8S_43": "images are named by tag in the repository; a release pins the digest its registry "
    "reports with `kustomize edit set image` (see deploy/README.md)",
}


def tool(name: str) -> str:
    """A tool from the virtual environment this script runs in, else from PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed: run `make deploy-tools`")
    return found


def run(cmd: list[str]) -> None:
    print("+", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}")


def rendered() -> list[Path]:
    """The rendered core objects: the overlays, and the gateway-api kustomization less its routes."""
    paths = [*(OUT / f"{overlay}.yaml" for overlay in OVERLAYS), OUT / "gateway-api-core.yaml"]
    if not all(p.exists() for p in [*paths, OUT / "gateway-api.yaml"]):
        step_render()
    return paths


def step_render() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, folder in KUSTOMIZATIONS.items():
        objects = render.render(folder)
        (OUT / f"{name}.yaml").write_text(render.dump(objects))
        print(f"rendered {name}: {len(objects)} objects -> {OUT / name}.yaml")
    # kubernetes-validate knows the core API only: the Gateway API objects are checked by gateway-api.
    core = [o for o in render.load_documents(OUT / "gateway-api.yaml") if not _gateway_api(o)]
    (OUT / "gateway-api-core.yaml").write_text(render.dump(core))


def _gateway_api(obj: dict) -> bool:
    return str(obj.get("apiVersion", "")).startswith(GATEWAY_GROUP)


def _keyed(objects: list[dict]) -> dict[tuple[str, str], dict]:
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def step_parity() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("parity: kubectl is not installed; skipped (the renderer is checked where it is)")
        return
    for overlay, folder in KUSTOMIZATIONS.items():
        theirs = subprocess.run(
            [kubectl, "kustomize", str(folder)], capture_output=True, text=True, check=True
        )
        expected = [d for d in yaml.safe_load_all(theirs.stdout) if d]
        if _keyed(render.render(folder)) != _keyed(expected):
            raise SystemExit(f"parity: render.py and `kubectl kustomize` differ for {overlay}")
        print(f"parity {overlay}: identical to kubectl kustomize ({len(expected)} objects)")


def step_kubernetes() -> None:
    files = [str(p) for p in [*rendered(), *EXAMPLES]]
    run([tool("kubernetes-validate"), "--strict", "--quiet", "-k", KUBERNETES_VERSION, *files])


def step_gateway_api() -> None:
    if not (OUT / "gateway-api.yaml").exists():
        step_render()
    routes = [o for o in render.load_documents(OUT / "gateway-api.yaml") if _gateway_api(o)]
    problems = gateway_api.check_routes(routes, render.render(KUSTOMIZATIONS["prod"]), ROUTER_CONF)
    if problems:
        raise SystemExit("gateway-api:\n  " + "\n  ".join(problems))
    print(f"gateway-api: {len(routes)} GRPCRoutes valid, one per routed service")


def step_checkov() -> None:
    common = ["--quiet", "--compact", "--skip-download", "--skip-check", ",".join(CHECKOV_SKIPS)]
    for path in [*rendered(), *EXAMPLES]:
        run([tool("checkov"), *common, "--framework", "kubernetes", "-f", str(path)])
    run([tool("checkov"), *common, "--framework", "dockerfile", "-f", str(DOCKERFILE)])


def step_hadolint() -> None:
    run([tool("hadolint"), "--failure-threshold", "warning", str(DOCKERFILE)])


# The Compose specification's schema (Apache-2.0), from the docker-compose wheel `make deploy-tools`
# downloads from PyPI into the tools' venv.
COMPOSE_SCHEMA = DEPLOY.parent / ".tools" / "deploy-venv" / "compose-wheel" / "compose" / "config" / "compose_spec.json"


def step_compose() -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    document = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    # The schema names draft 07 in a form jsonschema does not recognise: say it explicitly. It predates
    # the top-level `name` (the project name), which is checked here instead.
    jsonschema.Draft7Validator.check_schema(schema)
    checked = {k: v for k, v in document.items() if k != "name"}
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", str(document.get("name", "strata"))):
        raise SystemExit("compose: the project name must be lower-case letters, digits, - and _")
    jsonschema.Draft7Validator(schema).validate(checked)
    declared = set(document.get("secrets", {}))
    for name, service in document["services"].items():
        missing = set(service.get("secrets", [])) - declared
        if missing:
            raise SystemExit(f"compose: service {name} uses undeclared secrets {sorted(missing)}")
    print(f"compose: valid ({len(document['services'])} services)")


def step_nginx() -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        raise SystemExit("nginx is not installed: apt-get install -y nginx-light (make deploy-check does)")
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(re.sub(r"server strata-[a-z]+:", "server 127.0.0.1:", ROUTER_CONF.read_text()))
        run([nginx, "-t", "-q", "-e", "stderr", "-p", tmp, "-c", str(conf)])
    print("nginx: the router config is valid")


def _variables_set() -> set[str]:
    texts = [p.read_text() for p in [*rendered(), *EXAMPLES, DEPLOY / "compose.yaml"]]
    return {name for text in texts for name in re.findall(r"\b(STRATA_[A-Z0-9_]+)\b", text)}


def step_settings() -> None:
    config = (ROOT / "services" / "common" / "config.py").read_text()
    known = set(re.findall(r'"(STRATA_[A-Z0-9_]+)"', config))
    secrets = re.search(r"SECRET_VARIABLES = \(([^)]*)\)", config)
    known |= {
        f"{name}_FILE" for name in re.findall(r'"(STRATA_[A-Z0-9_]+)"', secrets.group(1) if secrets else "")
    }
    client = (ROOT / "clients" / "python" / "strata").rglob("*.py")  # the sidecar's settings
    known |= {name for path in client for name in re.findall(r"\b(STRATA_[A-Z0-9_]+)\b", path.read_text())}
    unknown = _variables_set() - known
    if unknown:
        raise SystemExit(f"settings: variables no Strata process reads: {sorted(unknown)}")
    print("settings: every STRATA_* variable set is one Strata reads")


STEPS: dict[str, Callable[[], None]] = {
    "render": step_render,
    "parity": step_parity,
    "kubernetes": step_kubernetes,
    "gateway-api": step_gateway_api,
    "checkov": step_checkov,
    "hadolint": step_hadolint,
    "compose": step_compose,
    "nginx": step_nginx,
    "settings": step_settings,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("steps", nargs="*", help=f"steps to run (default: all): {', '.join(STEPS)}")
    args = parser.parse_args(argv)
    unknown = set(args.steps) - set(STEPS)
    if unknown:
        parser.error(f"unknown steps {sorted(unknown)}")
    for name in args.steps or list(STEPS):
        print(f"== {name}", flush=True)
        STEPS[name]()
    print("deploy-check: all passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
