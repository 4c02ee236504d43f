"""System metrics: the sampler reads CPU and memory through psutil (GPU metrics only when NVML finds
a GPU; on this machine the GPU path is skipped cleanly) and logs them as system/* metrics on the
run's stream; STRATA_SYSTEM_METRICS_INTERVAL sets the period, 0 turns it off."""

from __future__ import annotations

import time

import pytest
import strata
from strata.sdk import _system

from tests.fixtures.servers import ServerThread

pytestmark = [pytest.mark.usefixtures("spool"), pytest.mark.timeout(60)]


def test_a_sample_holds_cpu_and_memory_and_no_gpu_without_nvml() -> None:
    sampler = _system.SystemSampler()
    time.sleep(0.1)
    sample = sampler.sample()
    assert 0.0 <= sample["system/cpu_percent"] <= 100.0
    assert sample["system/proc_rss_mb"] > 1.0
    assert 0.0 < sample["system/memory_percent"] <= 100.0
    assert {"system/disk_read_mb", "system/net_sent_mb"} <= set(sample)
    if not sampler.gpus:  # no NVML library or no GPU here: no GPU keys, and no error
        assert not [k for k in sample if k.startswith("system/gpu")]


def test_the_run_logs_system_metrics_on_its_stream(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRATA_SYSTEM_METRICS_INTERVAL", "0.2")
    run = strata.init(project="system", entity="tester", addr=server.addr)
    for step in range(8):
        run.log({"loss": 1.0 / (step + 1)})
        time.sleep(0.15)
    run.finish()
    keys = {k["key"]: k for k in strata.Api(addr=server.addr).run(run.path).keys()}
    assert {"loss", "system/cpu_percent", "system/proc_rss_mb", "system/memory_percent"} <= set(keys)
    assert keys["system/proc_rss_mb"]["count"] >= 2
    assert keys["system/cpu_percent"]["max_step"] <= keys["loss"]["max_step"] + 1  # at the run's steps


def test_interval_zero_turns_sampling_off(server: ServerThread, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATA_SYSTEM_METRICS_INTERVAL", "0")
    run = strata.init(project="system", entity="tester", addr=server.addr)
    assert run._sampler is None
    run.log({"loss": 1.0})
    run.finish()
    assert [k["key"] for k in strata.Api(addr=server.addr).run(run.path).keys()] == ["loss"]
