"""The deployment files pass the same validation as `make deploy-check`, one step per test.

Each step runs deploy/check.py with the validators of .tools/deploy-venv (kubernetes-validate --strict,
checkov, hadolint, the Compose schema, nginx -t). A step is skipped only when its tool cannot be
installed on this machine, and says so."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import ROOT

CHECK = ROOT / "deploy" / "check.py"


def run_check(python: Path, *steps: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), str(CHECK), *steps], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def rendered(deploy_python: Path) -> Path:
    done = run_check(deploy_python, "render")
    assert done.returncode == 0, done.stdout + done.stderr
    return ROOT / "build" / "deploy"


@pytest.mark.parametrize("step", ["kubernetes", "gateway-api", "checkov", "hadolint", "compose", "settings"])
def test_deployment_files_pass(step: str, deploy_python: Path, rendered: Path) -> None:
    done = run_check(deploy_python, step)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]


def test_offline_rendering_equals_kubectl_kustomize(deploy_python: Path) -> None:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed: the offline renderer cannot be compared with kustomize here")
    done = run_check(deploy_python, "parity")
    assert done.returncode == 0, done.stdout + done.stderr


def test_router_config_passes_nginx_t(deploy_python: Path, nginx: str) -> None:
    done = run_check(deploy_python, "nginx")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_validators_reject_an_unsafe_or_misspelt_manifest(
    deploy_python: Path, rendered: Path, tmp_path: Path
) -> None:
    """The checks have teeth: a root-capable container fails checkov, a misspelt field fails --strict."""
    text = (rendered / "prod.yaml").read_text()
    unsafe = tmp_path / "unsafe.yaml"
    unsafe.write_text(text.replace("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", 1))
    bin_dir = deploy_python.parent
    checkov = subprocess.run(
        [
            str(bin_dir / "checkov"),
            "--quiet",
            "--compact",
            "--skip-download",
            "--framework",
            "kubernetes",
            "--check",
            "CKV_K8S_20",
            "-f",
            str(unsafe),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checkov.returncode != 0 and "CKV_K8S_20" in checkov.stdout
    misspelt = tmp_path / "misspelt.yaml"
    misspelt.write_text(text.replace("readinessProbe:", "readinesProbe:", 1))
    strict = subprocess.run(
        [str(bin_dir / "kubernetes-validate"), "--strict", "--quiet", "-k", "1.33.0", str(misspelt)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert strict.returncode != 0
