"""The execute stage: for each notebook, reuse its cache entry, show an earlier GPU run's
outputs on a machine without a GPU, or run it through the pool.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat

from docgen.config import CACHE_DIR, Config
from docgen.errors import BuildFailed, DocgenError, UsageError
from docgen.execute.cache import (
    ExecutionCache,
    data_digest,
    docgen_metadata,
    environment_fingerprint,
    kernel_fingerprint,
    notebook_key,
    notebook_settings,
)
from docgen.execute.gpus import Gpu, detect_gpus
from docgen.execute.localimports import local_module_digests
from docgen.execute.timing import cell_seconds, without_timing
from docgen.model import Source
from docgen.notebooks.cells import cell_options
from docgen.notebooks.discover import strip_prefix

if TYPE_CHECKING:
    pass
from docgen.execute.pool import ExecutionResult, Job, Listener, PoolOptions, _Silent, run_jobs
from docgen.model import CACHED, GPU_OUTPUTS, NO_CODE, NOT_RUN, RAN, NotebookRun


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
