"""System metrics, sampled while a run is open and logged as `system/*` metrics on its stream.

Every STRATA_SYSTEM_METRICS_INTERVAL seconds (default 10; 0 turns sampling off) a thread logs, at the
run's current step without advancing it:

* system/cpu_percent (whole machine), system/proc_cpu_percent and system/proc_rss_mb (this process),
  system/memory_percent, system/disk_read_mb / disk_write_mb and system/net_sent_mb / net_recv_mb
  (since the run started) — through psutil;
* per GPU i: system/gpu.i.utilization, .memory_percent, .memory_used_mb, .temperature_c, .power_w —
  through NVML (the `nvidia-ml-py` package, optional: `pip install strata-client[gpu]`), when the
  library loads and finds a GPU. Without NVML the GPU part is skipped silently.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Protocol

MiB = 1024 * 1024


class _Loggable(Protocol):
    def log(self, data: dict[str, Any], step: int | None = None, commit: bool = True) -> None: ...


def interval() -> float:
    """Seconds between samples (STRATA_SYSTEM_METRICS_INTERVAL; 0 or less: off)."""
    try:
        return float(os.environ.get("STRATA_SYSTEM_METRICS_INTERVAL", "10"))
    except ValueError:
        return 10.0


class SystemSampler:
    """Reads the numbers; `sample()` returns one dict of system/* values."""

    def __init__(self) -> None:
        import psutil

        self.psutil = psutil
        self.process = psutil.Process()
        self.process.cpu_percent(None)  # the first call only starts the measurement
        psutil.cpu_percent(None)
        self.disk0 = self._disk()
        self.net0 = self._net()
        self.gpus = _nvml_handles()

    def _disk(self) -> tuple[int, int]:
        io = self.psutil.disk_io_counters()
        return (io.read_bytes, io.write_bytes) if io is not None else (0, 0)

    def _net(self) -> tuple[int, int]:
        io = self.psutil.net_io_counters()
        return (io.bytes_sent, io.bytes_recv) if io is not None else (0, 0)

    def sample(self) -> dict[str, float]:
        ps = self.psutil
        disk, net = self._disk(), self._net()
        out = {
            "system/cpu_percent": float(ps.cpu_percent(None)),
            "system/proc_cpu_percent": float(self.process.cpu_percent(None)),
            "system/proc_rss_mb": self.process.memory_info().rss / MiB,
            "system/memory_percent": float(ps.virtual_memory().percent),
            "system/disk_read_mb": (disk[0] - self.disk0[0]) / MiB,
            "system/disk_write_mb": (disk[1] - self.disk0[1]) / MiB,
            "system/net_sent_mb": (net[0] - self.net0[0]) / MiB,
            "system/net_recv_mb": (net[1] - self.net0[1]) / MiB,
        }
        for i, handle in enumerate(self.gpus):
            out.update(_gpu_sample(i, handle))
        return out


def _nvml_handles() -> list[Any]:
    """NVML device handles, or [] when NVML (nvidia-ml-py) or a GPU is missing."""
    try:
        import pynvml

        pynvml.nvmlInit()
        return [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
    except Exception:  # no package, no driver, no GPU: no GPU metrics
        return []


def _gpu_sample(i: int, handle: Any) -> dict[str, float]:
    import pynvml

    out: dict[str, float] = {}
    prefix = f"system/gpu.{i}."
    try:
        util = pynvml.nvmlDeviceGetUtilizationRates(handle)
        mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
        out[prefix + "utilization"] = float(util.gpu)
        out[prefix + "memory_percent"] = 100.0 * mem.used / mem.total if mem.total else 0.0
        out[prefix + "memory_used_mb"] = mem.used / MiB
        out[prefix + "temperature_c"] = float(
            pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU)
        )
        out[prefix + "power_w"] = pynvml.nvmlDeviceGetPowerUsage(handle) / 1000.0
    except Exception:  # a reading the device does not support: leave it out
        pass
    return out


class Sampler(threading.Thread):
    """Logs a sample every `every` seconds into `run` (commit=False: the step does not move)."""

    def __init__(self, run: _Loggable, every: float) -> None:
        super().__init__(name="strata-system-metrics", daemon=True)
        self.target, self.every = run, every
        self._stopping = threading.Event()

    def run(self) -> None:
        try:
            sampler = SystemSampler()
        except Exception:  # psutil missing or refusing: no system metrics, never an error
            return
        while not self._stopping.wait(self.every):
            try:
                self.target.log(sampler.sample(), commit=False)
            except Exception:  # the run finished meanwhile, or a reading failed: try again later
                pass

    def stop(self) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join(timeout=5)
