"""Real kernels: what a failing, hanging, dying or prompting cell does to a build."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_docgen, snapshot, tagged, write_notebook

pytestmark = pytest.mark.kernel


def test_cell_error_fails_the_build_naming_notebook_cell_and_exception(tmp_path: Path) -> None:
    write_notebook(
        tmp_path / "doc_nbs" / "broken.ipynb",
        "md:# Broken",
        "x = 1",
        "def divide():\n    return x / 0\n\ndivide()",
    )
    result = run_docgen("build", cwd=tmp_path)
    assert result.returncode == 1
    err = result.stderr
    assert "broken.ipynb, cell 3 of 3" in err
    assert "def divide():" in err  # the first lines of the cell
    assert "ZeroDivisionError: division by zero" in err
    assert "----> 4 divide()" in err  # the user's traceback
    assert "docgen/" not in err and "nbclient" not in err  # never docgen's own traceback
    assert "Traceback (most recent call last):\n  File" not in err
    assert not (tmp_path / "site").exists()


def test_raises_exception_tag_lets_a_cell_fail_and_shows_its_traceback(tmp_path: Path) -> None:
    write_notebook(
        tmp_path / "doc_nbs" / "index.ipynb",
        "md:# Errors on purpose",
        tagged("raise KeyError('on purpose')", "raises-exception"),
        "print('after the error')",
    )
    result = run_docgen("build", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "site" / "index.html").read_text()
    assert 'class="output output-error"' in page and "on purpose" in page
    assert "after the error" in page


def test_endless_cell_hits_the_timeout(tmp_path: Path) -> None:
    write_notebook(
        tmp_path / "doc_nbs" / "slow.ipynb", "import time\nwhile True:\n    time.sleep(0.1)"
    )
    result = run_docgen("build", "--timeout", "2", cwd=tmp_path)
    assert result.returncode == 1
    assert "slow.ipynb, cell 1 of 1" in result.stderr
    assert "did not finish within 2 s" in result.stderr


def test_dying_kernel_is_reported_with_the_cell_that_killed_it(tmp_path: Path) -> None:
    write_notebook(tmp_path / "doc_nbs" / "die.ipynb", "print('alive')", "import os\nos._exit(3)")
    result = run_docgen("build", cwd=tmp_path)
    assert result.returncode == 1
    assert "die.ipynb, cell 2 of 2" in result.stderr
    assert "os._exit(3)" in result.stderr
    assert "kernel died" in result.stderr


def test_input_is_an_error_not_a_hang(tmp_path: Path) -> None:
    write_notebook(tmp_path / "doc_nbs" / "ask.ipynb", "name = input('Your name? ')")
    result = run_docgen("build", "--timeout", "60", cwd=tmp_path, timeout=90)
    assert result.returncode == 1
    assert "ask.ipynb, cell 1 of 1" in result.stderr
    assert "StdinNotImplementedError" in result.stderr
    assert "input()" in result.stderr


def test_every_tag_and_directive_against_a_real_kernel(tmp_path: Path) -> None:
    nb = write_notebook(
        tmp_path / "doc_nbs" / "index.ipynb",
        "md:# Directives",
        "#| hide\nprint('HIDDEN-BY-HIDE')",
        tagged("print('REMOVED-CELL')", "remove-cell"),
        tagged("print('INPUT-REMOVED')", "remove-input"),
        tagged("print('OUTPUT-REMOVED')", "remove-output"),
        tagged("print('INPUT-FOLDED')", "hide-input"),
        tagged("raise SystemExit('SKIPPED-RAN')", "skip-execution"),
        "#| echo: false\nprint('ECHO-OFF')",
        "#| output: false\nprint('OUTPUT-OFF')",
        "#| eval: false\nraise SystemExit('EVAL-FALSE-RAN')",
        "import os\nprint('CWD', os.getcwd())",
    )
    before = nb.read_bytes()
    result = run_docgen("build", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert nb.read_bytes() == before  # the source notebook is never modified
    page = (tmp_path / "site" / "index.html").read_text()
    assert "HIDDEN-BY-HIDE" not in page and "REMOVED-CELL" not in page
    assert "INPUT-REMOVED" in page and "print(&#39;INPUT-REMOVED" not in page
    assert "print" in page and "OUTPUT-REMOVED" in page  # input shown ...
    assert page.count("OUTPUT-REMOVED") == 1  # ... its output is not
    assert '<details class="cell-input collapsed"><summary>Show code</summary>' in page
    assert "INPUT-FOLDED\n</pre>" in page  # the folded cell's output is shown
    assert "ECHO-OFF\n</pre>" in page and "#| echo" not in page
    assert page.count("OUTPUT-OFF") == 1
    assert "SKIPPED-RAN" in page and "EVAL-FALSE-RAN" in page  # shown, not run
    assert f"CWD {tmp_path / 'doc_nbs'}" in page  # the notebook's folder is the cwd
    executed = json.loads((tmp_path / "site" / "index.ipynb").read_text())
    hidden = executed["cells"][1]
    assert "".join(hidden["outputs"][0]["text"]) == "HIDDEN-BY-HIDE\n"  # hidden cells still run


def test_no_exec_renders_stored_outputs_without_a_kernel(tmp_path: Path) -> None:
    from nbformat.v4 import new_code_cell, new_output

    cell = new_code_cell("this is not python (", execution_count=1)
    cell.outputs = [new_output("stream", name="stdout", text="STORED OUTPUT\n")]
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Stored", cell)
    result = run_docgen("build", "--no-exec", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "STORED OUTPUT" in (tmp_path / "site" / "index.html").read_text()


def test_failed_build_leaves_previous_site_byte_for_byte(tmp_path: Path) -> None:
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Fine", "print('v1')")
    assert run_docgen("build", cwd=tmp_path).returncode == 0
    before = snapshot(tmp_path / "site")
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Fine", "print('v2')")
    write_notebook(tmp_path / "doc_nbs" / "later.ipynb", "md:# Broken", "1/0")
    result = run_docgen("build", cwd=tmp_path)
    assert result.returncode == 1
    assert snapshot(tmp_path / "site") == before
    # No temp folders left; the execution cache and the site's lock file are not ones.
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [".docgen_cache", ".site.lock", "doc_nbs", "site"]


def test_executed_notebook_copy_is_valid_and_runs_again(tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Copy", "x = 21", "print(x * 2)")
    assert run_docgen("build", cwd=tmp_path).returncode == 0
    copy = nbformat.read(tmp_path / "site" / "index.ipynb", as_version=4)
    assert copy.nbformat == 4
    nbformat.validate(copy)
    assert copy.cells[2].outputs[0]["text"] == "42\n"
    NotebookClient(copy, timeout=60, kernel_name="python3").execute()
    assert copy.cells[2].outputs[0]["text"] == "42\n"


def processes_in(folder: Path) -> list[int]:
    """Pids of processes whose working directory is `folder` (kernels run in their notebook's)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if Path(proc / "cwd").resolve() == folder:
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


def test_kernels_are_shut_down_when_the_build_ends(tmp_path: Path) -> None:
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# One", "x = 1")
    write_notebook(tmp_path / "doc_nbs" / "two.ipynb", "md:# Two", "y = 2")
    result = run_docgen("build", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Parent appears to have exited" not in result.stderr
    assert processes_in((tmp_path / "doc_nbs").resolve()) == []


def test_build_runs_from_code_that_already_runs_an_event_loop(tmp_path: Path) -> None:
    """As a notebook cell calling build() does: the kernel's own loop is running."""
    import asyncio

    from docgen.config import load_config
    from docgen.pipeline import build

    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Nested", "print(3 * 14)")
    config = load_config(cwd=tmp_path)

    async def cell() -> object:
        return build(config, log=lambda _: None)

    report = asyncio.run(cell())
    assert report.pages and "42\n</pre>" in (tmp_path / "site" / "index.html").read_text()


def test_error_directive_lets_a_cell_raise_and_the_copy_keeps_its_own_tags(
    tmp_path: Path,
) -> None:
    nb = write_notebook(
        tmp_path / "doc_nbs" / "index.ipynb",
        "md:# Errors allowed",
        "#| error: true\nraise KeyError('allowed by directive')",
        tagged("raise ValueError('allowed by tag')", "raises-exception", "hide-input"),
        "#| eval: false\nraise SystemExit('never run')",
        "print('after the errors')",
    )
    result = run_docgen("build", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "site" / "index.html").read_text()
    assert "allowed by directive" in page and "allowed by tag" in page
    assert "after the errors" in page
    # The tags nbclient was given for the directives stay off the published copy.
    source = json.loads(nb.read_text())["cells"]
    executed = json.loads((tmp_path / "site" / "index.ipynb").read_text())["cells"]
    assert [c["metadata"].get("tags") for c in executed] == [
        c["metadata"].get("tags") for c in source
    ]


def test_a_kernel_reports_each_cell_it_runs_and_where_it_ran(tmp_path: Path) -> None:
    import asyncio
    import platform

    import nbformat

    from docgen.execute.kernel import Kernel

    path = write_notebook(
        tmp_path / "a.ipynb",
        "md:# Cells",
        "x = 20",
        "#| eval: false\n1 / 0",
        tagged("x = 0", "skip-execution"),
        "",
        "print(x + 22)",
    )
    nb = nbformat.read(path, as_version=4)

    async def run() -> tuple[list[int], nbformat.NotebookNode, dict[str, object]]:
        kernel = Kernel("python3", path, {})
        await kernel.start()
        try:
            cells: list[int] = []
            ready = kernel.kc
            ran = await kernel.run(nb, 30, cells.append)
            # nbclient ran the cells through the client that saw the kernel ready, rather
            # than a second one that would wait for the kernel all over again.
            assert kernel.kc is ready
            return cells, ran, await kernel.describe()
        finally:
            await kernel.shutdown()

    cells, ran, info = asyncio.run(run())
    assert cells == [1, 5]  # not the skipped ones, nor the empty one
    assert ran.cells[5].outputs[0]["text"] == "42\n" and nb.cells[5].outputs == []
    assert info["python"] == platform.python_version()
    assert info["gpu_opened"] is False  # no GPU's device file open in the kernel
