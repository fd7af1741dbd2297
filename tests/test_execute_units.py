"""Execution at scale without real kernels: GPU detection and assignment, the scheduler
(order, warm kernels, failures, interrupts) on fake kernels, cache keys, config, progress."""

from __future__ import annotations

import asyncio
import io
import signal
import stat
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import docgen.execute.kernel
from docgen.config import Config, load_config
from docgen.errors import DocgenError, Interrupted, UsageError
from docgen.execute.cache import (
    ExecutionCache,
    code_digest,
    data_digest,
    notebook_key,
    with_outputs_of,
)
from docgen.execute.executor import ExecutionResult, Job, Silent
from docgen.execute.gpus import (
    Gpu,
    GpuAssigner,
    detect_gpus,
    gpu_env,
    parse_nvidia_smi,
    visible_gpus,
)
from docgen.execute.plan import forced_notebooks, needs_gpu
from docgen.execute.pool import LocalPool, PoolOptions
from docgen.execute.progress import LiveProgress, PlainProgress
from docgen.model import Status
from docgen.notebooks.discover import discover_notebooks

SMI = """\
0, GPU-aaaa1111, NVIDIA H100 80GB HBM3, 81559
1, GPU-bbbb2222, NVIDIA H100 80GB HBM3, 81559
2, GPU-cccc3333, NVIDIA A10G, 23028
"""


# --- GPUs -------------------------------------------------------------------------------


def test_nvidia_smi_output_is_parsed() -> None:
    gpus = parse_nvidia_smi(SMI + "garbage line\n")
    assert [(g.index, g.name, g.memory_mib) for g in gpus] == [
        (0, "NVIDIA H100 80GB HBM3", 81559),
        (1, "NVIDIA H100 80GB HBM3", 81559),
        (2, "NVIDIA A10G", 23028),
    ]


@pytest.mark.parametrize(
    "visible, expected",
    [(None, [0, 1, 2]), ("2,0", [2, 0]), ("", []), ("-1", []), ("GPU-bbbb", [1]), ("1,7,2", [1])],
)
def test_cuda_visible_devices_limits_the_gpus(visible: str | None, expected: list[int]) -> None:
    assert [g.index for g in visible_gpus(parse_nvidia_smi(SMI), visible)] == expected


def test_detect_gpus_asks_nvidia_smi_on_the_path(tmp_path: Path) -> None:
    smi = tmp_path / "nvidia-smi"
    smi.write_text(f"#!/bin/sh\ncat <<'EOF'\n{SMI}EOF\n")
    smi.chmod(smi.stat().st_mode | stat.S_IXUSR)
    assert len(detect_gpus({"PATH": str(tmp_path)})) == 3
    assert [g.index for g in detect_gpus({"PATH": str(tmp_path), "CUDA_VISIBLE_DEVICES": "1"})] == [
        1
    ]
    assert detect_gpus({"PATH": str(tmp_path / "nowhere")}) == []


def test_gpus_are_assigned_to_the_least_busy_round_robin() -> None:
    a, b = Gpu(0, "A"), Gpu(1, "B")
    assigner = GpuAssigner([a, b])
    assert [assigner.assign().index for _ in range(4)] == [0, 1, 0, 1]
    assigner.release(b)
    assert assigner.assign() == b  # the least busy
    assigner.release(a)
    assigner.release(a)
    assert assigner.assign() == a
    with pytest.raises(RuntimeError):
        GpuAssigner([a]).release(a)
    assert gpu_env(b) == {"CUDA_DEVICE_ORDER": "PCI_BUS_ID", "CUDA_VISIBLE_DEVICES": "1"}
    assert gpu_env(None) == {}


# --- the scheduler on fake kernels ------------------------------------------------------


class Recorder:
    def __init__(self, seconds: dict[str, float], fail: set[str] = frozenset()):  # type: ignore[assignment]
        self.seconds, self.fail = seconds, fail
        self.created: list[FakeKernel] = []
        self.events: list[tuple[float, str, str]] = []
        self.alive: Counter[str] = Counter()  # kernels, by GPU
        self.peak: Counter[str] = Counter()
        self.peak_total = 0
        self.running: Counter[str] = Counter()  # notebooks running, by GPU
        self.peak_running: Counter[str] = Counter()
        self.shut_down: list[str] = []

    def log(self, what: str, name: str) -> None:
        self.events.append((time.monotonic(), what, name))


class FakeKernel:
    """Stands in for `docgen.execute.kernel.Kernel`: sleeps instead of running cells."""

    recorder: Recorder

    def __init__(self, name: str, path: Path, env: dict[str, str], reaper: object = None):
        self.path, self.env = path, env
        self.gpu = env.get("CUDA_VISIBLE_DEVICES", "cpu")
        r = self.recorder
        r.created.append(self)
        r.alive[self.gpu] += 1
        r.peak[self.gpu] = max(r.peak[self.gpu], r.alive[self.gpu])
        r.peak_total = max(r.peak_total, sum(r.alive.values()))

    async def start(self, timeout: float = 60) -> None:
        self.recorder.log("start", self.path.stem)
        await asyncio.sleep(0.02)

    async def preload(self, modules: list[str], timeout: float) -> str | None:
        self.recorder.log("preload", self.path.stem)
        return None

    async def run(self, nb: nbformat.NotebookNode, timeout: int, on_cell=None):  # type: ignore[no-untyped-def]
        r = self.recorder
        r.log("run", self.path.stem)
        r.running[self.gpu] += 1
        r.peak_running[self.gpu] = max(r.peak_running[self.gpu], r.running[self.gpu])
        try:
            await asyncio.sleep(r.seconds.get(self.path.stem, 0.01))
        finally:
            r.running[self.gpu] -= 1
        if self.path.stem in self.recorder.fail:
            raise DocgenError(f"{self.path}: failed on purpose")
        if self.path.stem == "interrupt":
            signal.raise_signal(signal.SIGTERM)
            await asyncio.sleep(10)
        nb = nbformat.from_dict(nb)
        nb.metadata["ran_on"] = self.gpu
        self.recorder.log("done", self.path.stem)
        return nb

    async def describe(self, timeout: float = 30, packages: Sequence[str] = ()) -> dict[str, str]:
        return {"python": "3.x"}

    async def shutdown(self) -> None:
        self.recorder.alive[self.gpu] -= 1
        self.recorder.shut_down.append(self.path.stem)

    def kill_now(self) -> None:
        self.recorder.log("killed", self.path.stem)


class FakePool:
    """The local pool on fake kernels, all reporting to one `Recorder`."""

    def __init__(self, seconds: dict[str, float], fail: set[str] = frozenset()):  # type: ignore[assignment]
        self.recorder = Recorder(seconds, fail)
        self.kernel = type("Kernel", (FakeKernel,), {"recorder": self.recorder})

    def run(self, jobs: list[Job], options: PoolOptions) -> list[ExecutionResult]:
        return LocalPool(options, kernel=self.kernel).run(jobs, Silent())


def jobs(*names: str) -> list[Job]:
    return [Job(new_notebook(), Path(f"/nbs/{name}.ipynb"), "python3") for name in names]


def test_results_keep_the_jobs_order_and_each_job_gets_its_own_kernel() -> None:
    pool = FakePool({"a": 0.3, "b": 0.2, "c": 0.1, "d": 0.0})
    recorder = pool.recorder
    results = pool.run(jobs("a", "b", "c", "d"), PoolOptions(timeout=5, workers=4))
    assert [r.nb.metadata["ran_on"] for r in results] == ["cpu"] * 4
    finished = [name for _, what, name in recorder.events if what == "done"]
    assert finished == ["d", "c", "b", "a"]  # they finished in the other order
    assert len({id(k) for k in recorder.created}) == 4
    assert sorted(recorder.shut_down) == ["a", "b", "c", "d"]


def test_kernels_start_ahead_while_another_notebook_runs() -> None:
    pool = FakePool({"a": 0.3, "b": 0.3, "c": 0.3})
    recorder = pool.recorder
    pool.run(jobs("a", "b", "c"), PoolOptions(timeout=5, workers=1, warm_kernels=1))
    at = {(what, name): t for t, what, name in recorder.events}
    assert at[("start", "b")] < at[("done", "a")]  # b's kernel warmed up during a
    assert at[("preload", "b")] < at[("done", "a")]
    assert at[("start", "c")] > at[("done", "a")]  # at most one kernel waiting ahead
    assert recorder.peak["cpu"] == 2


def test_without_warm_kernels_a_kernel_starts_on_its_turn() -> None:
    pool = FakePool({"a": 0.2, "b": 0.2})
    recorder = pool.recorder
    pool.run(jobs("a", "b"), PoolOptions(timeout=5, workers=1, warm_kernels=0))
    at = {(what, name): t for t, what, name in recorder.events}
    assert at[("start", "b")] > at[("done", "a")]
    assert recorder.peak["cpu"] == 1


def test_kernels_spread_over_gpus_never_above_kernels_per_gpu() -> None:
    names = [f"n{i}" for i in range(10)]
    pool = FakePool({n: 0.05 * (i % 3) for i, n in enumerate(names)})
    recorder = pool.recorder
    gpus = (Gpu(0, "Fake A"), Gpu(1, "Fake B"))
    options = PoolOptions(timeout=5, workers=16, warm_kernels=2, gpus=gpus, kernels_per_gpu=2)
    assert (options.gpu_running, options.running) == (4, 16)
    results = pool.run(jobs(*names), options)
    assert set(recorder.peak_running) == {"0", "1"}
    assert max(recorder.peak_running.values()) == 2  # never more running on one GPU
    assert recorder.peak_total == 6  # and the ones started ahead on top
    assert [r.gpu.index for r in results[:4]] == [0, 1, 0, 1]  # round-robin
    assert all(r.nb.metadata["ran_on"] == str(r.gpu.index) for r in results)
    assert all(k.env["CUDA_DEVICE_ORDER"] == "PCI_BUS_ID" for k in recorder.created)


def gpu_jobs(names: str) -> list[Job]:
    """Jobs named by letters; upper case ones use the GPU."""
    return [
        Job(new_notebook(), Path(f"/nbs/{n}.ipynb"), "python3", uses_gpu=n.isupper())
        for n in names
    ]


def test_a_notebook_waiting_for_the_gpu_holds_no_kernel_a_cpu_notebook_could_use() -> None:
    pool = FakePool({"A": 0.4, "B": 0.4, "c": 0.1, "d": 0.1, "e": 0.1, "f": 0.1})
    recorder = pool.recorder
    options = PoolOptions(timeout=5, workers=3, gpus=(Gpu(0, "Fake"),), kernels_per_gpu=1)
    results = pool.run(gpu_jobs("ABcdef"), options)
    at = {(what, name): t for t, what, name in recorder.events}
    # B waits for A's turn on the GPU without a kernel; the CPU notebooks run meanwhile, two
    # at once (the third worker is A's), and all of them before A is done.
    assert at[("start", "B")] >= at[("done", "A")]
    assert max(at[("done", n)] for n in "cdef") < at[("done", "A")]
    assert recorder.peak_total == 3
    assert [r.error for r in results] == [None] * 6
    # Every kernel sees the GPU: a notebook that starts using it is seen doing so.
    assert {r.nb.metadata["ran_on"] for r in results} == {"0"}
    assert all(r.gpu is not None for r in results)


def test_gpu_notebooks_take_the_gpus_turns_first() -> None:
    pool = FakePool({n: 0.1 for n in "abcdEF"})
    recorder = pool.recorder
    options = PoolOptions(timeout=5, workers=2, gpus=(Gpu(0, "Fake"),), kernels_per_gpu=1)
    pool.run(gpu_jobs("abcdEF"), options)
    started = [name for _, what, name in recorder.events if what == "run"]
    # E, though after the CPU notebooks in the order, runs while the GPU is free; F waits
    # for it while the CPU notebooks use the other worker.
    assert started.index("E") < 2
    assert recorder.peak_running["0"] == 2  # E or F, with one CPU notebook


def test_one_failure_does_not_stop_the_others() -> None:
    pool = FakePool({}, fail={"b"})
    results = pool.run(jobs("a", "b", "c"), PoolOptions(timeout=5, workers=1))
    assert [r.error is None for r in results] == [True, False, True]
    assert "failed on purpose" in (results[1].error or "")


def test_sigterm_stops_every_kernel_and_restores_the_handler() -> None:
    pool = FakePool({"a": 5, "interrupt": 0.05, "c": 5, "d": 5})
    recorder = pool.recorder
    before = signal.getsignal(signal.SIGTERM)
    start = time.monotonic()
    with pytest.raises(Interrupted) as caught:
        pool.run(
            jobs("a", "interrupt", "c", "d"), PoolOptions(timeout=5, workers=2, warm_kernels=1)
        )
    assert time.monotonic() - start < 3
    assert caught.value.exit_code == 128 + signal.SIGTERM
    assert sorted(recorder.shut_down) == sorted(k.path.stem for k in recorder.created)
    assert signal.getsignal(signal.SIGTERM) == before


# --- a kernel's readiness ----------------------------------------------------------------


class SlowIopubClient:
    """A kernel client whose IOPub connects late: the status of the first kernel_info
    request is lost, the second one's arrives, and after that IOPub stays silent."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.iopub_reads_after_ready = 0
        self.ready = False
        self.handled: list[dict] = []

    def kernel_info(self) -> str:
        self.requests.append(f"k{len(self.requests) + 1}")
        return self.requests[-1]

    async def get_shell_msg(self, timeout: float) -> dict:
        return {"parent_header": {"msg_id": self.requests[-1]}, "content": {}}

    async def get_iopub_msg(self, timeout: float) -> dict:
        from queue import Empty

        if self.ready:
            self.iopub_reads_after_ready += 1
            await asyncio.sleep(timeout)
            raise Empty
        if len(self.requests) == 1:
            await asyncio.sleep(timeout)
            raise Empty  # not connected yet: the kernel's status went nowhere
        self.ready = True
        status = {"execution_state": "idle"}
        return {"parent_header": {"msg_id": self.requests[-1]}, "msg_type": "status",
                "content": status}

    def _handle_kernel_info_reply(self, msg: dict) -> None:
        self.handled.append(msg)


class AliveManager:
    async def is_alive(self) -> bool:
        return True


def test_a_kernel_is_ready_once_both_channels_heard_the_same_request() -> None:
    kernel = docgen.execute.kernel.Kernel("python3", Path("/nbs/a.ipynb"), {})
    kernel.kc, kernel.km = SlowIopubClient(), AliveManager()
    asyncio.run(kernel._wait_ready(10))
    assert kernel.kc.requests == ["k1", "k2"]  # asked again when IOPub missed the first
    assert len(kernel.kc.handled) == 1
    # Ready at once: no waiting for IOPub to fall silent (jupyter-client's 0.2 s).
    assert kernel.kc.iopub_reads_after_ready == 0


# --- what needs running -----------------------------------------------------------------


def test_gpu_need_comes_from_metadata_or_a_cell_tag() -> None:
    nb = new_notebook(cells=[new_code_cell("x = 1")])
    assert needs_gpu(nb) == ""
    nb.cells.append(new_code_cell("y = 2", metadata={"tags": ["requires-cuda"]}))
    assert needs_gpu(nb) == "cell 2 is tagged requires-cuda"
    nb.metadata["docgen"] = {"requires_gpu": True}
    assert "docgen.requires_gpu" in needs_gpu(nb)


def test_force_names_match_paths_stems_and_pages(tmp_path: Path) -> None:
    for rel in ("index.ipynb", "guide/01_flip.ipynb", "guide/02_crop.ipynb"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(new_notebook(), tmp_path / rel)
    sources = discover_notebooks(tmp_path)
    assert forced_notebooks(["*"], sources) == {0, 1, 2}
    assert forced_notebooks(["flip"], sources) == {1}
    assert forced_notebooks(["guide/02_crop.ipynb", "guide/flip.html"], sources) == {1, 2}
    with pytest.raises(UsageError, match="--force nope: no notebook of that name"):
        forced_notebooks(["nope"], sources)


# --- cache keys and entries -------------------------------------------------------------


def notebook(code: str = "print(1)", prose: str = "# Title") -> nbformat.NotebookNode:
    return new_notebook(cells=[new_markdown_cell(prose), new_code_cell(code)])


def key(nb: nbformat.NotebookNode, path: str = "a.ipynb", **changes) -> str:  # type: ignore[no-untyped-def]
    parts = {
        "kernel": {"name": "python3"},
        "environment": {"python": "3.11"},
        "data": {},
        "preload": [],
    }
    parts.update(changes)
    return notebook_key(
        path, nb, parts["kernel"], parts["environment"], parts["data"], parts["preload"]
    )


def test_the_key_changes_with_code_path_kernel_environment_data_and_preload() -> None:
    base = key(notebook())
    assert key(notebook(prose="# Other title\n\nMore prose.")) == base
    assert key(notebook(code="print(2)")) != base
    assert key(notebook(), path="b.ipynb") != base
    assert key(notebook(), kernel={"name": "other"}) != base
    assert key(notebook(), environment={"python": "3.12"}) != base
    assert key(notebook(), data={"x.csv": "123"}) != base
    assert key(notebook(), preload=["torch"]) != base
    skipped = notebook()
    skipped.cells[1].metadata["tags"] = ["skip-execution"]
    assert key(skipped) != base
    hidden = notebook()
    hidden.cells[1].metadata["tags"] = ["hide-input"]  # changes the page, not the outputs
    assert key(hidden) == base


def test_data_digest_follows_file_contents_folders_and_globs(tmp_path: Path) -> None:
    (tmp_path / "data" / "more").mkdir(parents=True)
    (tmp_path / "data" / "x.csv").write_text("1,2\n")
    (tmp_path / "data" / "more" / "y.csv").write_text("3\n")
    first = data_digest(tmp_path, ["data/x.csv", "data/more", "data/*.csv", "missing.bin"])
    assert first["missing.bin"] == "missing"
    (tmp_path / "data" / "more" / "y.csv").write_text("4\n")
    second = data_digest(tmp_path, ["data/x.csv", "data/more", "data/*.csv", "missing.bin"])
    assert (
        first["data/x.csv"] == second["data/x.csv"] and first["data/*.csv"] == second["data/*.csv"]
    )
    assert first["data/more"] != second["data/more"]


def executed(nb: nbformat.NotebookNode, text: str) -> nbformat.NotebookNode:
    ran = nbformat.from_dict(nb)
    ran.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    ran.cells[1].execution_count = 1
    ran.metadata["docgen"] = {"provenance": {"device": "CPU", "date": "2026-01-02T03:04:05Z"}}
    return ran


def test_cache_entries_round_trip_with_the_current_prose(tmp_path: Path) -> None:
    cache = ExecutionCache(tmp_path / ".docgen_cache")
    nb = notebook()
    k = key(nb)
    assert cache.load(k, nb) == (None, None)
    assert cache.store(k, "a.ipynb", executed(nb, "one\n")) is None
    edited = notebook(prose="# New prose")
    got, warning = cache.load(k, edited)
    assert warning is None and got is not None
    assert got.cells[0].source == "# New prose" and got.cells[1].outputs[0].text == "one\n"
    assert got.metadata.docgen.provenance.device == "CPU"
    assert cache.latest("a.ipynb", edited) is not None
    assert cache.latest("b.ipynb", edited) is None
    leftovers = [p for p in (tmp_path / ".docgen_cache").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_text("{ not json"),
        lambda p: p.write_bytes(b"\xff\xfe\x00"),
        lambda p: p.write_text('{"cells": 3, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'),
        lambda p: p.write_text(p.read_text().replace('"key": "', '"key": "0')),
        lambda p: p.write_text(p.read_text()[:-40]),
    ],
)
def test_a_corrupted_entry_is_ignored_with_a_warning(tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    cache = ExecutionCache(tmp_path)
    nb = notebook()
    k = key(nb)
    cache.store(k, "a.ipynb", executed(nb, "one\n"))
    damage(cache.entry_path(k))
    got, warning = cache.load(k, nb)
    assert got is None and warning is not None and "corrupted cache entry" in warning
    assert not cache.entry_path(k).exists()


def test_outputs_are_grafted_only_onto_code_cells() -> None:
    nb = notebook()
    got = with_outputs_of(notebook(prose="changed"), executed(nb, "x\n"))
    assert got.cells[0].cell_type == "markdown" and "outputs" not in got.cells[0]
    assert code_digest(got) == code_digest(nb)


# --- config -----------------------------------------------------------------------------


def test_execute_sub_table_is_read_and_checked(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.docgen.execute]\nworkers = 3\n"
        'preload = ["torch"]\nkernels_per_gpu = 4\nwarm_kernels = 0\nslow_cell = 2\n'
    )
    config = load_config(cwd=tmp_path)
    assert (config.workers, config.preload, config.kernels_per_gpu) == (3, ["torch"], 4)
    assert (config.warm_kernels, config.slow_cell, config.cache, config.execute) == (
        0,
        2.0,
        True,
        True,
    )


@pytest.mark.parametrize(
    "toml, message",
    [
        (
            "[tool.docgen.execute]\nprelaod = []\n",
            r"unknown option 'prelaod' in \[tool.docgen.execute\].*did you mean 'preload'\?",
        ),
        (
            "[tool.docgen]\nwokers = 2\n",
            r"unknown option 'wokers' in \[tool.docgen\].*did you mean 'workers' in "
            r"\[tool.docgen.execute\]\?",
        ),
        (
            "[tool.docgen]\npreload = []\n",
            r"'preload' in \[tool.docgen\].* belongs in \[tool.docgen.execute\]",
        ),
        (
            "[tool.docgen.execute]\nkernels_per_gpu = 0\n",
            "'kernels_per_gpu' must be a positive integer",
        ),
        ("[tool.docgen.execute]\nenabled = 'no'\n", "'enabled' must be true or false"),
        ("[tool.docgen.execute]\nworkers = -1\n", "'workers' must be an integer, 0 or more"),
        ("[tool.docgen]\nworkers = -1\n", "'workers' must be an integer, 0 or more"),
    ],
)
def test_execute_options_get_did_you_mean_errors(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(toml)
    with pytest.raises(UsageError, match=message):
        load_config(cwd=tmp_path)


def test_enabled_false_turns_execution_off(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.docgen.execute]\nenabled = false\n")
    assert load_config(cwd=tmp_path).execute is False


def test_every_execute_option_has_help_text() -> None:
    assert all(f.metadata["help"] for f in Config.options("execute").values())


# --- progress ---------------------------------------------------------------------------


def test_plain_progress_is_one_line_per_notebook(tmp_path: Path) -> None:
    lines: list[str] = []
    progress = PlainProgress(lines.append, tmp_path)
    progress.started(tmp_path / "a.ipynb")
    progress.cell(tmp_path / "a.ipynb", 0, 3)
    progress.finished(tmp_path / "a.ipynb", Status.RAN, 1.25)
    progress.finished(tmp_path / "b.ipynb", Status.CACHED, 0.0)
    assert lines == ["ran a.ipynb in 1.2 s", "cached b.ipynb"]


def test_live_progress_redraws_counts_and_the_running_cell(tmp_path: Path) -> None:
    out = io.StringIO()
    progress = LiveProgress(out, tmp_path, fps=50)
    progress.started(tmp_path / "a.ipynb")
    progress.cell(tmp_path / "a.ipynb", 1, 4)
    time.sleep(0.1)
    assert "a.ipynb  cell 2/4" in out.getvalue()
    progress.finished(tmp_path / "a.ipynb", Status.RAN, 1.0)
    progress.finished(tmp_path / "b.ipynb", Status.FAILED, 1.0)
    progress.finished(tmp_path / "c.ipynb", Status.CACHED, 0.0)
    progress.close()
    text = out.getvalue()
    assert "notebooks: 1 done, 0 running, 1 failed, 1 from the cache" in text
    assert "\x1b[" in text and "failed b.ipynb" in text


def test_fake_kernel_matches_the_real_interface() -> None:
    real = {n for n in vars(docgen.execute.kernel.Kernel) if not n.startswith("_")}
    assert real <= {n for n in vars(FakeKernel) if not n.startswith("_")} | {"recorder"}
