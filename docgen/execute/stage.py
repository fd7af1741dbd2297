"""The execute stage: plan (plan.py), run what the plan says through an `Executor`
(the local pool unless told otherwise), store what ran in the cache, and hand every
notebook on with its outputs and where they came from.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from docgen.config import CACHE_DIR, Config
from docgen.errors import BuildFailed
from docgen.execute.cache import ExecutionCache, docgen_metadata, environment_fingerprint
from docgen.execute.executor import ExecutionResult, Executor, Listener, Silent
from docgen.execute.gpus import detect_gpus
from docgen.execute.plan import Machine, PlannedJob, finished_run, plan_execution, project_path
from docgen.execute.schedule import expected_seconds, longest_first
from docgen.model import NotebookRun, Source, Status
from docgen.notebooks.node import from_dict

if TYPE_CHECKING:
    import nbformat

    from docgen.execute.pool import KeptLaunchers, LocalPool, PoolOptions


def detect_machine(config: Config) -> Machine:
    warnings: list[str] = []
    gpus = tuple(detect_gpus(os.environ, warn=warnings.append))
    fingerprint = environment_fingerprint(gpus, config.packages, config.root)
    return Machine(gpus, fingerprint, tuple(warnings))


def worker_count(config: Config) -> int:
    """Notebooks run at once: `workers`, or one per CPU core this process may use."""
    if config.workers:
        return config.workers
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def pool_options(config: Config, machine: Machine) -> PoolOptions:
    """The local pool's settings from the config, on `machine`'s GPUs (a Dask worker
    replaces the workers, warm kernels and GPUs with its own)."""
    # Imported here: it loads nbclient and jupyter_client, which a build of cached
    # notebooks does not need.
    from docgen.execute.pool import PoolOptions

    return PoolOptions(
        timeout=config.timeout,
        workers=worker_count(config),
        warm_kernels=config.warm_kernels,
        preload=tuple(config.preload),
        fork_kernels=config.fork_kernels,
        batch_cells=config.batch_cells,
        preload_first_cells=config.preload_first_cells,
        gpus=machine.gpus,
        kernels_per_gpu=config.kernels_per_gpu,
        run_line_packages=tuple(config.run_line_packages),
        env=nbdev_test_env(config),
    )


def local_pool(
    config: Config, machine: Machine, kept: KeptLaunchers | None = None
) -> LocalPool:
    """The executor a build uses unless given another: kernels on this machine (forked
    from `kept` zygotes when given, see pool.py)."""
    from docgen.execute.pool import LocalPool

    return LocalPool(pool_options(config, machine), kept=kept)


def nbdev_test_env(config: Config) -> tuple[tuple[str, str], ...]:
    """What nbdev's runner adds to a notebook's environment: IN_TEST, under which calls such
    as nbdev_export() do nothing, and the project root on the import path, so the library
    imports without being installed. Other projects' kernels get neither."""
    if not config.nbdev:
        return ()
    path = [str(config.root), *filter(None, [os.environ.get("PYTHONPATH")])]
    return (("IN_TEST", "1"), ("PYTHONPATH", os.pathsep.join(path)))


def provenance_of(result: ExecutionResult) -> dict[str, Any]:
    """Where a notebook ran, as data: device, versions, seconds, date (see site/provenance.py)."""
    info = result.kernel_info
    device = info.get("gpu") or (result.gpu.name if result.gpu else "CPU")
    provenance: dict[str, Any] = {"device": device}
    for key in ("python", "torch", "cuda"):
        if info.get(key):
            provenance[key] = info[key]
    if isinstance(info.get("packages"), dict):
        provenance["packages"] = {str(k): str(v) for k, v in info["packages"].items()}
    used = [bool(info[key]) for key in ("cuda_used", "gpu_opened") if key in info]
    if used:  # torch initialised CUDA, or something opened a GPU
        provenance["cuda_used"] = any(used)
    if result.worker.get("host"):
        provenance["host"] = result.worker["host"]
        provenance["worker"] = dict(result.worker)
    provenance["seconds"] = round(result.duration, 2)
    provenance["date"] = result.finished
    return provenance


def in_running_order(
    to_run: Sequence[PlannedJob], config: Config, cache: ExecutionCache | None
) -> list[PlannedJob]:
    """The jobs longest first, by the seconds the cache recorded for each (schedule.py)."""
    paths = [project_path(planned.job.path, config.root) for planned in to_run]
    seconds = expected_seconds(paths, cache.recorded_seconds if cache else lambda _: None)
    return longest_first(to_run, lambda p: project_path(p.job.path, config.root), seconds)


def execute_stage(
    sources: Sequence[Source],
    notebooks: Sequence[nbformat.NotebookNode],
    config: Config,
    machine: Machine,
    listener: Listener | None = None,
    executor: Executor | None = None,
) -> list[NotebookRun]:
    """Every notebook with its outputs, in order, or a `BuildFailed` listing every failure."""
    if executor is None and config.executor == "dask":
        from docgen.execute.dask.driver import dask_executor

        # The cluster's GPUs and environment replace this machine's in the plan.
        with dask_executor(config, machine) as (cluster, on_cluster):
            return execute_stage(sources, notebooks, config, on_cluster, listener, cluster)
    listener = listener or Silent()
    cache = ExecutionCache(config.root / CACHE_DIR) if config.cache else None
    plan = plan_execution(sources, notebooks, config, machine, cache)
    if cache is not None:
        cache.keep_imports()
    for message in plan.warnings:
        listener.warn(message)
    for i in sorted(plan.decided):
        if plan.decided[i].status is not Status.NO_CODE:
            listener.finished(sources[i].path, plan.decided[i].status, 0.0)
        if cache is not None and plan.decided[i].status in (Status.CACHED, Status.GPU_OUTPUTS):
            # A CI shard's run, merged in, records its time here: shards do not.
            rel = project_path(sources[i].path, config.root)
            cache.keep_newer_duration(rel, plan.decided[i].provenance)

    ran, problems = run_planned(plan.to_run, sources, config, machine, cache, listener, executor)
    runs = {**plan.decided, **ran}
    problems = {**plan.problems, **problems}
    if problems:
        raise BuildFailed([problems[i] for i in sorted(problems)])
    return [runs[i] for i in sorted(runs)]


def run_planned(
    planned_jobs: Sequence[PlannedJob],
    sources: Sequence[Source],
    config: Config,
    machine: Machine,
    cache: ExecutionCache | None,
    listener: Listener,
    executor: Executor | None = None,
    record_duration: bool = True,
) -> tuple[dict[int, NotebookRun], dict[int, str]]:
    """Run the jobs longest first and store each result in `cache`: (the runs, the
    problems), both by the notebook's index in `sources`."""
    runs: dict[int, NotebookRun] = {}
    problems: dict[int, str] = {}
    to_run = in_running_order(planned_jobs, config, cache)
    results: list[ExecutionResult] = []
    if to_run or executor is not None:  # the local pool only when something runs
        executor = executor or local_pool(config, machine)
        results = executor.run([planned.job for planned in to_run], listener)
    for planned, result in zip(to_run, results, strict=True):
        i, job = planned.index, planned.job
        if result.error is not None or result.nb is None:
            problems[i] = result.error or f"{job.path}: did not run"
            continue
        docgen_metadata(result.nb)["provenance"] = from_dict(provenance_of(result))
        key = result.key or planned.key  # a worker's key holds its own environment
        if cache is not None and key is not None:
            rel = project_path(job.path, config.root)
            warning = cache.store(key, rel, result.nb, record_duration)
            if warning:  # the site is still right; only the next build is slower
                listener.warn(warning)
        runs[i] = finished_run(
            sources[i],
            result.nb,
            Status.RAN,
            seconds=result.duration,
            kernel_wait=result.kernel_wait,
            warnings=result.warnings,
        )
    return runs, problems
