"""Real kernels: parallel builds, the execution cache, provenance, timings, the CPU fallback
for GPU notebooks, and interrupts."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from conftest import run_docgen, snapshot, tagged, without_provenance, write_notebook
from nbformat.v4 import new_code_cell, new_output

import docgen.execute.kernel
from docgen.config import load_config
from docgen.errors import BuildFailed, UsageError
from docgen.execute.gpus import Gpu
from docgen.execute.stage import Machine, detect_machine
from docgen.pipeline import BuildReport, build

pytestmark = pytest.mark.kernel

NO_GPU = Machine((), {"python": "test"})


def build_in(project: Path, machine: Machine | None = None, **overrides) -> BuildReport:  # type: ignore[no-untyped-def]
    lines: list[str] = []
    report = build(load_config(cwd=project, overrides=overrides), log=lines.append, machine=machine)
    report.log = lines  # type: ignore[attr-defined]
    return report


@pytest.fixture
def no_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(self, timeout: float = 0) -> None:  # type: ignore[no-untyped-def]
        raise AssertionError(f"a kernel was started for {self.path}")

    monkeypatch.setattr(docgen.execute.kernel.Kernel, "start", refuse)


def page(project: Path, url: str) -> str:
    return (project / "site" / url).read_text()


# --- parallel builds --------------------------------------------------------------------



def test_parallel_build_writes_the_same_site_as_a_serial_one(tmp_path: Path) -> None:
    nbs = tmp_path / "doc_nbs"
    write_notebook(nbs / "index.ipynb", "md:# Index", "print('hello')", "{'a': [1, 2]}")
    write_notebook(
        nbs / "guide" / "01_where.ipynb", "md:# Where", "import pathlib\npathlib.Path.cwd().name"
    )
    write_notebook(
        nbs / "guide" / "02_error.ipynb",
        "md:# Error",
        tagged("raise ValueError('shown on purpose')", "raises-exception"),
        "from IPython.display import Markdown\nMarkdown('**after**')",
    )
    write_notebook(nbs / "other" / "03_sum.ipynb", "md:# Sum", "sum(range(10**6))")
    serial = build_in(tmp_path, workers=1, out=Path("serial"), force=["*"])
    parallel = build_in(tmp_path, workers=2, out=Path("parallel"), force=["*"])
    assert serial.executed == parallel.executed == 4
    assert "guide" in (tmp_path / "parallel" / "guide" / "where.html").read_text()
    a, b = snapshot(tmp_path / "serial"), snapshot(tmp_path / "parallel")
    assert set(a) == set(b)
    assert without_provenance(a) == without_provenance(b)


# --- the cache --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cached_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cache") / "project"
    write_notebook(root / "doc_nbs" / "index.ipynb", "md:# Index", "print('INDEX', 6 * 7)")
    reader = write_notebook(
        root / "doc_nbs" / "data" / "reader.ipynb", "md:# Reader", "print(open('x.csv').read())"
    )
    nb = nbformat.read(reader, as_version=4)
    nb.metadata["docgen"] = {"data": ["x.csv"]}
    nbformat.write(nb, reader)
    (root / "doc_nbs" / "data" / "x.csv").write_text("first,data\n")
    report = build_in(root, workers=2)
    assert (report.executed, report.cached) == (2, 0)
    return root


@pytest.fixture
def project(cached_project: Path, tmp_path: Path) -> Path:
    """A copy of the built project: the cache's keys hold paths relative to the project."""
    copy = tmp_path / "project"
    shutil.copytree(cached_project, copy)
    return copy


def edit_cell(path: Path, index: int, source: str) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.cells[index].source = source
    nbformat.write(nb, path)


def test_unchanged_notebooks_are_not_run_again(project: Path, no_kernels: None) -> None:
    report = build_in(project)
    assert (report.executed, report.cached) == (0, 2)
    assert "INDEX 42" in page(project, "index.html")
    assert re.search(
        r'<p class="provenance">Ran on [^<]+ with Python [\d.]+.* on \d{4}-\d\d-\d\d',
        page(project, "index.html"),
    )
    assert report.log == ["cached doc_nbs/index.ipynb", "cached doc_nbs/data/reader.ipynb"]  # type: ignore[attr-defined]


def test_prose_edit_renders_the_page_again_without_a_kernel(
    project: Path, no_kernels: None
) -> None:
    edit_cell(project / "doc_nbs" / "index.ipynb", 0, "# Index\n\nFreshly written prose.")
    report = build_in(project)
    assert report.cached == 2
    html = page(project, "index.html")
    assert "Freshly written prose." in html and "INDEX 42" in html


def test_code_edit_runs_only_that_notebook(project: Path) -> None:
    edit_cell(project / "doc_nbs" / "index.ipynb", 1, "print('INDEX', 6 * 8)")
    report = build_in(project)
    assert (report.executed, report.cached) == (1, 1)
    assert "INDEX 48" in page(project, "index.html")


def test_environment_change_runs_every_notebook(project: Path) -> None:
    detected = detect_machine(load_config(cwd=project))
    changed = Machine(detected.gpus, {**detected.environment, "distributions": "another torch"})
    assert build_in(project, machine=changed).executed == 2


def test_data_file_change_runs_the_notebook_that_declares_it(project: Path) -> None:
    (project / "doc_nbs" / "data" / "x.csv").write_text("second,data\n")
    report = build_in(project)
    assert (report.executed, report.cached) == (1, 1)
    assert "second,data" in page(project, "data/reader.html")


def test_same_code_at_another_path_is_not_reused(project: Path) -> None:
    other = project / "doc_nbs" / "other"
    other.mkdir()
    shutil.copy(project / "doc_nbs" / "data" / "reader.ipynb", other / "reader.ipynb")
    (other / "x.csv").write_text("other,folder\n")
    report = build_in(project)
    assert (report.executed, report.cached) == (1, 2)
    assert "other,folder" in page(project, "other/reader.html")
    assert "first,data" in page(project, "data/reader.html")


def test_corrupted_entries_are_ignored_and_the_notebooks_run_again(project: Path) -> None:
    entries = list((project / ".docgen_cache" / "nb").rglob("*.ipynb"))
    assert len(entries) == 2
    entries[0].write_text("{ truncated")
    entries[1].write_bytes(entries[1].read_bytes()[:100])
    report = build_in(project)
    assert report.executed == 2
    assert sum("ignored a corrupted cache entry" in line for line in report.log) == 2  # type: ignore[attr-defined]
    assert build_in(project).cached == 2  # rewritten whole


def test_force_runs_one_notebook_or_all(project: Path) -> None:
    assert build_in(project, force=["reader"]).executed == 1
    assert build_in(project, force=["*"]).executed == 2


# --- provenance, warm kernels, timings --------------------------------------------------


def test_provenance_timings_and_warm_kernels_in_their_notebooks_folder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.docgen.execute]\nworkers = 1\n"
        'warm_kernels = 2\npreload = ["wave"]\nslow_cell = 0.3\n'
    )
    nbs = tmp_path / "doc_nbs"
    write_notebook(
        nbs / "index.ipynb", "md:# Slow", "import time\ntime.sleep(0.5)", "print('done')"
    )
    for folder in ("one", "two"):
        write_notebook(
            nbs / folder / "index.ipynb",
            f"md:# In {folder}",
            "import pathlib, sys\n"
            "print(pathlib.Path.cwd().name, 'wave' in sys.modules, 'wave' in dir())",
        )
    report = build_in(tmp_path)
    assert report.executed == 3
    for folder in ("one", "two"):  # started ahead, yet in the notebook's own folder
        assert f"{folder} True False" in page(tmp_path, f"{folder}/index.html")

    copy = json.loads((tmp_path / "site" / "index.ipynb").read_text())
    assert [c.get("execution_count") for c in copy["cells"]] == [None, 1, 2]  # no hidden cell
    assert all("execution" not in c["metadata"] for c in copy["cells"])
    provenance = copy["metadata"]["docgen"]["provenance"]
    gpus = detect_machine(load_config(cwd=tmp_path)).gpus
    assert provenance["device"] in ({g.name for g in gpus} or {"CPU"})
    assert provenance["python"] == ".".join(map(str, sys.version_info[:3]))
    assert provenance["seconds"] >= 0.5 and re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", provenance["date"]
    )

    # build telemetry stays out of the published site: it goes to the cache folder
    assert not list((tmp_path / "site").glob("_timings.*"))
    reports = tmp_path / ".docgen_cache" / "timings"
    timings = json.loads((reports / "_timings.json").read_text())
    assert timings["cache"] == {"hits": 0, "runs": 3}
    slow = {n["notebook"]: n["slow_cells"] for n in timings["notebooks"]}
    assert [c["cell"] for c in slow["index.ipynb"]] == [2] and slow["one/index.ipynb"] == []
    html = (reports / "_timings.html").read_text()
    assert "cell 2: <code>import time</code>" in html
    assert 'href="../../site/_static/docgen.css"' in html  # styled, from the cache folder

    build_in(tmp_path)  # from the cache: the slow cell is still reported, as a cache hit
    timings = json.loads((reports / "_timings.json").read_text())
    assert timings["cache"] == {"hits": 3, "runs": 0}
    assert [n["slow_cells"][0]["cell"] for n in timings["notebooks"] if n["slow_cells"]] == [2]


# --- GPU notebooks on a machine without a GPU -------------------------------------------


def gpu_notebook(path: Path, outputs: bool, provenance: dict[str, str] | None = None) -> None:
    cell = new_code_cell(
        "x = torch.ones(2, device='cuda')\nprint(x.sum().item())", execution_count=1
    )
    cell.metadata["tags"] = ["requires-cuda"]
    if outputs:
        cell.outputs = [new_output("stream", name="stdout", text="2.0 FROM THE GPU\n")]
    write_notebook(path, "md:# On the GPU", "import torch", cell)
    if provenance:
        nb = nbformat.read(path, as_version=4)
        nb.metadata["docgen"] = {"provenance": provenance}
        nbformat.write(nb, path)


def test_gpu_notebook_shows_the_outputs_stored_in_it(tmp_path: Path, no_kernels: None) -> None:
    provenance = {"device": "NVIDIA H100 80GB HBM3", "date": "2026-11-20T10:00:00Z"}
    gpu_notebook(tmp_path / "doc_nbs" / "index.ipynb", outputs=True, provenance=provenance)
    report = build_in(tmp_path, machine=NO_GPU)
    html = page(tmp_path, "index.html")
    assert "2.0 FROM THE GPU" in html
    assert "Outputs from a GPU run on 2026-11-20, NVIDIA H100 80GB HBM3." in html
    assert report.warnings == []


def test_gpu_notebook_shows_the_cached_outputs_of_an_earlier_gpu_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbs = tmp_path / "doc_nbs"
    write_notebook(
        nbs / "index.ipynb",
        "md:# GPU",
        tagged(
            "import os\nprint('ran with GPU', os.environ['CUDA_VISIBLE_DEVICES'])", "requires-cuda"
        ),
    )
    build_in(tmp_path, machine=Machine((Gpu(3, "Fake GPU 80GB"),), {"python": "gpu box"}))
    assert "ran with GPU 3" in page(tmp_path, "index.html")

    async def refuse(self, timeout: float = 0) -> None:  # type: ignore[no-untyped-def]
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(docgen.execute.kernel.Kernel, "start", refuse)
    edit_cell(nbs / "index.ipynb", 0, "# GPU\n\nProse written on a laptop.")
    build_in(tmp_path, machine=NO_GPU)
    html = page(tmp_path, "index.html")
    assert "ran with GPU 3" in html and "Prose written on a laptop." in html
    assert re.search(r"Outputs from a GPU run on \d{4}-\d\d-\d\d, Fake GPU 80GB\.", html)


def test_gpu_notebook_without_stored_outputs_fails_unless_allowed(
    tmp_path: Path, no_kernels: None
) -> None:
    gpu_notebook(tmp_path / "doc_nbs" / "index.ipynb", outputs=False)
    with pytest.raises(BuildFailed) as failed:
        build_in(tmp_path, machine=NO_GPU)
    message = failed.value.problems[0]
    assert (
        "index.ipynb: needs a GPU (cell 3 is tagged requires-cuda), and this machine has none"
        in message
    )
    assert "--allow-missing-gpu" in message
    report = build_in(tmp_path, machine=NO_GPU, allow_missing_gpu=True)
    assert len(report.warnings) == 1 and "needs a GPU" in report.warnings[0]
    assert "Not executed: this notebook needs a GPU" in page(tmp_path, "index.html")


def test_cli_without_gpu_exits_1_or_warns_with_allow_missing_gpu(tmp_path: Path) -> None:
    gpu_notebook(tmp_path / "doc_nbs" / "index.ipynb", outputs=False)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    command = [sys.executable, "-m", "docgen", "build"]
    failed = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert (
        failed.returncode == 1
        and "needs a GPU" in failed.stderr
        and "Traceback" not in failed.stderr
    )
    allowed = subprocess.run(
        [*command, "--allow-missing-gpu"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert allowed.returncode == 0, allowed.stderr
    assert "warning:" in allowed.stderr and "needs a GPU" in allowed.stderr


# --- interrupts -------------------------------------------------------------------------


def processes_in(folder: Path) -> list[int]:
    """Pids of processes whose working directory is under `folder` (kernels run there)."""
    found = []
    for proc in psutil.process_iter(["cwd"]):
        cwd = proc.info.get("cwd")
        if cwd and Path(cwd).is_relative_to(folder):
            found.append(proc.pid)
    return found


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_shuts_every_kernel_down_and_keeps_the_previous_site(
    tmp_path: Path, signum: int
) -> None:
    nbs = tmp_path / "doc_nbs"
    for n in range(4):
        write_notebook(
            nbs / f"s{n}.ipynb",
            "md:# Sleeps",
            f"import pathlib, time\npathlib.Path('started-{n}').touch()\ntime.sleep(120)",
        )
    assert run_docgen("build", "--no-exec", cwd=tmp_path).returncode == 0
    before = snapshot(tmp_path / "site")

    build_process = subprocess.Popen(
        [sys.executable, "-m", "docgen", "build", "--workers", "2"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not ((nbs / "started-0").exists() and (nbs / "started-1").exists()):
        assert build_process.poll() is None, build_process.communicate()
        assert time.monotonic() < deadline, "the notebooks never started"
        time.sleep(0.1)
    kernels = psutil.Process(build_process.pid).children(recursive=True)
    assert len(kernels) >= 3  # two running, and at least one started ahead

    build_process.send_signal(signum)
    _, err = build_process.communicate(timeout=30)
    assert build_process.returncode == 128 + signum
    assert "interrupted; the previous site is unchanged" in err and "Traceback" not in err
    gone, alive = psutil.wait_procs(kernels, timeout=5)
    assert alive == []
    assert processes_in(nbs.resolve()) == []
    assert snapshot(tmp_path / "site") == before
    assert [p.name for p in tmp_path.glob(".site*")] == [".site.lock"]  # no half-written site


def test_timings_publish_puts_the_report_in_the_site(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.docgen]\ntimings = "publish"\n')
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Home", "print(1)")
    build_in(tmp_path)
    site = tmp_path / "site"
    assert json.loads((site / "_timings.json").read_text())["cache"]["runs"] == 1
    assert 'href="_static/docgen.css"' in (site / "_timings.html").read_text()
    assert not (tmp_path / ".docgen_cache" / "timings").exists()


def test_timings_rejects_an_unknown_place(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.docgen]\ntimings = "site"\n')
    with pytest.raises(UsageError, match="option 'timings' must be one of 'cache', 'publish'"):
        load_config(cwd=tmp_path)
