"""The execute stage's decisions, before anything runs: for each notebook, reuse its cache
entry, show an earlier GPU run's outputs on a machine without a GPU, skip it (no code), or
run it (`--force` skips the cache).

`plan_execution` reads the cache but starts no kernel; what it decides is plain data.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docgen.config import CACHE_DIR, Config
from docgen.errors import DocgenError, UsageError
from docgen.execute.cache import (
    ExecutionCache,
    data_digest,
    kernel_fingerprint,
    notebook_key,
    notebook_settings,
)
from docgen.execute.executor import Job
from docgen.execute.gpus import Gpu
from docgen.execute.kernelspecs import check_configured_kernel, missing_kernel_problems
from docgen.execute.localimports import local_module_digests
from docgen.execute.timing import cell_seconds, without_timing
from docgen.model import NotebookRun, Source, Status
from docgen.notebooks.cells import cell_options
from docgen.notebooks.discover import strip_prefix

if TYPE_CHECKING:
    import nbformat


@dataclass(frozen=True)
class Machine:
    """Where the build runs: its GPUs and what about it decides outputs (for the cache)."""

    gpus: tuple[Gpu, ...]
    environment: dict[str, str]
    warnings: tuple[str, ...] = ()  # what detection could not find out


@dataclass(frozen=True)
class PlannedJob:
    """A notebook to run: its place in the build, the job, and the cache key to store it under."""

    index: int
    job: Job
    key: str | None  # None when the cache is off


@dataclass(frozen=True)
class Plan:
    """What to run, and the notebooks whose outcome is already known."""

    to_run: tuple[PlannedJob, ...]
    decided: dict[int, NotebookRun]  # by index: cached, GPU outputs, not run, no code
    problems: dict[int, str]  # by index: why the notebook can neither run nor be shown
    warnings: tuple[str, ...]  # about the cache; the build goes on


def finished_run(
    source: Source, nb: nbformat.NotebookNode, status: Status, **kwargs: Any
) -> NotebookRun:
    """The run of a notebook whose outputs are known, with the provenance stored in it."""
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


def is_excluded(source: Source, patterns: Sequence[str]) -> bool:
    """Whether `exclude` names the notebook: a glob matching its path relative to `nbs`,
    or its file name."""
    rel = source.rel.as_posix()
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(source.rel.name, p) for p in patterns)


def has_code_to_run(nb: nbformat.NotebookNode) -> bool:
    return any(cell_options(c).execute and c.source.strip() for c in nb.cells)


def _has_outputs(nb: nbformat.NotebookNode) -> bool:
    return any(c.get("outputs") for c in nb.cells if c.cell_type == "code")


def project_path(path: Path, root: Path) -> str:
    """`path` relative to the project's root where it is inside it (cache entries use it)."""
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()


def forced_notebooks(
    names: Sequence[str], sources: Sequence[Source], option: str = "--force"
) -> set[int]:
    """Indexes of the notebooks `--force NAME` names ('*': all), by path relative to the
    notebooks folder or page name; unknown names are errors naming `option`."""
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
                f"{option} {name}: no notebook of that name; give its path relative to the "
                f"notebooks folder, e.g. {option} "
                + (sources[0].rel.as_posix() if sources else "")
            )
        chosen |= found
    return chosen


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
        return finished_run(source, earlier, Status.GPU_OUTPUTS), None
    if _has_outputs(nb):
        return finished_run(source, nb, Status.GPU_OUTPUTS), None
    where = f"neither in {config.root / CACHE_DIR} nor in the notebook"
    problem = (
        f"{source.path}: needs a GPU ({why}), and this machine has none; no outputs of an "
        f"earlier GPU run are stored for it, {where}."
    )
    if config.allow_missing_gpu:
        warning = f"{problem} Its page shows the code without outputs."
        return NotebookRun(source, nb, Status.NOT_RUN, warnings=(warning,)), None
    return None, (
        f"{problem}\n  Build once on a GPU machine and keep its .docgen_cache/ (or commit the "
        "notebook with its outputs), or pass --allow-missing-gpu to publish the page without "
        "outputs."
    )


def _held(
    source: Source, nb: nbformat.NotebookNode, rel: str, cache: ExecutionCache | None
) -> NotebookRun:
    """A notebook this build may not run (and the cache has not run as it is now): the
    outputs of its last run in `cache` (given for a GPU notebook), or those stored in it."""
    earlier = cache.latest(rel, nb) if cache is not None else None
    if earlier is not None:
        return finished_run(source, earlier, Status.GPU_OUTPUTS)
    return finished_run(source, nb, Status.HELD)


def plan_execution(
    sources: Sequence[Source],
    notebooks: Sequence[nbformat.NotebookNode],
    config: Config,
    machine: Machine,
    cache: ExecutionCache | None,
) -> Plan:
    """Decide, for every notebook, whether it runs; raises `UsageError` for a bad `--force`."""
    forced = forced_notebooks(config.force, sources)
    allowed = forced_notebooks(config.only, sources, "PAGE") if config.only else None
    to_run: list[PlannedJob] = []
    decided: dict[int, NotebookRun] = {}
    problems: dict[int, str] = {}
    warnings: list[str] = []
    kernels: dict[str, dict[str, Any]] = {}
    for i, (source, nb) in enumerate(zip(sources, notebooks, strict=True)):
        try:
            settings = notebook_settings(nb, source.path)
        except DocgenError as e:
            problems[i] = str(e)
            continue
        rel = project_path(source.path, config.root)
        if is_excluded(source, config.exclude):
            decided[i] = finished_run(source, nb, Status.EXCLUDED)
            continue
        why = needs_gpu(nb)
        if why and not machine.gpus:
            run, problem = _without_gpu(source, nb, why, rel, config, cache)
            if run is not None:
                decided[i] = run
            if problem:
                problems[i] = problem
            continue
        if not has_code_to_run(nb):
            decided[i] = NotebookRun(source, nb, Status.NO_CODE)
            continue
        name = config.kernel_name or nb.metadata.get("kernelspec", {}).get("name") or "python3"
        key = None
        if cache is not None:
            if name not in kernels:
                kernels[name] = kernel_fingerprint(name)
            data = data_digest(source.path.parent, settings.get("data", []))
            code = [cell.source for cell in nb.cells if cell.cell_type == "code"]
            local = local_module_digests(
                code, source.path.parent, config.root, cache.cell_imports(code)
            )
            env = {var: os.environ.get(var) for var in config.env_keys}
            key = notebook_key(
                rel, nb, kernels[name], machine.environment, data, config.preload, local, env
            )
            if i not in forced:
                cached, warning = cache.load(key, nb)
                if warning:
                    warnings.append(warning)
                if cached is not None:
                    decided[i] = finished_run(source, cached, Status.CACHED)
                    continue
        if (allowed is not None and i not in allowed) or (
            why and config.gpu_on_request and i not in forced
        ):
            decided[i] = _held(source, nb, rel, cache if why else None)
            continue
        # A notebook takes its turn on a GPU unless its latest run on one left it unused.
        uses_gpu = bool(why) or cache is None or cache.recorded_gpu_use(rel) is not False
        to_run.append(PlannedJob(i, Job(nb, source.path, name, uses_gpu), key))
    to_run = _drop_missing_kernels(to_run, config, problems)
    return Plan(tuple(to_run), decided, problems, tuple(warnings))


def _drop_missing_kernels(
    to_run: list[PlannedJob], config: Config, problems: dict[int, str]
) -> list[PlannedJob]:
    """The jobs whose kernel is installed; one problem per missing kernel goes to `problems`
    under its first notebook, rather than the same failure once per notebook."""
    if not to_run:
        return to_run
    check_configured_kernel(config.kernel_name, config.config_file)
    wanted: dict[str, list[Path]] = {}
    for planned in to_run:
        wanted.setdefault(planned.job.kernel_name, []).append(planned.job.path)
    missing = missing_kernel_problems(wanted)
    kept, reported = [], set()
    for planned in to_run:
        name = planned.job.kernel_name
        if name not in missing:
            kept.append(planned)
        elif name not in reported:
            reported.add(name)
            problems[planned.index] = missing[name]
    return kept
