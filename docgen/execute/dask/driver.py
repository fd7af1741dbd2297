"""The Dask `Executor`: each notebook one task, submitted with `client.submit`.

With `scheduler` set, docgen connects to it before planning (an unreachable scheduler is a
`UsageError` naming it) and plans for the cluster: its GPUs are those of the workers that
offer a `GPU` resource, its environment the workers' (so the cache is read with the keys
the workers compute). Without one, a `distributed.LocalCluster` (one single-threaded
worker process per core) is started when the first notebook has to run, and closed after.

Notebooks that need a GPU are submitted with `resources={"GPU": 1}`. A task that raises is
retried once (`retries=1`). A task whose worker dies is the scheduler's to reschedule: a
local cluster allows one such retry, after which the notebook is reported as failed; a
remote scheduler follows its own `allowed-failures` (start it with
`DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=1` for the same rule). Ctrl-C, SIGTERM and
SIGHUP cancel every task; each task then kills its kernel (task.py).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from docgen.config import Config
from docgen.errors import STOP_SIGNALS, DocgenError, Interrupted, UsageError
from docgen.execute.cache import data_digest, notebook_settings
from docgen.execute.dask.task import PROGRESS_TOPIC, KeyParts, NotebookTask, describe_worker
from docgen.execute.executor import ExecutionResult, Job, Listener
from docgen.execute.gpus import Gpu
from docgen.execute.localimports import local_module_digests
from docgen.execute.plan import Machine, needs_gpu, project_path
from docgen.execute.stage import pool_options, worker_count
from docgen.model import Status

CONNECT_TIMEOUT = "5s"
INSTALL = "pip install docgen-nb[dask]"
# Bigger payloads go to the workers through `scatter` rather than inside the task.
_SCATTER_BYTES = 1 << 20


def check_installed() -> None:
    """A `UsageError` that says what to install when dask.distributed is not installed.

    Only looked for: importing it takes a second, which a build whose notebooks are all
    cached does not spend."""
    if importlib.util.find_spec("distributed") is None:
        raise UsageError(
            f'executor = "dask" needs dask.distributed, which is not installed here: {INSTALL}'
        )


def connect(address: str) -> Any:
    """A client of the scheduler at `address`; `UsageError` naming it when it cannot be reached."""
    import dask
    import distributed

    with dask.config.set({"distributed.comm.timeouts.connect": CONNECT_TIMEOUT}):
        try:
            return distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            raise UsageError(
                f"cannot reach the Dask scheduler at {address} ({e}). Start it (`dask "
                "scheduler`), check `scheduler` in [tool.docgen.execute] or --scheduler, or "
                "leave the address out to run a local cluster."
            ) from e


def cluster_machine(client: Any, config: Config, local: Machine) -> Machine:
    """The cluster as the plan sees it: GPUs of the workers offering a `GPU` resource, and
    the environment of the first worker (by address)."""
    try:
        client.wait_for_workers(1, timeout=30)
    except TimeoutError as e:
        raise UsageError(
            f"the Dask scheduler at {config.scheduler} has no workers (waited 30 s); start "
            f"some with `dask worker {config.scheduler}`"
        ) from e
    try:
        described = client.run(describe_worker, list(config.packages), str(config.root))
    except ImportError as e:  # raised on a worker, and sent back as it was
        raise UsageError(
            f"the Dask workers of {config.scheduler} cannot run docgen ({e}); install "
            "docgen-nb, the same version as here, into the workers' environment"
        ) from e
    try:
        workers = client.scheduler_info(n_workers=-1)["workers"]
    except TypeError:  # before dask 2025.4 every worker was listed
        workers = client.scheduler_info()["workers"]
    gpus: list[Gpu] = []
    for address in sorted(described):
        if workers.get(address, {}).get("resources", {}).get("GPU", 0) > 0:
            found = [Gpu(**g) for g in described[address]["gpus"]]
            # a worker may offer a GPU that nvidia-smi does not list (another driver)
            gpus += found or [Gpu(len(gpus), f"GPU of {described[address]['host']}")]
    first = described[sorted(described)[0]]
    return Machine(tuple(gpus), first["environment"], local.warnings)


@contextmanager
def dask_executor(config: Config, machine: Machine) -> Iterator[tuple[DaskExecutor, Machine]]:
    """The executor and the machine to plan for; the client and any local cluster are
    closed on leaving."""
    check_installed()
    executor = DaskExecutor(config)
    try:
        if config.scheduler:
            executor.client = connect(config.scheduler)
            machine = cluster_machine(executor.client, config, machine)
        executor.gpus = bool(machine.gpus)
        yield executor, machine
    finally:
        executor.close()


class DaskExecutor:
    """Runs each job as one task on a Dask cluster (see the module's doc)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.client: Any = None
        self.cluster: Any = None
        self.gpus = False  # whether some worker offers a GPU resource
        self.plugin = ""  # the name of the zygotes' worker plugin, once registered

    def start_local_cluster(self) -> None:
        import dask
        import distributed

        # A notebook whose worker dies runs once more, on another worker, then fails.
        with dask.config.set({"distributed.scheduler.allowed-failures": 1}), _ignoring_sigint():
            try:
                self.cluster = distributed.LocalCluster(
                    n_workers=worker_count(self.config),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    resources={"GPU": 1} if self.gpus else None,
                    # the workers' warnings (a task cancelled by Ctrl-C, ...) are not the user's
                    silence_logs=logging.ERROR,
                )
            except (OSError, TimeoutError) as e:
                raise UsageError(
                    f"could not start a local Dask cluster: {e}. Give a running scheduler "
                    "with --scheduler, or use the local executor (--executor local)."
                ) from e
        self.client = distributed.Client(self.cluster, set_as_default=False)

    def keep_zygotes(self) -> None:
        """Give each worker a zygote that outlives the tasks (zygotes.py), once per build."""
        if self.plugin or not self.config.fork_kernels:
            return
        from docgen.execute.dask.zygotes import PLUGIN_NAME, ZygotePlugin

        self.client.register_plugin(ZygotePlugin(), name=PLUGIN_NAME)
        self.plugin = PLUGIN_NAME

    def close(self) -> None:
        if self.client is not None and self.plugin and self.cluster is None:
            # A scheduler's workers outlive the build; their zygotes do not.
            try:
                self.client.unregister_worker_plugin(self.plugin)
            except Exception:  # a worker gone, a lost connection: its zygote died with it
                pass
        self.plugin = ""
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None

    def task_of(
        self, job: Job, first_cells: Sequence[str] = ()
    ) -> tuple[NotebookTask, bytes | None]:
        """The job as a task for a worker, and the files it needs (None: a shared folder).

        `first_cells`: the build's first-cell imports, which the worker's zygote preloads."""
        from docgen.execute.dask.files import pack_files

        config = self.config
        path = job.path
        base = config.root if path.is_relative_to(config.root) else path.parent
        data = notebook_settings(job.nb, path).get("data", [])
        key = None
        if config.cache:
            code = [cell.source for cell in job.nb.cells if cell.cell_type == "code"]
            key = KeyParts(
                rel=project_path(path, config.root),
                data=data_digest(path.parent, data),
                preload=tuple(config.preload),
                local=local_module_digests(code, path.parent, config.root),
                env={var: os.environ.get(var) for var in config.env_keys},
                packages=tuple(config.packages),
                root=str(config.root),
            )
        options = pool_options(config, Machine((), {}))  # the worker's own GPUs apply
        files = None if config.shared_path else pack_files(path, base, data)
        task = NotebookTask(
            job, str(base), options, key, config.shared_path, tuple(first_cells)
        )
        return task, files

    def run(self, jobs: Sequence[Job], listener: Listener) -> list[ExecutionResult]:
        if not jobs:
            return []
        tasks: list[tuple[NotebookTask, bytes | None]] = []
        results: list[ExecutionResult | None] = [None] * len(jobs)
        first_cells: list[str] = []
        if self.config.fork_kernels and self.config.preload_first_cells:
            from docgen.execute.preloads import preload_modules

            # The same list for every task: each worker keeps one zygote for the build.
            first_cells = preload_modules(
                self.config.preload, ((job.nb, job.path.parent) for job in jobs)
            )
        for i, job in enumerate(jobs):
            try:
                tasks.append(self.task_of(job, first_cells))
            except DocgenError as e:
                results[i] = ExecutionResult(None, 0.0, str(e))
        if self.client is None:
            self.start_local_cluster()
        self.keep_zygotes()
        futures: dict[int, Any] = {}
        try:
            with _stop_signals():
                self._submit(jobs, tasks, results, listener, futures)
                self._collect(jobs, futures, results, listener)
        except Interrupted:
            # Each task then kills its kernel (task.py); a local cluster closes after.
            self.client.cancel(list(futures.values()), force=True)
            raise
        return [
            r if r is not None else ExecutionResult(None, 0.0, f"{job.path}: did not run")
            for r, job in zip(results, jobs, strict=True)
        ]

    def _submit(
        self,
        jobs: Sequence[Job],
        tasks: list[tuple[NotebookTask, bytes | None]],
        results: list[ExecutionResult | None],
        listener: Listener,
        futures: dict[int, Any],
    ) -> None:
        from docgen.execute.dask.task import run_notebook

        by_path = {str(job.path): job.path for job in jobs}
        warned: set[str] = set()

        def on_progress(event: Any) -> None:
            _, message = event
            path = by_path.get(message.get("path", ""))
            if path is None:
                return
            if message["event"] == "started":
                listener.started(path)
            elif message["event"] == "cell":
                listener.cell(path, message["index"], message["count"])
            elif message["event"] == "warn" and message["message"] not in warned:
                warned.add(message["message"])  # each worker's zygote says it once
                listener.warn(message["message"])

        self.client.subscribe_topic(PROGRESS_TOPIC, on_progress)
        pending = iter(tasks)
        for i, job in enumerate(jobs):
            if results[i] is not None:
                continue
            task, files = next(pending)
            shipped: Any = files
            if files is not None and len(files) > _SCATTER_BYTES:
                shipped = self.client.scatter(files, hash=False)
            gpu = self.gpus and bool(needs_gpu(job.nb))
            futures[i] = self.client.submit(
                run_notebook,
                _without_outputs(task),
                shipped,
                key=f"docgen-{i}-{job.path.name}-{time.time_ns()}",
                pure=False,
                retries=1,
                priority=len(jobs) - i,  # the stage's order: the first job starts first
                resources={"GPU": 1} if gpu else None,
            )

    def _collect(
        self,
        jobs: Sequence[Job],
        futures: dict[int, Any],
        results: list[ExecutionResult | None],
        listener: Listener,
    ) -> None:
        index = {future.key: i for i, future in futures.items()}
        import distributed

        done = distributed.as_completed(list(futures.values()), loop=self.client.loop)
        for future in done:
            i = index[future.key]
            job = jobs[i]
            try:
                result: ExecutionResult = future.result()
            except Exception as e:  # the task could not run: a dead worker, a lost payload
                result = ExecutionResult(None, 0.0, _task_failed(job, e))
            results[i] = result
            status = Status.FAILED if result.error is not None else Status.RAN
            listener.finished(job.path, status, result.duration)


def _task_failed(job: Job, error: Exception) -> str:
    if type(error).__name__ == "KilledWorker":
        return (
            f"{job.path}: the Dask worker running it died, and so did the one it was "
            f"retried on ({error}). A worker dies when it runs out of memory or is stopped; "
            "check the workers' logs."
        )
    return f"{job.path}: its Dask task failed twice: {type(error).__name__}: {error}"


def _without_outputs(task: NotebookTask) -> NotebookTask:
    """The task without the notebook's stored outputs, which the run replaces anyway."""
    from docgen.notebooks.node import from_dict

    nb = from_dict(task.job.nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    return dataclasses.replace(task, job=dataclasses.replace(task.job, nb=nb))


@contextmanager
def _ignoring_sigint() -> Iterator[None]:
    """Processes started inside ignore SIGINT: Ctrl-C on a terminal reaches the whole process
    group, the local cluster's workers too, and only docgen itself should answer it (by
    cancelling the tasks and closing the cluster)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _stop_signals() -> Iterator[None]:
    """While tasks are submitted and awaited, Ctrl-C, SIGTERM and SIGHUP raise `Interrupted`
    (the caller then cancels every task)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def on_signal(signum: int, frame: Any) -> None:
        if not received:  # a second signal must not interrupt the cancelling
            received.append(signum)
            raise Interrupted(signum)

    previous = [(s, signal.signal(s, on_signal)) for s in STOP_SIGNALS]
    try:
        yield
    finally:
        for signum, handler in previous:
            signal.signal(signum, handler)
