"""CUDA GPUs: which ones this machine has, and which one each kernel gets.

Detection asks `nvidia-smi`, so the build process never imports torch or initialises
CUDA. Each kernel sees exactly one GPU through `CUDA_VISIBLE_DEVICES`, numbered in PCI
bus order as nvidia-smi numbers them; `GpuAssigner` spreads kernels over the GPUs.
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
    warn: Callable[[str], None] | None = None,
) -> list[Gpu]:
    """This machine's CUDA GPUs that `environ` leaves visible; none without nvidia-smi.

    An nvidia-smi that is there but fails, or answers what is not its GPU list, is told to
    `warn`: the build goes on as if there were no GPU, which GPU notebooks then show.
    """
    smi = shutil.which("nvidia-smi", path=environ.get("PATH"))
    if smi is None:
        return []

    def failed(problem: str) -> list[Gpu]:
        if warn is not None:
            warn(
                f"{smi} {problem}; this build sees no GPU, so notebooks that need one "
                "use stored outputs or fail (run nvidia-smi to see what is wrong)"
            )
        return []

    try:
        done = run([smi, *_QUERY], capture_output=True, text=True, timeout=20, check=False)
    except subprocess.TimeoutExpired:
        return failed("did not answer within 20 s")
    except (OSError, subprocess.SubprocessError) as e:
        return failed(f"cannot be run: {e}")
    if done.returncode != 0:
        said = _first_line(done.stderr) or _first_line(done.stdout)
        return failed(f"exited with status {done.returncode}" + (f": {said}" if said else ""))
    gpus = parse_nvidia_smi(done.stdout)
    if not gpus and done.stdout.strip():
        return failed(f"printed no GPU list but: {_first_line(done.stdout)}")
    return visible_gpus(gpus, environ.get("CUDA_VISIBLE_DEVICES"))


def _first_line(text: str | None) -> str:
    line = next((line.strip() for line in (text or "").splitlines() if line.strip()), "")
    return line[:200]


def gpu_env(gpu: Gpu | None) -> dict[str, str]:
    """Environment variables that give a kernel exactly `gpu` (nothing for a CPU kernel)."""
    if gpu is None:
        return {}
    return {"CUDA_DEVICE_ORDER": "PCI_BUS_ID", "CUDA_VISIBLE_DEVICES": str(gpu.index)}


class GpuAssigner:
    """Which GPU the next kernel gets: the one with the fewest kernels, round-robin among equals.

    It spreads kernels only; `kernels_per_gpu` is enforced where notebooks start running.
    """

    def __init__(self, gpus: Sequence[Gpu]):
        if not gpus:
            raise ValueError("no GPUs to assign")
        self.gpus = list(gpus)
        self.load = [0] * len(self.gpus)
        self._next = 0

    def assign(self) -> Gpu:
        count = len(self.gpus)
        order = [(self._next + i) % count for i in range(count)]
        best = min(order, key=lambda i: self.load[i])  # min keeps the first among equals
        self.load[best] += 1
        self._next = (best + 1) % count
        return self.gpus[best]

    def release(self, gpu: Gpu) -> None:
        i = self.gpus.index(gpu)
        if self.load[i] == 0:
            raise RuntimeError(f"GPU {gpu.index} has no kernel to release")
        self.load[i] -= 1
