"""The local executor: `workers` notebooks at once, each in a kernel no other notebook has used.

Kernels for the notebooks next in line are started ahead (`warm_kernels`) and import
`preload` while they wait; with GPUs, each kernel sees one, and no GPU runs more than
`kernels_per_gpu` of the notebooks that use it (`Job.uses_gpu`) at once. The others run
alongside, as many as `workers` allows: a GPU's queue never keeps them from a kernel.
Results keep the jobs' order, and a failing notebook does not stop the others. On Ctrl-C,
SIGTERM or SIGHUP every kernel is killed and `Interrupted` raised.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import nbformat

from docgen.errors import STOP_SIGNALS, DocgenError, Interrupted
from docgen.execute.executor import ExecutionResult, Job, Listener
from docgen.execute.gpus import Gpu, GpuAssigner, gpu_env
from docgen.execute.reaper import Reaper
from docgen.model import Status

if TYPE_CHECKING:
    from docgen.execute.launcher import Zygotes

T = TypeVar("T")


class PoolKernel(Protocol):
    """What the pool needs of a kernel (kernel.Kernel is the real one)."""

    async def start(self) -> None: ...
    async def preload(self, modules: Sequence[str], timeout: float) -> str | None: ...
    async def run(
        self, nb: nbformat.NotebookNode, timeout: int, on_cell: Callable[[int], None] | None
    ) -> nbformat.NotebookNode: ...
    async def describe(
        self, timeout: float = 30, packages: Sequence[str] = ()
    ) -> dict[str, Any]: ...
    async def shutdown(self) -> None: ...
    def kill_now(self) -> None: ...


# (kernel name, notebook path, extra environment, reaper) -> a kernel not yet started
KernelFactory = Callable[[str, Path, dict[str, str], Reaper], PoolKernel]


@dataclass(frozen=True)
class PoolOptions:
    """The local pool's settings; `timeout` and `preload` apply to each notebook."""

    timeout: int
    workers: int = 1
    warm_kernels: int = 0
    preload: tuple[str, ...] = ()
    # Kernels are forks of a process that imported `preload` (and, with
    # `preload_first_cells`, the notebooks' first-cell imports) once: launcher.py.
    fork_kernels: bool = True
    batch_cells: bool = True  # an IPython kernel's cells in one request (batch.py)
    preload_first_cells: bool = True
    gpus: tuple[Gpu, ...] = ()
    kernels_per_gpu: int = 2
    run_line_packages: tuple[str, ...] = ()  # their versions are recorded after the run
    # Variables set in every kernel's environment, e.g. nbdev's IN_TEST=1.
    env: tuple[tuple[str, str], ...] = ()

    @property
    def running(self) -> int:
        """Most notebooks running at once."""
        return max(1, self.workers)

    @property
    def gpu_running(self) -> int:
        """Most notebooks that use a GPU running at once (`Job.uses_gpu`)."""
        return max(1, min(self.running, len(self.gpus) * self.kernels_per_gpu))

    @property
    def kernels(self) -> int:
        """Most kernels alive at once: those running plus those started ahead."""
        return self.running + self.warm_kernels


async def _start(kernel: PoolKernel, options: PoolOptions) -> list[str]:
    await kernel.start()
    warning = await kernel.preload(options.preload, options.timeout)
    return [warning] if warning else []


class Launcher(Protocol):
    """What starts the pool's kernels besides themselves (launcher.Zygotes): closed when the
    pool is done (unless it is kept for the next run), killed on an interrupt."""

    def close(self) -> None: ...
    def kill(self) -> None: ...
    def pids(self) -> list[int]: ...


# (preload, the notebooks' first-cell imports, warn, fork_kernels) -> the zygotes of one run,
# kept by the caller from one run to the next (serve/kernels.py)
KeptLaunchers = Callable[[Sequence[str], Sequence[str], Callable[[str], None], bool], "Zygotes"]


class _Kernels:
    """The kernels alive now, so that an interrupt can kill them all at once, the reaper
    of whatever their cells started, and what launches them."""

    def __init__(
        self, launcher: Launcher | None = None, reaper: Reaper | None = None, kept: bool = False
    ) -> None:
        self.live: set[PoolKernel] = set()
        self.stopping = False
        self.reaper = reaper or Reaper()
        self.launcher = launcher
        self.kept = kept  # the launcher outlives the pool

    def kill_all(self) -> None:
        self.stopping = True
        for kernel in list(self.live):
            kernel.kill_now()
        if self.launcher is not None:
            self.launcher.kill()


async def _run_jobs(
    jobs: Sequence[Job],
    options: PoolOptions,
    listener: Listener,
    alive: _Kernels,
    new_kernel: KernelFactory,
) -> list[ExecutionResult]:
    workers = asyncio.Semaphore(options.running)
    kernels = asyncio.Semaphore(options.kernels)
    # Notebooks that use a GPU are counted on it, and at most `gpu_running` of them run, plus
    # `warm_kernels` started ahead; the others see a GPU too (they may start using it), but
    # run alongside as workers allow, never waiting for a GPU's turn.
    gpu_users = GpuAssigner(options.gpus) if options.gpus else None
    gpu_others = GpuAssigner(options.gpus) if options.gpus else None
    gpu_started = asyncio.Semaphore(options.gpu_running + options.warm_kernels)
    # Room for notebooks to run on each GPU; a kernel waiting ahead needs none yet.
    on_gpu = {g.index: asyncio.Semaphore(options.kernels_per_gpu) for g in options.gpus}
    results: list[ExecutionResult | None] = [None] * len(jobs)

    async def run_one(i: int, job: Job, gpu: Gpu | None, counted: bool) -> None:
        env = {**dict(options.env), **gpu_env(gpu)}
        kernel = new_kernel(job.kernel_name, job.path, env, alive.reaper)
        alive.live.add(kernel)
        starting = asyncio.create_task(_start(kernel, options))  # ahead of its turn
        try:
            async with on_gpu[gpu.index] if gpu is not None and counted else nullcontext(), workers:
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
                    info = await kernel.describe(packages=options.run_line_packages)
                    results[i] = ExecutionResult(
                        nb,
                        done - ready,
                        kernel_wait=ready - turn,
                        gpu=gpu,
                        kernel_info=info,
                        finished=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        warnings=tuple(warnings),
                    )
                    listener.finished(job.path, Status.RAN, done - ready)
                except Exception as e:  # one notebook's failure must not stop the others
                    message = (
                        str(e)
                        if isinstance(e, DocgenError)
                        else (f"{job.path}: running it failed: {type(e).__name__}: {e}")
                    )
                    results[i] = ExecutionResult(None, time.perf_counter() - turn, message, gpu=gpu)
                    if not alive.stopping:  # an interrupt killed it: not the notebook's fault
                        listener.finished(job.path, Status.FAILED, time.perf_counter() - turn)
        finally:
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
            await kernel.shutdown()
            alive.live.discard(kernel)
            if gpu is not None:
                assigner = gpu_users if counted else gpu_others
                assert assigner is not None
                assigner.release(gpu)
            if counted:
                gpu_started.release()
            kernels.release()

    async def record_families() -> None:
        # A child seen below its kernel can be told apart once it has left the tree.
        while True:
            await asyncio.sleep(1)
            alive.reaper.record()

    tasks: list[asyncio.Task[None]] = []
    recording = asyncio.create_task(record_families())
    try:
        # Kernels start in the notebooks' order, GPU notebooks first while a GPU has room (it
        # is the scarcer), and a notebook that would wait for a GPU's turn never holds back
        # one that does not use the GPU.
        users: deque[int] = deque()
        others: deque[int] = deque()
        for i, job in enumerate(jobs):
            (users if gpu_users is not None and job.uses_gpu else others).append(i)
        while users or others:
            await kernels.acquire()
            if users and (not others or not gpu_started.locked()):
                await gpu_started.acquire()  # waits only when no other notebook is left
                i = users.popleft()
                assert gpu_users is not None
                tasks.append(asyncio.create_task(run_one(i, jobs[i], gpu_users.assign(), True)))
                continue
            i = others.popleft()
            gpu = gpu_others.assign() if gpu_others is not None else None
            tasks.append(asyncio.create_task(run_one(i, jobs[i], gpu, False)))
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # their `finally` stops kernels
        for kernel in list(alive.live):  # left by a cancellation inside a shutdown
            kernel.kill_now()
        if alive.launcher is not None and alive.kept:
            alive.reaper.spare(alive.launcher.pids())
        elif alive.launcher is not None:  # before the reaper, which would take it for an orphan
            alive.launcher.close()
        recording.cancel()
        alive.reaper.close()  # before any await: a second cancellation must not skip it
        await asyncio.gather(recording, return_exceptions=True)
    return [
        r if r is not None else ExecutionResult(None, 0.0, f"{job.path}: did not run")
        for r, job in zip(results, jobs, strict=True)
    ]


async def run_hosted(
    jobs: Sequence[Job],
    options: PoolOptions,
    listener: Listener,
    new_kernel: KernelFactory,
    reaper: Reaper | None = None,
) -> list[ExecutionResult]:
    """Run the jobs in the running event loop, which belongs to a host that outlives the run
    (a Dask worker's): whatever launches `new_kernel`'s kernels is the host's to close, and
    interrupts are the host's to handle (by killing the kernels)."""
    return await _run_jobs(jobs, options, listener, _Kernels(reaper=reaper), new_kernel)


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


class LocalPool:
    """The `Executor` that runs notebooks in kernels on this machine (see the module's doc).

    `kernel` makes each notebook's kernel; by default a real Jupyter kernel (kernel.Kernel),
    forked from zygotes the pool starts and closes, or from `kept` ones when given.
    """

    def __init__(
        self,
        options: PoolOptions,
        kernel: KernelFactory | None = None,
        kept: KeptLaunchers | None = None,
    ) -> None:
        self.options = options
        self.kernel = kernel
        self.kept = kept

    def run(self, jobs: Sequence[Job], listener: Listener) -> list[ExecutionResult]:
        """Run every job; results keep the jobs' order. A failed result carries its message."""
        if not jobs:
            return []
        new_kernel = self.kernel
        launcher = None
        if new_kernel is None:
            # Only a build that runs a notebook loads jupyter-client, nbclient and zmq.
            from docgen.execute.kernel import Kernel
            from docgen.execute.launcher import Zygotes
            from docgen.execute.preloads import preload_modules

            options = self.options
            first_cells = (
                preload_modules(options.preload, ((j.nb, j.path.parent) for j in jobs))
                if options.preload_first_cells
                else []
            )
            launcher = (self.kept or Zygotes)(
                options.preload, first_cells, listener.warn, options.fork_kernels
            )
            new_kernel = functools.partial(
                Kernel, zygotes=launcher, batched=options.batch_cells
            )
        alive = _Kernels(launcher, kept=self.kept is not None)
        main = _run_jobs(jobs, self.options, listener, alive, new_kernel)
        return _run_interruptibly(main, alive.kill_all)
