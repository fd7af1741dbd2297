"""The execute stage without kernels: what the plan decides, and an `Executor` other than
the local pool running what it says."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import nbformat
import pytest
from conftest import tagged, write_notebook
from nbformat.v4 import new_output

from docgen.config import CACHE_DIR, Config, load_config
from docgen.errors import BuildFailed, UsageError
from docgen.execute.cache import ExecutionCache
from docgen.execute.executor import ExecutionResult, Job, Listener
from docgen.execute.plan import Machine, plan_execution
from docgen.execute.stage import execute_stage
from docgen.model import Status
from docgen.notebooks.discover import discover_notebooks
from docgen.pipeline import read_notebooks

NO_GPU = Machine((), {"python": "test"})
DATE = "2026-01-02T03:04:05Z"


class RecordingExecutor:
    """Runs nothing: every code cell gets an output naming its notebook."""

    def __init__(self, fail: str = "") -> None:
        self.batches: list[list[str]] = []
        self.fail = fail

    def run(self, jobs: Sequence[Job], listener: Listener) -> list[ExecutionResult]:
        self.batches.append([job.path.name for job in jobs])
        results = []
        for job in jobs:
            if job.path.stem == self.fail:
                results.append(ExecutionResult(None, 0.1, f"{job.path}: failed elsewhere"))
                listener.finished(job.path, Status.FAILED, 0.1)
                continue
            nb = nbformat.from_dict(job.nb)
            for cell in nb.cells:
                if cell.cell_type == "code":
                    text = f"from {job.path.stem}\n"
                    cell.outputs = [new_output("stream", name="stdout", text=text)]
            results.append(ExecutionResult(nb, 0.5, kernel_info={"python": "9.9"}, finished=DATE))
            listener.finished(job.path, Status.RAN, 0.5)
        return results


def project(root: Path) -> Config:
    nbs = root / "doc_nbs"
    write_notebook(nbs / "index.ipynb", "md:# Code", "print('hi')")
    write_notebook(nbs / "prose.ipynb", "md:# Only prose")
    gpu = tagged("print('gpu')", "requires-cuda")
    gpu.outputs = [new_output("stream", name="stdout", text="stored\n")]
    write_notebook(nbs / "gpu.ipynb", "md:# GPU", gpu)
    return load_config(cwd=root)


def stage(config: Config, executor: RecordingExecutor) -> dict[str, tuple[Status, str]]:
    sources = discover_notebooks(config.nbs)
    runs = execute_stage(sources, read_notebooks(sources), config, NO_GPU, executor=executor)
    shown = {}
    for run in runs:
        outputs = [o.get("text", "") for c in run.nb.cells for o in c.get("outputs", [])]
        shown[run.source.rel.stem] = (run.status, "".join(outputs))
    return shown


def test_the_plan_decides_what_runs_before_anything_runs(tmp_path: Path) -> None:
    config = project(tmp_path)
    sources = discover_notebooks(config.nbs)
    cache = ExecutionCache(config.root / CACHE_DIR)
    plan = plan_execution(sources, read_notebooks(sources), config, NO_GPU, cache)
    assert [p.job.path.name for p in plan.to_run] == ["index.ipynb"]
    assert all(p.key for p in plan.to_run)  # where its outputs go in the cache
    decided = {sources[i].rel.stem: run.status for i, run in plan.decided.items()}
    assert decided == {"prose": Status.NO_CODE, "gpu": Status.GPU_OUTPUTS}
    assert plan.problems == {} and plan.warnings == ()
    assert not (config.root / CACHE_DIR).exists()  # planning stores nothing


def test_any_executor_runs_what_the_plan_says_and_the_cache_keeps_it(tmp_path: Path) -> None:
    config = project(tmp_path)
    executor = RecordingExecutor()
    first = stage(config, executor)
    assert first == {
        "index": (Status.RAN, "from index\n"),
        "prose": (Status.NO_CODE, ""),
        "gpu": (Status.GPU_OUTPUTS, "stored\n"),
    }
    again = stage(config, executor)
    assert again["index"] == (Status.CACHED, "from index\n")
    assert executor.batches == [["index.ipynb"], []]  # the second time, nothing to run
    cached = ExecutionCache(config.root / CACHE_DIR)
    sources = discover_notebooks(config.nbs)
    plan = plan_execution(sources, read_notebooks(sources), config, NO_GPU, cached)
    provenance = next(r for r in plan.decided.values() if r.status is Status.CACHED).provenance
    assert provenance == {"device": "CPU", "python": "9.9", "seconds": 0.5, "date": DATE}


def test_an_executors_failure_fails_the_build_with_its_message(tmp_path: Path) -> None:
    config = project(tmp_path)
    with pytest.raises(BuildFailed) as failed:
        stage(config, RecordingExecutor(fail="index"))
    assert failed.value.problems == [f"{config.nbs / 'index.ipynb'}: failed elsewhere"]


def test_only_the_notebooks_named_run_and_gpu_ones_on_request(tmp_path: Path) -> None:
    """`docgen serve PAGE ...` (`only`) and, on a GPU machine, its run button (`force`)."""
    import dataclasses

    from docgen.execute.gpus import Gpu

    config = project(tmp_path)
    write_notebook(config.nbs / "other.ipynb", "md:# Other", "print('other')")
    gpu_machine = Machine((Gpu(0, "Fake GPU"),), {"python": "test"})
    sources = discover_notebooks(config.nbs)
    notebooks = read_notebooks(sources)

    def plan(**options: object) -> tuple[list[str], dict[str, Status]]:
        chosen = dataclasses.replace(config, **options)  # type: ignore[arg-type]
        cache = ExecutionCache(config.root / CACHE_DIR)
        made = plan_execution(sources, notebooks, chosen, gpu_machine, cache)
        decided = {sources[i].rel.stem: run.status for i, run in made.decided.items()}
        return sorted(p.job.path.stem for p in made.to_run), decided

    assert plan() == (["gpu", "index", "other"], {"prose": Status.NO_CODE})
    to_run, decided = plan(only=["index"])
    assert to_run == ["index"]
    assert decided["other"] is Status.HELD and decided["gpu"] is Status.HELD
    to_run, decided = plan(gpu_on_request=True)
    assert to_run == ["index", "other"] and decided["gpu"] is Status.HELD
    assert plan(gpu_on_request=True, force=["gpu"])[0] == ["gpu", "index", "other"]
    with pytest.raises(UsageError, match="PAGE nosuch: no notebook of that name"):
        plan(only=["nosuch"])
