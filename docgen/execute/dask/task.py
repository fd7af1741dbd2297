"""What a Dask worker runs for one notebook: a fresh kernel of the worker's own environment,
started by docgen's local pool (one worker, one job), in the notebook's folder on the worker.

The task returns the pool's `ExecutionResult` with what the driver cannot know: the cache
key computed here (the worker's kernel and environment fingerprint), and where it ran. A
failing cell's message is the local one, with the worker's paths turned back into the
project's and the worker named. While the notebook runs, a watcher kills its kernel as soon
as the task is cancelled (Ctrl-C on the driver, or the driver gone); a worker process that
dies takes its kernel with it (ipykernel's parent poller).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import socket
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docgen.execute.cache import environment_fingerprint, kernel_fingerprint, notebook_key
from docgen.execute.executor import ExecutionResult, Job
from docgen.execute.gpus import Gpu, detect_gpus
from docgen.execute.pool import LocalPool, PoolKernel, PoolOptions
from docgen.execute.reaper import Reaper
from docgen.model import Status

PROGRESS_TOPIC = "docgen-progress"  # worker -> driver: a notebook started, a cell started


@dataclass(frozen=True)
class KeyParts:
    """The parts of a notebook's cache key that the driver knows (see cache.notebook_key)."""

    rel: str
    data: dict[str, str]
    preload: tuple[str, ...]
    local: dict[str, str]
    env: dict[str, str | None]
    packages: tuple[str, ...]  # documented packages: their sources are part of the environment
    root: str  # the project's root on the driver (its packages are in `local` instead)


@dataclass(frozen=True)
class NotebookTask:
    """One notebook, as plain data a worker can run without the project."""

    job: Job  # `path` is the notebook's path on the driver: messages name it
    root: str  # the project's root on the driver
    options: PoolOptions  # timeout, preload, ... (workers and GPUs are the worker's own)
    key: KeyParts | None  # None when the cache is off
    shared: bool  # the worker sees the project at `root`; otherwise `files` are sent
    # The build's first-cell imports, for the worker's zygote (preloads.preload_modules).
    first_cells: tuple[str, ...] = ()


def worker_identity() -> dict[str, str]:
    """The worker running this task: its name, address and host."""
    from distributed import get_worker

    worker = get_worker()
    return {
        "worker": str(worker.name),
        "address": str(worker.address),
        "host": socket.gethostname(),
    }


def describe_worker(packages: list[str], root: str) -> dict[str, Any]:
    """Run on every worker before planning: its host, GPUs and environment fingerprint."""
    gpus = detect_gpus(os.environ)
    return {
        "host": socket.gethostname(),
        "gpus": [dataclasses.asdict(g) for g in gpus],
        "environment": environment_fingerprint(gpus, packages, Path(root)),
    }


def _digest(fingerprint: dict[str, str]) -> str:
    text = json.dumps(fingerprint, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _gpus_here(worker_name: str, gpus: tuple[Gpu, ...]) -> tuple[Gpu, ...]:
    # The workers of a local cluster (named 0, 1, ...) all see every GPU of the machine:
    # each takes its own in turn, rather than all of them the first.
    if len(gpus) > 1 and worker_name.isdigit():
        return (gpus[int(worker_name) % len(gpus)],)
    return gpus


class _Watched:
    """The kernel factory of the task's pool, which keeps the kernels for the watcher."""

    def __init__(self, batched: bool = True) -> None:
        self.kernels: list[PoolKernel] = []
        self.batched = batched  # `batch_cells`

    def __call__(
        self, name: str, path: Path, env: dict[str, str], reaper: Reaper, zygotes: Any = None
    ) -> PoolKernel:
        from docgen.execute.kernel import Kernel

        kernel = Kernel(name, path, env, reaper, zygotes, batched=self.batched)
        self.kernels.append(kernel)
        return kernel

    def kill_all(self) -> None:
        for kernel in list(self.kernels):
            kernel.kill_now()


def _task_cancelled() -> Callable[[], bool]:
    """Whether the task running in this thread is no longer wanted by any client, or its
    worker is closing (its process may outlive the close, and the kernel must not)."""
    from distributed import get_worker
    from distributed.worker import thread_state

    worker, key = get_worker(), thread_state.key

    def cancelled() -> bool:
        if worker.status.name in ("closing", "closed", "failed"):
            return True
        state = worker.state.tasks.get(key)
        return state is None or state.state in ("cancelled", "released", "forgotten")

    return cancelled


class _Progress:
    """The pool's listener on the worker: started and cell events sent to the driver."""

    def __init__(self, driver_path: Path, log: Callable[[str, Any], None]) -> None:
        self.path = str(driver_path)
        self.log = log

    def started(self, path: Path) -> None:
        self.log(PROGRESS_TOPIC, {"path": self.path, "event": "started"})

    def cell(self, path: Path, index: int, count: int) -> None:
        self.log(PROGRESS_TOPIC, {"path": self.path, "event": "cell", "index": index,
                                  "count": count})

    def finished(self, path: Path, status: Status, seconds: float) -> None:
        pass  # the driver tells its listener when the result arrives

    def warn(self, message: str) -> None:
        self.log(PROGRESS_TOPIC, {"path": self.path, "event": "warn", "message": message})


def run_notebook(task: NotebookTask, files: bytes | None) -> ExecutionResult:
    """Run `task`'s notebook on this worker (`files`: packed by files.pack_files)."""
    from distributed import get_worker

    from docgen.execute.dask.zygotes import worker_zygotes

    identity = worker_identity()
    worker = get_worker()
    with tempfile.TemporaryDirectory(prefix="docgen-dask-") as tmp:
        root = Path(task.root)
        here = root
        if not task.shared:
            from docgen.execute.dask.files import unpack_files

            here = Path(tmp)
            if files:
                unpack_files(files, here)
        local_path = here / Path(task.job.path).relative_to(root)
        local_path.parent.mkdir(parents=True, exist_ok=True)
        visible = tuple(detect_gpus(os.environ))
        gpus = _gpus_here(identity["worker"], visible)
        env = tuple((k, v.replace(task.root, str(here))) for k, v in task.options.env)
        options = dataclasses.replace(task.options, workers=1, warm_kernels=0, gpus=gpus, env=env)
        factory = _Watched(options.batch_cells)
        job = Job(task.job.nb, local_path, task.job.kernel_name)
        host = worker_zygotes(worker)
        progress = _Progress(task.job.path, worker.log_event)
        cancelled = _task_cancelled()
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.2):
                if cancelled():
                    factory.kill_all()
                    return

        watcher = threading.Thread(target=watch, name="docgen-kernel-watch", daemon=True)
        watcher.start()
        try:
            if host is not None:  # the worker's zygote, kept from task to task
                kernel_env = {**os.environ, **dict(options.env)}
                (result,) = host.run(
                    [job], options, task.first_cells, kernel_env, progress, factory
                )
            else:
                (result,) = LocalPool(options, factory).run([job], progress)
        finally:
            done.set()
            watcher.join()
    parts = task.key
    fingerprint = environment_fingerprint(
        visible, parts.packages if parts else (), Path(parts.root if parts else task.root)
    )
    where = {**identity, "environment": _digest(fingerprint)}
    error = result.error
    if error is not None:
        error = error.replace(str(here), task.root)
        error = f"{error}\n  (on Dask worker {identity['worker']}, host {identity['host']})"
    key = None
    if parts is not None and error is None:
        key = notebook_key(
            parts.rel,
            task.job.nb,
            kernel_fingerprint(task.job.kernel_name),
            fingerprint,
            parts.data,
            parts.preload,
            parts.local,
            parts.env,
        )
    return dataclasses.replace(result, error=error, key=key, worker=where)
