"""`docgen build --shard I/N`: one CI job's share of the notebooks, executed into the cache.

Every shard computes the same split (schedule.split_by_duration) from the same inputs: the
notebooks, and the seconds the execution cache recorded for each when the job started (60 s
for one never run, so a cache without durations splits by count). A shard stores what it
runs in the cache but leaves the recorded durations as they were, so shards run one after
another in one checkout split the notebooks exactly as shards started side by side do. The
merge (`docgen build --merge`, execute/merge.py) records the new durations.

Numbered shards share the notebooks that need no GPU; `--shard gpu` runs those that do (a
`requires-cuda` cell, or requires_gpu in their docgen metadata) on a machine with a GPU. No
site is written: the merge renders it from every shard's cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from docgen.config import CACHE_DIR, Config
from docgen.errors import BuildFailed, DocgenError, UsageError
from docgen.execute.cache import ExecutionCache, notebook_settings
from docgen.execute.executor import Executor, Listener
from docgen.execute.plan import (
    Machine,
    has_code_to_run,
    is_excluded,
    needs_gpu,
    plan_execution,
    project_path,
)
from docgen.execute.schedule import (
    Shard,
    expected_seconds,
    longest_first,
    split_by_duration,
)
from docgen.execute.stage import run_planned
from docgen.model import Source, Status
from docgen.notebooks.discover import discover_notebooks
from docgen.notebooks.nbdev import as_nbdev_test_runs
from docgen.pipeline import check_notebook_folder, read_notebooks
from docgen.site.outdir import check_cache_folder, excluded_folders

if TYPE_CHECKING:
    import nbformat


@dataclass
class ShardReport:
    """What a shard did: its notebooks (project paths) with their expected seconds."""

    shard: Shard
    expected: dict[str, float]  # this shard's notebooks, in running order
    total: float  # expected seconds of every notebook the shards share
    ran: dict[str, float] = field(default_factory=dict)  # path -> seconds it took
    cached: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def shard_notebooks(
    sources: Sequence[Source], notebooks: Sequence[nbformat.NotebookNode], config: Config, gpu: bool
) -> list[int]:
    """Indexes of the notebooks the numbered shards share (gpu=False) or the GPU shard runs.

    A function of the notebooks and config alone, not of this machine or what is cached:
    every shard must see the same list. Notebooks that are excluded or have no code run in
    no shard; one whose metadata is wrong goes to the numbered shards, which report it.
    """
    chosen = []
    for i, (source, nb) in enumerate(zip(sources, notebooks, strict=True)):
        if is_excluded(source, config.exclude):
            continue
        try:
            notebook_settings(nb, source.path)
        except DocgenError:
            if not gpu:
                chosen.append(i)
            continue
        if bool(needs_gpu(nb)) == gpu and has_code_to_run(nb):
            chosen.append(i)
    return chosen


def run_shard(
    config: Config,
    shard: Shard,
    machine: Machine,
    listener: Listener,
    announce: Callable[[ShardReport], None],
    executor: Executor | None = None,
) -> ShardReport:
    """Run this shard's notebooks that the cache does not hold, storing each in it.

    `announce` hears the split before anything runs. Raises `UsageError` when the cache is
    off or `--shard gpu` finds no GPU, `BuildFailed` when one of this shard's notebooks
    cannot be read or run (the others are stored all the same).
    """
    if not config.cache:
        raise UsageError(
            "--shard stores what it runs in the execution cache, which [tool.docgen.execute] "
            "turns off (cache = false); remove that line to run shards"
        )
    if not config.execute:
        raise UsageError("--shard runs notebooks; it cannot be combined with --no-exec")
    if shard.gpu and not machine.gpus:
        detail = "".join(f"\n  {w}" for w in machine.warnings)
        raise UsageError(
            "--shard gpu runs the notebooks that need a GPU, and this machine has none "
            f"(nvidia-smi lists no visible GPU); run it on a GPU machine{detail}"
        )
    check_cache_folder(config)
    check_notebook_folder(config)
    sources = discover_notebooks(
        config.nbs, config.nav, exclude=excluded_folders(config), private=config.nbdev
    )
    if not sources:
        raise DocgenError(f"no notebooks found in {config.nbs}")
    notebooks = read_notebooks(sources)
    if config.nbdev:
        notebooks = [as_nbdev_test_runs(nb, config.skip_flags) for nb in notebooks]

    cache = ExecutionCache(config.root / CACHE_DIR)
    # Made even when this shard has nothing to run, so every job has a cache to hand on.
    cache.folder.mkdir(parents=True, exist_ok=True)
    shared = shard_notebooks(sources, notebooks, config, shard.gpu)
    path_of = {project_path(sources[i].path, config.root): i for i in shared}
    seconds = expected_seconds(list(path_of), cache.recorded_seconds)
    mine = split_by_duration(seconds, shard.count)[shard.index - 1]
    report = ShardReport(
        shard,
        {p: seconds[p] for p in longest_first(mine, str, seconds)},
        sum(seconds.values()),
    )
    announce(report)

    indexes = {path_of[p] for p in mine}
    chosen = [sources[i] for i in sorted(indexes)]
    picked = [notebooks[i] for i in sorted(indexes)]
    plan = plan_execution(chosen, picked, config, machine, cache)
    cache.keep_imports()
    report.warnings += plan.warnings
    for run in plan.decided.values():
        if run.status is Status.CACHED:
            report.cached.append(project_path(run.source.path, config.root))
            listener.finished(run.source.path, run.status, 0.0)
    runs, problems = run_planned(
        plan.to_run, chosen, config, machine, cache, listener, executor, record_duration=False
    )
    for run in runs.values():
        report.ran[project_path(run.source.path, config.root)] = run.seconds
    problems = {**plan.problems, **problems}
    if problems:
        raise BuildFailed([problems[i] for i in sorted(problems)])
    return report
