"""The zygotes of one Dask worker, kept from task to task.

The local pool forks each kernel from a zygote that imported `preload` and the notebooks'
first-cell imports once per build (launcher.py). A Dask task runs one notebook, so a zygote
per task would import everything once per notebook. Instead the driver registers
`ZygotePlugin` on every worker: it keeps one `launcher.Zygotes` per worker, in an event loop
of its own on a thread that lives as long as the plugin (the zygote dies with the thread
that started it: PR_SET_PDEATHSIG), and each task runs its notebook in that loop.

A task names the modules to preload (the driver's list, the same as the local pool's); when
they, `fork_kernels`, or the environment kernels get change, the worker's zygotes are
replaced (the old ones close once their last task is done). The plugin's teardown (the
worker closing, or the driver unregistering it) kills the zygotes, and with them their
kernels. A task that is cancelled kills its own kernel (task.py), not the zygote.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from distributed import WorkerPlugin

from docgen.execute.executor import ExecutionResult, Job, Listener
from docgen.execute.launcher import Zygotes
from docgen.execute.pool import KernelFactory, PoolOptions, run_hosted
from docgen.execute.reaper import Reaper, processes

PLUGIN_NAME = "docgen-zygotes"


@dataclass(frozen=True)
class ZygoteSpec:
    """What the worker's zygotes preload, and for which environment; another spec replaces them."""

    preload: tuple[str, ...]
    optional: tuple[str, ...]  # the notebooks' first-cell imports
    enabled: bool  # `fork_kernels`
    env: str  # digest of the environment the kernels get, less what is set per kernel


def spec_of(options: PoolOptions, optional: Sequence[str], env: dict[str, str]) -> ZygoteSpec:
    text = json.dumps(sorted(env.items()))
    return ZygoteSpec(
        tuple(options.preload),
        tuple(optional),
        options.fork_kernels,
        hashlib.sha256(text.encode()).hexdigest(),
    )


class _Generation:
    """One `Zygotes` and the tasks using it; `heard` keeps its fallback warning for every
    later task (it warns once, and each build should hear it)."""

    def __init__(self, spec: ZygoteSpec, host: WorkerZygotes) -> None:
        self.spec = spec
        self.heard: list[str] = []
        self.users = 0
        self.retired = False
        self.zygotes = Zygotes(spec.preload, spec.optional, self._warn, spec.enabled)
        self.host = host

    def _warn(self, message: str) -> None:
        self.heard.append(message)
        for listener in list(self.host.listeners):
            listener.warn(message)


class _SparingReaper(Reaper):
    """A task's reaper, which leaves the worker's zygotes alone: they outlive the task, and
    would otherwise look like orphans started during it."""

    def __init__(self, host: WorkerZygotes) -> None:
        super().__init__()
        self.host = host

    def close(self, timeout: float = 2.0) -> None:
        procs = processes()
        spared = {procs[pid].key for pid in self.host.zygote_pids() if pid in procs}
        self.before |= spared
        super().close(timeout)


class WorkerZygotes:
    """The worker's zygotes, in an event loop on a thread of their own (see the module's doc)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.lock = threading.Lock()
        self.current: _Generation | None = None
        self.generations: list[_Generation] = []
        self.listeners: list[Listener] = []  # those of the tasks running now
        self.closed = False
        self.thread = threading.Thread(target=self._serve, name="docgen-zygotes", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def zygote_pids(self) -> list[int]:
        with self.lock:
            return [z.process.pid for g in self.generations for z in g.zygotes.zygotes]

    def _acquire(self, spec: ZygoteSpec, listener: Listener) -> _Generation:
        with self.lock:
            if self.closed:
                raise RuntimeError("the worker is closing")
            if self.current is None or self.current.spec != spec:
                if self.current is not None:
                    self.current.retired = True
                    self._close_if_unused(self.current)
                self.current = _Generation(spec, self)
                self.generations.append(self.current)
            generation = self.current
            generation.users += 1
            self.listeners.append(listener)
        for message in generation.heard:
            listener.warn(message)
        return generation

    def _release(self, generation: _Generation, listener: Listener) -> None:
        with self.lock:
            generation.users -= 1
            # by identity: two listeners may compare equal
            self.listeners = [known for known in self.listeners if known is not listener]
            self._close_if_unused(generation)

    def _close_if_unused(self, generation: _Generation) -> None:
        if generation.retired and generation.users == 0:
            self.generations.remove(generation)
            # Closing waits for the zygote to end: not on the loop, which other tasks use.
            threading.Thread(target=generation.zygotes.close, daemon=True).start()

    def run(
        self,
        jobs: Sequence[Job],
        options: PoolOptions,
        optional: Sequence[str],
        env: dict[str, str],
        listener: Listener,
        new_kernel: Any,
    ) -> list[ExecutionResult]:
        """Run `jobs` with kernels forked from this worker's zygote for `spec_of(...)`.

        `new_kernel(name, path, env, reaper, zygotes=...)` makes each kernel."""
        generation = self._acquire(spec_of(options, optional, env), listener)
        try:

            def kernel(name: str, path: Any, extra: dict[str, str], reaper: Reaper) -> Any:
                return new_kernel(name, path, extra, reaper, zygotes=generation.zygotes)

            factory: KernelFactory = kernel
            main = run_hosted(jobs, options, listener, factory, _SparingReaper(self))
            return asyncio.run_coroutine_threadsafe(main, self.loop).result()
        finally:
            self._release(generation, listener)

    def close(self) -> None:
        """Kill every zygote (their kernels die with them) and stop the loop."""
        with self.lock:
            self.closed = True
            generations, self.generations, self.current = self.generations, [], None
        for generation in generations:
            generation.zygotes.kill()
            generation.zygotes.close()  # its pipes; the zygote is dead already

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if self.loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(cancel_all(), self.loop).result(30)
            except Exception:  # the worker closes anyway; the kernels died with the zygotes
                pass
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        if not self.thread.is_alive():
            self.loop.close()


class ZygotePlugin(WorkerPlugin):  # type: ignore[misc]
    """Gives each worker its `WorkerZygotes` (as `worker.plugins[PLUGIN_NAME].host`)."""

    name = PLUGIN_NAME

    def __init__(self) -> None:
        self.host: WorkerZygotes | None = None

    def setup(self, worker: Any) -> None:
        self.host = WorkerZygotes()

    def teardown(self, worker: Any) -> None:
        if self.host is not None:
            self.host.close()
            self.host = None


def worker_zygotes(worker: Any) -> WorkerZygotes | None:
    """The worker's zygotes, where the driver registered the plugin and fork is possible."""
    plugin = getattr(worker, "plugins", {}).get(PLUGIN_NAME)
    host = getattr(plugin, "host", None)
    return host if isinstance(host, WorkerZygotes) else None
