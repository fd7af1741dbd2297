"""Real kernels forked from a zygote: isolated from each other, dead ones reported, none left.

Each notebook gets a fork of one process that imported the preload modules; these tests
check that what one notebook changes (a global, a preloaded module, the working directory,
the environment) is not seen by the next, that a kernel killed mid-cell is reported with its
cell while the zygote goes on serving, that no process outlives the build however it ends,
and that kernels start the ordinary way when the zygote cannot serve.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from conftest import live_processes, write_notebook
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from nbformat.v4 import new_code_cell, new_notebook

from docgen.execute.executor import ExecutionResult, Job, Silent
from docgen.execute.launcher import PROGRAM, ForkProvisioner, Zygotes, split_kernel_command
from docgen.execute.pool import LocalPool, PoolOptions
from docgen.execute.preloads import first_cell_imports, preload_modules

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks kernels (Linux)"),
]


class Warnings(Silent):
    def __init__(self) -> None:
        self.messages: list[str] = []

    def warn(self, message: str) -> None:
        self.messages.append(message)


def notebook(*cells: str) -> nbformat.NotebookNode:
    return new_notebook(cells=[new_code_cell(c) for c in cells])


def run_pool(
    folder: Path, notebooks: list[nbformat.NotebookNode], **options: object
) -> tuple[list[ExecutionResult], list[str]]:
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [Job(nb, folder / f"nb{i}.ipynb", "python3") for i, nb in enumerate(notebooks)]
    listener = Warnings()
    settings: dict = {"timeout": 60, "workers": 1, "warm_kernels": 0, **options}
    results = LocalPool(PoolOptions(**settings)).run(jobs, listener)  # type: ignore[arg-type]
    return results, listener.messages


def text(result: ExecutionResult, cell: int) -> str:
    assert result.error is None, result.error
    assert result.nb is not None
    return "".join(o.get("text", "") for o in result.nb.cells[cell].outputs).strip()


def wait_until(check, seconds: float = 10) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# What a kernel reports of itself: its parent, whether `fractions` came preloaded (the cell
# imports nothing), the working directory, and what an earlier notebook may have left.
REPORT = """\
import os, sys
print(os.getppid(), 'fractions' in sys.modules, os.getcwd(),
      'LEAK' in globals(), hasattr(sys.modules.get('fractions'), 'patched'),
      os.environ.get('LEAKED'), 'leaked' in sys.path)
"""
MESS = """\
import fractions, os, sys
LEAK = 1
fractions.patched = True
fractions.Fraction = None
os.environ['LEAKED'] = 'yes'
sys.path.append('leaked')
os.makedirs('elsewhere', exist_ok=True)
os.chdir('elsewhere')
"""


def test_a_notebook_leaves_no_trace_in_the_next_notebooks_kernel(tmp_path: Path) -> None:
    folder = tmp_path / "nbs"
    results, warnings = run_pool(
        folder, [notebook(REPORT, MESS, REPORT), notebook(REPORT)], preload=("fractions",)
    )
    assert warnings == []
    first_before, first_after, second = (
        text(results[0], 0),
        text(results[0], 2),
        text(results[1], 0),
    )
    zygote = first_before.split()[0]
    assert zygote != str(os.getpid()), "the kernel was not forked from a zygote"
    # The notebook did change its own kernel...
    assert first_after.split()[1:] == [
        "True",
        str(folder / "elsewhere"),
        "True",
        "True",
        "yes",
        "True",
    ]
    # ...and the next kernel, a fork of the same zygote, sees none of it.
    assert second.split() == [zygote, "True", str(folder), "False", "False", "None", "False"]


# Counts the IOPub thread's wake-ups while stdout is flushed with nothing written, then
# with something written, and reads ipykernel's post-cell sleep and its logger's level.
FLUSHES = """\
import sys
thread = sys.stdout.pub_thread
woken = []
schedule = thread.schedule
thread.schedule = lambda f: (woken.append(f), schedule(f))[1]
for _ in range(10):
    sys.stdout.flush(); sys.stderr.flush()
idle = len(woken)
sys.stdout.write("x"); sys.stdout.flush()
thread.schedule = schedule
kernel = get_ipython().kernel
print("", idle, len(woken) > idle, kernel._execute_sleep, kernel.log.isEnabledFor(10))
"""
# Output written in many ways, in an order a reader must see unchanged.
ORDERED = """\
import sys
from IPython.display import display
print("one", flush=True)
sys.stderr.write("two\\n"); sys.stderr.flush()
display("three")
print("four")
sys.stdout.flush()
print("five")
"""


def test_a_flush_with_nothing_written_costs_the_kernel_nothing(tmp_path: Path) -> None:
    results, _ = run_pool(tmp_path / "nbs", [notebook(FLUSHES)])
    # Nothing flushed, no sleep after the cell, and no debug message made to be dropped.
    assert text(results[0], 0).split() == ["x", "0", "True", "0.0", "False"]


def test_forked_kernels_keep_the_order_of_every_kind_of_output(tmp_path: Path) -> None:
    results, _ = run_pool(tmp_path / "nbs", [notebook(ORDERED, "print('six')")])
    assert results[0].error is None, results[0].error
    assert results[0].nb is not None
    seen = []
    for cell in results[0].nb.cells:
        for output in cell.outputs:
            text_out = output.get("text") or output.get("data", {}).get("text/plain", "")
            seen += [w.strip("'") for w in text_out.split()]
    assert seen == ["one", "two", "three", "four", "five", "six"]


def test_a_killed_kernel_is_reported_with_its_cell_and_the_zygote_serves_the_next(
    tmp_path: Path,
) -> None:
    parent = "import os\nprint(os.getppid())"
    results, warnings = run_pool(
        tmp_path / "nbs",
        [
            notebook("x = 1", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "x"),
            notebook(parent),
            notebook("import os\nos._exit(3)"),
            notebook(parent),
        ],
    )
    assert warnings == []
    killed, exited = results[0].error or "", results[2].error or ""
    assert "nb0.ipynb, cell 2 of 3" in killed and "os.kill(os.getpid()" in killed
    assert "the kernel died while running this cell (exit code -9)" in killed
    assert "nb2.ipynb, cell 1 of 1" in exited and "(exit code 3)" in exited
    zygote = text(results[1], 0)
    assert text(results[3], 0) == zygote != str(os.getpid())


def test_the_first_cells_imports_are_preloaded_once(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    # Each import writes the importing process's pid down.
    (lib / "counted.py").write_text(
        "import os\nwith open(os.environ['COUNT_FILE'], 'a') as f:\n"
        "    f.write(f'{os.getpid()}\\n')\n"
    )
    folder = tmp_path / "nbs"
    folder.mkdir()
    (folder / "helper.py").write_text("VALUE = 1\n")  # next to the notebooks: not preloaded
    count = tmp_path / "count"
    first = "import counted\nimport helper"
    results, warnings = run_pool(
        folder,
        [notebook(first, "import os\nprint(os.getppid())") for _ in range(3)],
        env=(("PYTHONPATH", str(lib)), ("COUNT_FILE", str(count))),
    )
    assert warnings == []
    importers = count.read_text().split()
    assert len(importers) == 1, "each kernel imported the first cell's module itself"
    assert {text(r, 1) for r in results} == {importers[0]}  # the zygote, parent of every kernel


def test_the_zygote_imports_what_a_kernel_imports_as_it_starts() -> None:
    zygote = subprocess.run(
        [sys.executable, str(PROGRAM), str(os.getpid())],
        input='{"preload": [], "optional": []}\n',
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answer = json.loads(zygote.stdout.splitlines()[0])
    assert answer["ready"] is True, answer
    loaded = {Path(f).name for f in answer["files"] if f"{os.sep}ipykernel{os.sep}" in f}
    # The kernel class and its debugger (which imports debugpy): a tenth of a second that
    # each forked kernel would spend importing them again.
    assert {"kernelapp.py", "ipkernel.py", "debugger.py"} <= loaded


def fake_module(tmp_path: Path, name: str, source: str) -> tuple[tuple[str, str], ...]:
    folder = tmp_path / "fake"
    (folder / name).mkdir(parents=True)
    (folder / name / "__init__.py").write_text(source)
    return (("PYTHONPATH", str(folder)),)


PARENT = "import os\nprint(os.getppid())"


@pytest.mark.parametrize(
    "module, source, problem",
    [
        ("missing_module_x", None, "importing missing_module_x: ModuleNotFoundError"),
        (
            "torch",
            "class cuda:\n    @staticmethod\n    def is_initialized():\n        return True\n",
            "importing torch initialised CUDA",
        ),
        (
            "threaded",
            "import threading, time\nthreading.Thread(target=time.sleep, args=(30,), "
            "daemon=True, name='busy').start()\n",
            "importing threaded started threads (busy)",
        ),
    ],
    ids=["failing-import", "cuda-initialised", "threads"],
)
def test_a_preload_the_zygote_cannot_fork_after_falls_back_with_a_warning(
    tmp_path: Path, module: str, source: str | None, problem: str
) -> None:
    env = fake_module(tmp_path, module, source) if source else ()
    results, warnings = run_pool(
        tmp_path / "nbs", [notebook(PARENT), notebook(PARENT)], preload=(module,), env=env
    )
    fallback = [w for w in warnings if "kernels start one by one" in w]
    assert len(fallback) == 1 and problem in fallback[0], warnings
    # Started the ordinary way: children of this process, and still run.
    assert [text(r, 0) for r in results] == [str(os.getpid())] * 2


def test_a_first_cell_import_that_starts_threads_is_left_to_the_notebook(tmp_path: Path) -> None:
    env = fake_module(
        tmp_path,
        "threaded",
        "import threading, time\nthreading.Thread(target=time.sleep, args=(30,), daemon=True)"
        ".start()\n",
    )
    first = "import threaded\nimport os, sys\nprint(os.getppid())"
    results, warnings = run_pool(tmp_path / "nbs", [notebook(first), notebook(first)], env=env)
    assert warnings == []
    parents = {text(r, 0) for r in results}
    assert len(parents) == 1 and parents != {str(os.getpid())}  # still forked, from one zygote


def test_without_fork_kernels_start_one_by_one_silently(tmp_path: Path) -> None:
    results, warnings = run_pool(tmp_path / "nbs", [notebook(PARENT)], fork_kernels=False)
    assert warnings == [] and text(results[0], 0) == str(os.getpid())


def test_without_fork_support_kernels_start_the_ordinary_way() -> None:
    warnings: list[str] = []
    zygotes = Zygotes([], [], warnings.append, platform="darwin")
    cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", "k.json"]
    assert asyncio.run(zygotes.zygote_for(cmd, dict(os.environ), ".")) is None
    assert len(warnings) == 1 and "needs Linux (this is darwin)" in warnings[0]


def test_only_ipykernel_commands_are_forked() -> None:
    py = "/usr/bin/python3"
    assert split_kernel_command(
        [py, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "c"]
    ) == (
        [py, "-Xfrozen_modules=off"],
        ["-f", "c"],
    )
    assert split_kernel_command([py, "-m", "other_kernel", "-f", "c"]) is None
    assert split_kernel_command(["/usr/bin/R", "--slave", "-e", "x"]) is None
    assert split_kernel_command([py, "script.py", "-m", "ipykernel_launcher"]) is None


def test_a_kernel_spec_that_names_its_own_provisioner_keeps_it() -> None:
    zygotes = Zygotes([], [], print)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    km = AsyncKernelManager(kernel_name="python3")
    km._kernel_spec = KernelSpec(argv=argv, display_name="own", language="python")
    assert isinstance(zygotes.provisioner(km), ForkProvisioner)
    km._kernel_spec = KernelSpec(
        argv=argv,
        display_name="own",
        language="python",
        metadata={"kernel_provisioner": {"provisioner_name": "elsewhere"}},
    )
    assert zygotes.provisioner(km) is None


def test_first_cell_imports_are_the_absolute_top_level_ones(tmp_path: Path) -> None:
    (tmp_path / "local_helper.py").write_text("")
    nb = notebook(
        "%load_ext autoreload\n!echo hi\nimport numpy as np, os.path\nfrom fastcore.all import *\n"
        "from . import sibling\nfrom __future__ import annotations\nimport local_helper\n"
        "if True:\n    import nested\n",
        "import second_cell",
    )
    assert first_cell_imports(nb, tmp_path) == ["numpy", "os.path", "fastcore.all"]
    assert first_cell_imports(notebook("def broken(:"), tmp_path) == []
    other = notebook("import torch\nimport numpy")
    assert preload_modules(["torch"], [(nb, tmp_path), (other, tmp_path)]) == [
        "numpy",
        "os.path",
        "fastcore.all",
    ]


# ----- no process left, whatever ends the build -----

SLEEPS = "import pathlib, time\npathlib.Path('started').touch()\ntime.sleep(120)"


def start_build(tmp_path: Path, *notebooks: str) -> tuple[subprocess.Popen[str], Path]:
    root = tmp_path / "proj"
    (root / "nbs").mkdir(parents=True)
    # No kernel forked ahead: one would die with the zygote (the notebook fails, reported).
    (root / "pyproject.toml").write_text(
        '[tool.docgen]\nnbs = "nbs"\nout = "site"\n[tool.docgen.execute]\nworkers = 1\n'
        "cache = false\nwarm_kernels = 0\n"
    )
    for i, source in enumerate(notebooks):
        write_notebook(root / "nbs" / f"n{i}.ipynb", source)
    process = subprocess.Popen(
        [sys.executable, "-m", "docgen", "build"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, root


def wait_started(process: subprocess.Popen[str], root: Path) -> set[int]:
    """The zygote and its kernels, once the sleeping notebook runs."""
    assert wait_until(lambda: (root / "nbs" / "started").exists() or process.poll() is not None, 60)
    assert process.poll() is None, process.communicate()
    family = live_processes(f"{PROGRAM} {process.pid} ")
    assert len(family) >= 2, "no zygote with a kernel"
    return family


def zygote_of(family: set[int]) -> int:
    return next(
        p for p in family if int(Path(f"/proc/{p}/stat").read_text().split()[3]) not in family
    )


def test_ctrl_c_leaves_neither_zygote_nor_kernel(tmp_path: Path) -> None:
    process, root = start_build(tmp_path, SLEEPS)
    try:
        family = wait_started(process, root)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 128 + signal.SIGINT and "interrupted" in err, err
        assert wait_until(lambda: not live_processes(f"{PROGRAM} {process.pid} "), 5), family
    finally:
        process.kill()
        process.communicate()


def test_killing_the_zygote_kills_its_kernels_and_the_build_goes_on(tmp_path: Path) -> None:
    process, root = start_build(tmp_path, SLEEPS, "print('after the zygote died')")
    try:
        family = wait_started(process, root)
        os.kill(zygote_of(family), signal.SIGKILL)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 1, err
        assert "n0.ipynb, cell 1 of 1" in err and "the kernel died while running this cell" in err
        assert "the zygote process has died" in out + err  # the next notebook still ran
        assert "ran nbs/n1.ipynb" in out + err
        assert not live_processes(f"{PROGRAM} {process.pid} ")
    finally:
        process.kill()
        process.communicate()


def test_the_zygote_and_its_kernels_die_with_the_build(tmp_path: Path) -> None:
    process, root = start_build(tmp_path, SLEEPS)
    try:
        family = wait_started(process, root)
        process.kill()  # SIGKILL: docgen cleans nothing up itself
        process.communicate()
        assert wait_until(lambda: not (live_processes(f"{PROGRAM} {process.pid} ") & family), 5)
    finally:
        process.kill()
        process.communicate()
