"""Longest first: the execute stage hands any executor its jobs by the seconds each
notebook's latest run took (the cache's durations), unknown ones first at 60 s."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import nbformat
from conftest import write_notebook
from nbformat.v4 import new_output

from docgen.config import CACHE_DIR, Config, load_config
from docgen.execute.cache import ExecutionCache
from docgen.execute.executor import ExecutionResult, Job, Listener
from docgen.execute.gpus import Gpu
from docgen.execute.plan import Machine
from docgen.execute.schedule import UNKNOWN_SECONDS, expected_seconds, longest_first
from docgen.execute.stage import execute_stage, provenance_of
from docgen.model import Status
from docgen.notebooks.discover import discover_notebooks
from docgen.pipeline import read_notebooks

NO_GPU = Machine((), {"python": "test"})
ONE_GPU = Machine((Gpu(0, "Fake GPU"),), {"python": "test"})
SECONDS = {"a": 0.5, "b": 9.0, "c": 3.0, "d": 1.0}


class TimedExecutor:
    """Runs nothing: each notebook 'takes' its seconds in SECONDS and prints its name."""

    def __init__(self, used_gpu: str = "") -> None:
        self.batches: list[list[str]] = []
        self.uses_gpu: dict[str, bool] = {}
        self.used_gpu = used_gpu  # the notebooks whose kernel reports a GPU's use

    machine = NO_GPU

    def run(self, jobs: Sequence[Job], listener: Listener) -> list[ExecutionResult]:
        self.batches.append([job.path.stem for job in jobs])
        results = []
        for job in jobs:
            nb = nbformat.from_dict(job.nb)
            for cell in nb.cells:
                cell.outputs = [new_output("stream", name="stdout", text=job.path.stem)]
            seconds = SECONDS[job.path.stem]
            self.uses_gpu[job.path.stem] = job.uses_gpu
            info = {"gpu_opened": job.path.stem in self.used_gpu}
            gpu = Gpu(0, "Fake GPU") if self.machine.gpus else None
            results.append(
                ExecutionResult(
                    nb, seconds, finished="2026-01-01T00:00:00Z", gpu=gpu, kernel_info=info
                )
            )
            listener.finished(job.path, Status.RAN, seconds)
        return results


def run_stage(
    config: Config, executor: TimedExecutor, machine: Machine = NO_GPU
) -> dict[str, str]:
    sources = discover_notebooks(config.nbs)
    executor.machine = machine
    runs = execute_stage(sources, read_notebooks(sources), config, machine, executor=executor)
    return {r.source.rel.stem: r.nb.cells[0].outputs[0].text for r in runs}


def test_jobs_go_to_the_executor_longest_first_by_the_recorded_seconds(tmp_path: Path) -> None:
    nbs = tmp_path / "doc_nbs"
    for name in "abc":
        write_notebook(nbs / f"{name}.ipynb", f"x = '{name}'")
    config = load_config(cwd=tmp_path)
    executor = TimedExecutor()
    assert run_stage(config, executor) == {"a": "a", "b": "b", "c": "c"}
    # Nothing recorded yet: 60 s each, so by path.
    write_notebook(nbs / "d.ipynb", "x = 'd'")  # new: never ran, so expected at 60 s
    write_notebook(nbs / "c.ipynb", "x = 'c, changed'")  # new code, same path: 3 s still
    forced = dataclasses.replace(config, force=["*"])
    shown = run_stage(forced, executor)
    assert executor.batches == [["a", "b", "c"], ["d", "b", "c", "a"]]
    # Results still reach their own notebooks, whatever order they ran in.
    assert shown == {"a": "a", "b": "b", "c": "c", "d": "d"}


def test_the_cache_records_each_paths_latest_seconds(tmp_path: Path) -> None:
    write_notebook(tmp_path / "doc_nbs" / "b.ipynb", "x = 1")
    config = load_config(cwd=tmp_path)
    run_stage(config, TimedExecutor())
    cache = ExecutionCache(config.root / CACHE_DIR)
    assert cache.recorded_seconds("doc_nbs/b.ipynb") == 9.0
    assert cache.recorded_seconds("doc_nbs/other.ipynb") is None
    (tmp_path / CACHE_DIR / "durations").mkdir(exist_ok=True)
    for broken in (tmp_path / CACHE_DIR / "durations").iterdir():
        broken.write_text("{not json")
    assert cache.recorded_seconds("doc_nbs/b.ipynb") is None  # unreadable: as if unknown


def test_longest_first_breaks_ties_by_path() -> None:
    seconds = expected_seconds(["z", "y", "x", "w"], {"z": 5.0, "x": 5.0, "w": 61.0}.get)
    assert seconds == {"z": 5.0, "y": UNKNOWN_SECONDS, "x": 5.0, "w": 61.0}
    assert longest_first(["z", "y", "x", "w"], str, seconds) == ["w", "y", "x", "z"]


def test_a_notebook_waits_for_a_gpu_only_if_its_latest_run_on_one_used_it(tmp_path: Path) -> None:
    nbs = tmp_path / "doc_nbs"
    for name in "abcd":
        write_notebook(nbs / f"{name}.ipynb", f"x = '{name}'")
    config = dataclasses.replace(load_config(cwd=tmp_path), force=["*"])
    cache = ExecutionCache(config.root / CACHE_DIR)
    # Never run on a GPU: each takes its turn on one.
    run_stage(config, TimedExecutor(used_gpu="b"), NO_GPU)
    executor = TimedExecutor(used_gpu="b")
    run_stage(config, executor, ONE_GPU)
    assert executor.uses_gpu == dict.fromkeys("abcd", True)
    assert [cache.recorded_gpu_use(f"doc_nbs/{n}.ipynb") for n in "ab"] == [False, True]
    # Now only b does; a run without a GPU leaves that knowledge as it was.
    run_stage(config, TimedExecutor(), NO_GPU)
    executor = TimedExecutor(used_gpu="b")
    run_stage(config, executor, ONE_GPU)
    assert executor.uses_gpu == {"a": False, "b": True, "c": False, "d": False}


def test_a_gpu_opened_by_any_library_counts_as_cuda_used() -> None:
    def used(info: dict[str, object]) -> object:
        result = ExecutionResult(None, 1.0, gpu=Gpu(0, "Fake GPU"), kernel_info=info)
        return provenance_of(result).get("cuda_used")

    assert used({"cuda_used": False, "gpu_opened": True}) is True  # not torch, say JAX
    assert used({"cuda_used": True, "gpu_opened": False}) is True
    assert used({"gpu_opened": False}) is False
    assert used({}) is None  # nothing known: nothing recorded
