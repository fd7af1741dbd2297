"""A notebook's cells in one request to an IPython kernel (execute/batch.py): the outputs
are those of running them one request each, and so are errors, timeouts and a dying kernel;
a kernel that cannot run them so gets them one by one."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from docgen.errors import DocgenError
from docgen.execute.kernel import Kernel
from docgen.execute.launcher import Zygotes
from docgen.execute.timing import without_timing

pytestmark = pytest.mark.kernel

# Every kind of output and cell nbclient knows: streams, displays updated by id, a
# cleared output, errors a cell may raise, magics, top-level await, the shell, a figure.
CELLS = [
    "print('a')\nimport sys\nprint('b', file=sys.stderr)",
    "from IPython.display import display, HTML, clear_output\n"
    "h = display(HTML('<b>x</b>'), display_id=True)\n1 + 1",
    "h.update(HTML('<i>y</i>'))\nprint('after update')",
    "for i in range(3):\n    clear_output(wait=True)\n    print(i)",
    "raise ValueError('shown')",
    "%%capture cap\nprint('hidden')",
    "cap.stdout",
    "import asyncio\nawait asyncio.sleep(0.01)\n'awaited'",
    "!echo from the shell",
    "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3]); plt.title('t')",
    "x = 5\nx",
    "def f():\n    return undefined_name\nf()",
    "input('no keyboard')",
    # Output from a thread an earlier cell started lands where nbclient puts it.
    "import threading, time\n"
    "threading.Thread(target=lambda: (time.sleep(0.3), print('late'))).start()",
    "time.sleep(0.8)\nprint('its own')",
]
MAY_RAISE = {4, 11, 12}


def notebook(cells: list[str], may_raise: set[int] = frozenset()) -> nbformat.NotebookNode:  # type: ignore[assignment]
    nb = new_notebook(cells=[new_markdown_cell("# Title")])
    for index, source in enumerate(cells):
        cell = new_code_cell(source)
        if index in may_raise:
            cell.metadata["tags"] = ["raises-exception"]
        nb.cells.append(cell)
    return nb


def run(
    nb: nbformat.NotebookNode, folder: Path, batched: bool, setup: str = ""
) -> nbformat.NotebookNode:
    async def go() -> nbformat.NotebookNode:
        zygotes = Zygotes((), [], lambda message: None, True)
        kernel = Kernel("python3", folder / "nb.ipynb", {}, zygotes=zygotes, batched=batched)
        await kernel.start()
        try:
            if setup:
                kernel.kc.execute(setup, silent=True)
            return await kernel.run(nb, 20)
        finally:
            await kernel.shutdown()
            zygotes.close()

    return asyncio.run(go())


def comparable(nb: nbformat.NotebookNode) -> list[object]:
    cells = []
    for cell in without_timing(nb).cells:
        outputs = []
        for output in cell.get("outputs", []):
            output = json.loads(json.dumps(output))
            if "image/png" in output.get("data", {}):
                output["data"]["image/png"] = "a PNG"  # the same plot, not always the same bytes
            outputs.append(output)
        cells.append((cell.get("execution_count"), outputs, cell.get("metadata")))
    return cells


def test_one_request_gives_the_outputs_of_one_request_per_cell(tmp_path: Path) -> None:
    nb = notebook(CELLS, MAY_RAISE)
    batched, one_by_one = run(nb, tmp_path, True), run(nb, tmp_path, False)
    assert comparable(batched) == comparable(one_by_one)
    outputs = comparable(batched)
    assert [o["text"] for o in outputs[1][1]] == ["a\n", "b\n"]
    assert outputs[2][1][0]["data"]["text/html"] == "<i>y</i>"  # updated in place
    assert outputs[4][1] == [{"name": "stdout", "output_type": "stream", "text": "2\n"}]
    assert outputs[5][1][0]["ename"] == "ValueError"
    assert outputs[13][1][-1]["ename"] == "StdinNotImplementedError"
    texts = [o.get("text", "") for cell in outputs for o in cell[1]]
    assert texts.count("late\n") + texts.count("late\nits own\n") == 1
    assert [c[0] for c in outputs[1:]] == list(range(1, len(CELLS) + 1))
    # The timing docgen reads: when each cell started and ended.
    timing = batched.cells[1].metadata["execution"]
    assert {"iopub.execute_input", "iopub.status.idle"} <= set(timing)
    assert "shell.execute_reply" not in timing  # one request: no reply per cell
    assert "shell.execute_reply" in one_by_one.cells[1].metadata["execution"]


def test_a_failing_cell_stops_the_notebook_and_is_named(tmp_path: Path) -> None:
    nb = notebook(["print(1)", "1 / 0", "open('ran_after_the_error', 'w').close()"])
    with pytest.raises(DocgenError) as failed:
        run(nb, tmp_path, True)
    assert "nb.ipynb, cell 3 of 4" in str(failed.value)  # the markdown cell counts
    assert "ZeroDivisionError" in str(failed.value)
    assert not (tmp_path / "ran_after_the_error").exists()


def test_a_cell_over_its_timeout_is_named(tmp_path: Path) -> None:
    nb = notebook(["print('quick')", "import time\ntime.sleep(60)"])
    nb.cells[1].metadata["execution"] = {"timeout": 1}
    with pytest.raises(DocgenError) as failed:
        asyncio.run(asyncio.wait_for(asyncio.to_thread(run, nb, tmp_path, True), 40))
    assert "cell 3 of 3" in str(failed.value) and "did not finish within" in str(failed.value)


def test_a_kernel_that_cannot_take_one_request_runs_the_cells_one_by_one(
    tmp_path: Path,
) -> None:
    # Without autoawait the runner's request does not compile: no cell has run yet, so
    # running them one request each is safe, and each runs once.
    nb = notebook(["n = 1", "n += 1\nprint(n)"])
    ran = run(nb, tmp_path, True, setup="get_ipython().autoawait = False")
    assert ran.cells[2].outputs[0]["text"] == "2\n"
    assert "shell.execute_reply" in ran.cells[2].metadata["execution"]


@pytest.mark.parametrize("batch_cells", [True, False])
def test_batch_cells_in_the_config_reaches_the_kernels(tmp_path: Path, batch_cells: bool) -> None:
    from docgen.config import load_config
    from docgen.execute.executor import Job, Silent
    from docgen.execute.plan import Machine
    from docgen.execute.stage import local_pool

    (tmp_path / "pyproject.toml").write_text(
        f"[tool.docgen.execute]\nbatch_cells = {str(batch_cells).lower()}\n"
    )
    config = load_config(cwd=tmp_path)
    assert config.batch_cells is batch_cells
    executor = local_pool(config, Machine((), {}))
    (result,) = executor.run([Job(notebook(["1 + 1"]), tmp_path / "nb.ipynb", "python3")], Silent())
    assert result.nb is not None
    timing = result.nb.cells[1].metadata["execution"]
    assert ("shell.execute_reply" in timing) is not batch_cells


@pytest.mark.parametrize("attempt", range(3))
def test_a_kernel_that_dies_is_reported_with_the_cell_it_died_in(
    tmp_path: Path, attempt: int
) -> None:
    # The kernel dies right after the cell before: that cell's idle status, sent by another
    # thread, may die with it; the runner's own note says which cell it was in.
    nb = notebook(["print(1)", "print(2)", "import os\nos._exit(3)"])
    with pytest.raises(DocgenError) as failed:
        run(nb, tmp_path, True)
    assert "nb.ipynb, cell 4 of 4" in str(failed.value)
    assert "the kernel died while running this cell (exit code 3)" in str(failed.value)
