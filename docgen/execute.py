"""The execute stage: each notebook's outputs, from the cache or from a fresh kernel.

`execute_stage` decides per notebook: reuse its cache entry; on a machine without a GPU,
show the outputs of an earlier GPU run of a notebook that needs one; or run it. The runs
go through `run_jobs`: `workers` notebooks at once, each in a kernel no other notebook has
used; kernels for the notebooks next in line are started ahead (`warm_kernels`) and import
`preload` while they wait; with GPUs, each kernel sees one, and no GPU runs more than
`kernels_per_gpu` notebooks at once (a kernel waiting ahead has not touched its GPU, so it
holds no CUDA context). Results keep the notebooks' order, whatever order they finish in, and
a failing notebook does not stop the others. On Ctrl-C, SIGTERM or SIGHUP every kernel is
shut down and `Interrupted` raised. Whatever a kernel's cells started, detached or not, ends
with it (see `reaper`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import nbformat

from .cache import (
    CACHE_DIR,
    ExecutionCache,
    data_digest,
    docgen_metadata,
    environment_fingerprint,
    kernel_fingerprint,
    notebook_key,
    notebook_settings,
)
from .config import Config
from .errors import STOP_SIGNALS, BuildFailed, DocgenError, Interrupted, UsageError
from .gpus import Gpu, GpuAssigner, detect_gpus, gpu_env
from .localimports import local_module_digests
from .notebooks import Source, cell_options, strip_prefix
from .reaper import Reaper
from .timings import cell_seconds, without_timing

if TYPE_CHECKING:
    from .kernels import Kernel

T = TypeVar("T")

# Signals that stop a build cleanly: Ctrl-C, `kill`, and a closed terminal or SSH session.

# What the stage did with a notebook.
RAN, CACHED, GPU_OUTPUTS, NOT_RUN, NO_CODE, FAILED = (
    "ran",
    "cached",
    "outputs of a GPU run",
    "not run",
    "no code",
    "failed",
)


class Listener(Protocol):
    """What a progress display hears from the stage."""

    def started(self, path: Path) -> None: ...
    def cell(self, path: Path, index: int, count: int) -> None: ...
    def finished(self, path: Path, status: str, seconds: float) -> None: ...
    def warn(self, message: str) -> None: ...


class _Silent:
    def started(self, path: Path) -> None:
        pass

    def cell(self, path: Path, index: int, count: int) -> None:
        pass

    def finished(self, path: Path, status: str, seconds: float) -> None:
        pass

    def warn(self, message: str) -> None:
        pass


@dataclass(frozen=True)
class Machine:
    """Where the build runs: its GPUs and what about it decides outputs (for the cache)."""

    gpus: tuple[Gpu, ...]
    environment: dict[str, str]


def detect_machine(config: Config) -> Machine:
    gpus = tuple(detect_gpus(os.environ))
    return Machine(gpus, environment_fingerprint(gpus, config.packages))


def worker_count(config: Config) -> int:
    """Notebooks run at once: `workers`, or one per CPU core this process may use."""
    if config.workers:
        return config.workers
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Job:
    nb: nbformat.NotebookNode
    path: Path
    kernel_name: str


@dataclass(frozen=True)
class PoolOptions:
    timeout: int
    workers: int = 1
    warm_kernels: int = 0
    preload: tuple[str, ...] = ()
    gpus: tuple[Gpu, ...] = ()
    kernels_per_gpu: int = 2

    @property
    def running(self) -> int:
        """Most notebooks running at once."""
        total = self.workers
        if self.gpus:
            total = min(total, len(self.gpus) * self.kernels_per_gpu)
        return max(1, total)

    @property
    def kernels(self) -> int:
        """Most kernels alive at once: those running plus those started ahead."""
        return self.running + self.warm_kernels


@dataclass(frozen=True)
class ExecutionResult:
    """An executed copy of a notebook, or the reason it failed."""

    nb: nbformat.NotebookNode | None
    duration: float  # seconds its cells ran
    error: str | None = None
    kernel_wait: float = 0.0  # seconds between its turn and its kernel being ready
    gpu: Gpu | None = None
    kernel_info: dict[str, Any] = field(default_factory=dict)
    finished: str = ""  # UTC, ISO 8601
    warnings: tuple[str, ...] = ()


async def _start(kernel: Kernel, options: PoolOptions) -> list[str]:
    await kernel.start()
    warning = await kernel.preload(options.preload, options.timeout)
    return [warning] if warning else []


class _Kernels:
    """The kernels alive now, so that an interrupt can kill them all at once, and the reaper
    of whatever their cells started."""

    def __init__(self) -> None:
        self.live: set[Kernel] = set()
        self.stopping = False
        self.reaper = Reaper()

    def kill_all(self) -> None:
        self.stopping = True
        for kernel in list(self.live):
            kernel.kill_now()


async def _run_jobs(
    jobs: Sequence[Job], options: PoolOptions, listener: Listener, alive: _Kernels
) -> list[ExecutionResult]:
    from .kernels import Kernel, kernel_env

    workers = asyncio.Semaphore(options.running)
    kernels = asyncio.Semaphore(options.kernels)
    assigner = GpuAssigner(options.gpus) if options.gpus else None
    # Room for notebooks to run on each GPU; a kernel waiting ahead needs none yet.
    on_gpu = {g.index: asyncio.Semaphore(options.kernels_per_gpu) for g in options.gpus}
    results: list[ExecutionResult | None] = [None] * len(jobs)

    async def run_one(i: int, job: Job, gpu: Gpu | None) -> None:
        kernel = Kernel(job.kernel_name, job.path, kernel_env(gpu_env(gpu)), alive.reaper)
        alive.live.add(kernel)
        starting = asyncio.create_task(_start(kernel, options))  # ahead of its turn
        try:
            async with on_gpu[gpu.index] if gpu is not None else nullcontext(), workers:
                listener.started(job.path)
                turn = time.perf_counter()
                try:
                    warnings = await starting
                    ready = time.perf_counter()
                    nb = await kernel.run(
                        job.nb,
                        options.timeout,
                        lambda index: listener.cell(job.path, index, len(job.nb.cells)),
                    )
                    done = time.perf_counter()
                    info = await kernel.describe()
                    results[i] = ExecutionResult(
                        nb,
                        done - ready,
                        kernel_wait=ready - turn,
                        gpu=gpu,
                        kernel_info=info,
                        finished=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        warnings=tuple(warnings),
                    )
                    listener.finished(job.path, RAN, done - ready)
                except Exception as e:  # one notebook's failure must not stop the others
                    message = (
                        str(e)
                        if isinstance(e, DocgenError)
                        else (f"{job.path}: running it failed: {type(e).__name__}: {e}")
                    )
                    results[i] = ExecutionResult(None, time.perf_counter() - turn, message, gpu=gpu)
                    if not alive.stopping:  # an interrupt killed it: not the notebook's fault
                        listener.finished(job.path, FAILED, time.perf_counter() - turn)
        finally:
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
            await kernel.shutdown()
            alive.live.discard(kernel)
            if gpu is not None and assigner is not None:
                assigner.release(gpu)
            kernels.release()

    async def record_families() -> None:
        # A child seen below its kernel can be told apart once it has left the tree.
        while True:
            await asyncio.sleep(1)
            alive.reaper.record()

    tasks: list[asyncio.Task[None]] = []
    recording = asyncio.create_task(record_families())
    try:
        for i, job in enumerate(jobs):  # kernels start in the notebooks' order
            await kernels.acquire()
            gpu = assigner.assign() if assigner is not None else None
            tasks.append(asyncio.create_task(run_one(i, job, gpu)))
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # their `finally` stops kernels
        for kernel in list(alive.live):  # left by a cancellation inside a shutdown
            kernel.kill_now()
        recording.cancel()
        alive.reaper.close()  # before any await: a second cancellation must not skip it
        await asyncio.gather(recording, return_exceptions=True)
    return [
        r if r is not None else ExecutionResult(None, 0.0, f"{job.path}: did not run")
        for r, job in zip(results, jobs, strict=True)
    ]


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_interruptibly(main: Coroutine[Any, Any, T], on_interrupt: Callable[[], None]) -> T:
    """Run `main` in a fresh event loop; Ctrl-C, SIGTERM or SIGHUP stop it: `Interrupted`.

    Handling these signals here, once, keeps the per-client handlers nbclient would install
    (which clobber each other when many clients share a loop) out of the way. A signal
    calls `on_interrupt` first (which kills the kernels: nbclient reads a cancelled cell as
    a dead kernel, so cancelling alone would wait for the cell), then cancels `main`.
    """
    if _loop_running():
        # Called from code that already runs an event loop in this thread (a notebook cell
        # calling build(), say): run in a thread of its own, where signals are not ours.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            future: concurrent.futures.Future[T] = pool.submit(
                _run_interruptibly, main, on_interrupt
            )
            return future.result()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    task = loop.create_task(main)
    received: list[int] = []

    def on_signal(signum: int) -> None:
        if not received:
            on_interrupt()
            task.cancel()
        received.append(signum)

    installed = []
    if threading.current_thread() is threading.main_thread():
        for signum in STOP_SIGNALS:
            installed.append((signum, signal.getsignal(signum)))
            loop.add_signal_handler(signum, on_signal, signum)
    try:
        result = loop.run_until_complete(task)
    except asyncio.CancelledError:
        if not received:
            raise
    finally:
        for signum, previous in installed:
            loop.remove_signal_handler(signum)
            signal.signal(signum, previous)
        leftovers = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for leftover in leftovers:
            leftover.cancel()
        loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.set_event_loop(None)
        loop.close()
    if received:
        raise Interrupted(received[0])
    return result


def run_jobs(
    jobs: Sequence[Job], options: PoolOptions, listener: Listener | None = None
) -> list[ExecutionResult]:
    """Run every job; results keep the jobs' order. A failed result carries its message."""
    if not jobs:
        return []
    alive = _Kernels()
    main = _run_jobs(jobs, options, listener or _Silent(), alive)
    return _run_interruptibly(main, alive.kill_all)


# --- the stage ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NotebookRun:
    """What the stage did with one notebook, and the notebook to render."""

    source: Source
    nb: nbformat.NotebookNode  # outputs filled in; no per-cell timestamps
    status: str
    provenance: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    kernel_wait: float = 0.0
    cells: tuple[tuple[int, float], ...] = ()  # (cell index, seconds) of the cells that ran
    warnings: tuple[str, ...] = ()


def _finished_run(
    source: Source, nb: nbformat.NotebookNode, status: str, **kwargs: Any
) -> NotebookRun:
    provenance = dict(nb.metadata.get("docgen", {}).get("provenance", {}))
    cells = tuple(cell_seconds(nb))
    seconds = kwargs.pop("seconds", float(provenance.get("seconds", 0.0) or 0.0))
    return NotebookRun(
        source, without_timing(nb), status, provenance, seconds=seconds, cells=cells, **kwargs
    )


def needs_gpu(nb: nbformat.NotebookNode) -> str:
    """Why `nb` needs a GPU (its metadata or a tagged cell), or "" when it does not."""
    if nb.metadata.get("docgen", {}).get("requires_gpu") is True:
        return "its metadata sets docgen.requires_gpu"
    for index, cell in enumerate(nb.cells):
        if "requires-cuda" in cell.get("metadata", {}).get("tags", []):
            return f"cell {index + 1} is tagged requires-cuda"
    return ""


def _has_code_to_run(nb: nbformat.NotebookNode) -> bool:
    return any(cell_options(c).execute and c.source.strip() for c in nb.cells)


def _has_outputs(nb: nbformat.NotebookNode) -> bool:
    return any(c.get("outputs") for c in nb.cells if c.cell_type == "code")


def _project_path(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()


def forced_notebooks(names: Sequence[str], sources: Sequence[Source]) -> set[int]:
    """Indexes of the notebooks `--force NAME` names ('*': all); unknown names are errors."""
    if "*" in names:
        return set(range(len(sources)))
    chosen = set()
    for name in names:
        wanted = name.removesuffix(".ipynb").removesuffix(".html").strip("/")
        found = {
            i
            for i, s in enumerate(sources)
            if wanted
            in (
                s.rel.as_posix().removesuffix(".ipynb"),
                s.url.removesuffix(".html"),
                s.rel.stem,
                strip_prefix(s.rel.stem),
            )
        }
        if not found:
            raise UsageError(
                f"--force {name}: no notebook of that name; give its path relative to the "
                "notebooks folder, e.g. --force " + (sources[0].rel.as_posix() if sources else "")
            )
        chosen |= found
    return chosen


def _make_provenance(result: ExecutionResult) -> dict[str, Any]:
    info = result.kernel_info
    device = info.get("gpu") or (result.gpu.name if result.gpu else "CPU")
    provenance: dict[str, Any] = {"device": device}
    for key in ("python", "torch", "cuda"):
        if info.get(key):
            provenance[key] = info[key]
    if "cuda_used" in info:
        provenance["cuda_used"] = bool(info["cuda_used"])
    provenance["seconds"] = round(result.duration, 2)
    provenance["date"] = result.finished
    return provenance


def _without_gpu(
    source: Source,
    nb: nbformat.NotebookNode,
    why: str,
    rel: str,
    config: Config,
    cache: ExecutionCache | None,
) -> tuple[NotebookRun | None, str | None]:
    """A GPU notebook on a machine without one: earlier outputs, or (None, the problem)."""
    earlier = cache.latest(rel, nb) if cache is not None else None
    if earlier is not None:
        return _finished_run(source, earlier, GPU_OUTPUTS), None
    if _has_outputs(nb):
        return _finished_run(source, nb, GPU_OUTPUTS), None
    where = f"neither in {config.root / CACHE_DIR} nor in the notebook"
    problem = (
        f"{source.path}: needs a GPU ({why}), and this machine has none; no outputs of an "
        f"earlier GPU run are stored for it, {where}."
    )
    if config.allow_missing_gpu:
        warning = f"{problem} Its page shows the code without outputs."
        return NotebookRun(source, nb, NOT_RUN, warnings=(warning,)), None
    return None, (
        f"{problem}\n  Build once on a GPU machine and keep its .docgen_cache/ (or commit the "
        "notebook with its outputs), or pass --allow-missing-gpu to publish the page without "
        "outputs."
    )


def execute_stage(
    sources: Sequence[Source],
    notebooks: Sequence[nbformat.NotebookNode],
    config: Config,
    machine: Machine,
    listener: Listener | None = None,
) -> list[NotebookRun]:
    """Every notebook with its outputs, in order, or a `BuildFailed` listing every failure."""
    listener = listener or _Silent()
    forced = forced_notebooks(config.force, sources)
    cache = ExecutionCache(config.root / CACHE_DIR) if config.cache else None
    runs: list[NotebookRun | None] = [None] * len(sources)
    problems: dict[int, str] = {}
    jobs: list[tuple[int, Job, str | None]] = []  # (index, job, cache key)
    kernels: dict[str, dict[str, Any]] = {}
    for i, (source, nb) in enumerate(zip(sources, notebooks, strict=True)):
        try:
            settings = notebook_settings(nb, source.path)
        except DocgenError as e:
            problems[i] = str(e)
            continue
        rel = _project_path(source.path, config.root)
        why = needs_gpu(nb)
        if why and not machine.gpus:
            runs[i], problem = _without_gpu(source, nb, why, rel, config, cache)
            if problem:
                problems[i] = problem
            else:
                listener.finished(source.path, runs[i].status, 0.0)  # type: ignore[union-attr]
            continue
        if not _has_code_to_run(nb):
            runs[i] = NotebookRun(source, nb, NO_CODE)
            continue
        name = config.kernel_name or nb.metadata.get("kernelspec", {}).get("name") or "python3"
        key = None
        if cache is not None:
            if name not in kernels:
                kernels[name] = kernel_fingerprint(name)
            data = data_digest(source.path.parent, settings.get("data", []))
            code = [cell.source for cell in nb.cells if cell.cell_type == "code"]
            local = local_module_digests(code, source.path.parent, config.root)
            env = {var: os.environ.get(var) for var in config.env_keys}
            key = notebook_key(
                rel, nb, kernels[name], machine.environment, data, config.preload, local, env
            )
            if i not in forced:
                cached, warning = cache.load(key, nb)
                if warning:
                    listener.warn(warning)
                if cached is not None:
                    runs[i] = _finished_run(source, cached, CACHED)
                    listener.finished(source.path, CACHED, 0.0)
                    continue
        jobs.append((i, Job(nb, source.path, name), key))

    options = PoolOptions(
        timeout=config.timeout,
        workers=worker_count(config),
        warm_kernels=config.warm_kernels,
        preload=tuple(config.preload),
        gpus=machine.gpus,
        kernels_per_gpu=config.kernels_per_gpu,
    )
    results = run_jobs([job for _, job, _ in jobs], options, listener)
    for (i, job, key), result in zip(jobs, results, strict=True):
        if result.error is not None or result.nb is None:
            problems[i] = result.error or f"{job.path}: did not run"
            continue
        nb = result.nb
        docgen_metadata(nb)["provenance"] = nbformat.from_dict(_make_provenance(result))
        if cache is not None and key is not None:
            warning = cache.store(key, _project_path(job.path, config.root), nb)
            if warning:  # the site is still right; only the next build is slower
                listener.warn(warning)
        runs[i] = _finished_run(
            sources[i],
            nb,
            RAN,
            seconds=result.duration,
            kernel_wait=result.kernel_wait,
            warnings=result.warnings,
        )
    if problems:
        raise BuildFailed([problems[i] for i in sorted(problems)])
    return [run for run in runs if run is not None]


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def page_provenance(run: NotebookRun) -> dict[str, str]:
    """What a page says about where its outputs came from; `summary` is the sentence shown."""
    p = run.provenance
    date = str(p.get("date", ""))[:10]
    if run.status == NOT_RUN:
        summary = "Not executed: this notebook needs a GPU, and this build had none."
    elif run.status == GPU_OUTPUTS:
        summary = (
            f"Outputs from a GPU run on {date}, {p.get('device', 'unknown device')}."
            if date
            else "Outputs stored in the notebook: it needs a GPU, and this build had none."
        )
    elif p:
        labels = (("python", "Python"), ("torch", "torch"), ("cuda", "CUDA"))
        versions = ", ".join(f"{label} {p[key]}" for key, label in labels if p.get(key))
        summary = (
            f"Ran on {p.get('device', 'CPU')}"
            + (f" with {versions}" if versions else "")
            + f" in {_duration(float(p.get('seconds', 0.0)))}"
            + (f" on {date}" if date else "")
            + "."
        )
    else:
        return {}
    return {**{k: str(v) for k, v in p.items()}, "status": run.status, "summary": summary}
