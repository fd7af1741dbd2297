"""CUDA GPUs: which ones this machine has, and which one each kernel gets.

Detection asks `nvidia-smi`, so the build process never imports torch or initialises
CUDA. Each kernel sees exactly one GPU through `CUDA_VISIBLE_DEVICES`, numbered in PCI
bus order as nvidia-smi numbers them; `GpuSlots` spreads kernels round-robin and never
puts more than `per_gpu` on one GPU.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

_QUERY = ["--query-gpu=index,uuid,name,memory.total", "--format=csv,noheader,nounits"]


@dataclass(frozen=True)
class Gpu:
    index: int  # nvidia-smi's number, in PCI bus order
    name: str  # the model, e.g. "NVIDIA H100 80GB HBM3"
    memory_mib: int = 0
    uuid: str = ""


def parse_nvidia_smi(text: str) -> list[Gpu]:
    """GPUs from `nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader`."""
    gpus = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 4 or not parts[0].isdigit():
            continue
        memory = parts[-1].split()[0] if parts[-1] else ""
        gpus.append(
            Gpu(
                index=int(parts[0]),
                uuid=parts[1],
                name=", ".join(parts[2:-1]),
                memory_mib=int(memory) if memory.isdigit() else 0,
            )
        )
    return gpus


def visible_gpus(gpus: Sequence[Gpu], cuda_visible_devices: str | None) -> list[Gpu]:
    """The GPUs that `CUDA_VISIBLE_DEVICES` (as the build was started with) leaves visible."""
    if cuda_visible_devices is None:
        return list(gpus)
    wanted = [d.strip() for d in cuda_visible_devices.split(",") if d.strip()]
    chosen: list[Gpu] = []
    for item in wanted:
        # CUDA stops at the first entry it cannot match.
        match = next(
            (g for g in gpus if item == str(g.index) or (g.uuid and g.uuid.startswith(item))),
            None,
        )
        if match is None:
            break
        if match not in chosen:
            chosen.append(match)
    return chosen


def detect_gpus(
    environ: Mapping[str, str],
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
) -> list[Gpu]:
    """This machine's CUDA GPUs that `environ` leaves visible; none without nvidia-smi."""
    smi = shutil.which("nvidia-smi", path=environ.get("PATH"))
    if smi is None:
        return []
    try:
        done = run([smi, *_QUERY], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    if done.returncode != 0:
        return []
    return visible_gpus(parse_nvidia_smi(done.stdout), environ.get("CUDA_VISIBLE_DEVICES"))


def gpu_env(gpu: Gpu | None) -> dict[str, str]:
    """Environment variables that give a kernel exactly `gpu` (nothing for a CPU kernel)."""
    if gpu is None:
        return {}
    return {"CUDA_DEVICE_ORDER": "PCI_BUS_ID", "CUDA_VISIBLE_DEVICES": str(gpu.index)}


class GpuSlots:
    """Places for kernels on GPUs: the least busy GPU next, round-robin among equals."""

    def __init__(self, gpus: Sequence[Gpu], per_gpu: int):
        if per_gpu < 1:
            raise ValueError("per_gpu must be at least 1")
        self.gpus = list(gpus)
        self.per_gpu = per_gpu
        self.load = [0] * len(self.gpus)
        self._next = 0

    @property
    def capacity(self) -> int:
        return len(self.gpus) * self.per_gpu

    def take(self) -> Gpu:
        """A GPU with room for one more kernel; `RuntimeError` when every GPU is full."""
        count = len(self.gpus)
        order = [(self._next + i) % count for i in range(count)]
        free = [i for i in order if self.load[i] < self.per_gpu]
        if not free:
            raise RuntimeError("every GPU already has its most kernels")
        best = min(free, key=lambda i: self.load[i])  # min keeps the first among equals
        self.load[best] += 1
        self._next = (best + 1) % count
        return self.gpus[best]

    def give_back(self, gpu: Gpu) -> None:
        i = self.gpus.index(gpu)
        if self.load[i] == 0:
            raise RuntimeError(f"GPU {gpu.index} has no kernel to give back")
        self.load[i] -= 1
