"""Execution speed: cold builds, a no-op rebuild and a prose edit, on 20 torch notebooks.

All measured in this one run, on the same generated project (20 small notebooks that each
import torch, in 4 folders):

- cold build: a serial loop of `nbclient.NotebookClient(...).execute()` (the baseline),
  then `docgen build --workers N --force` with kernels started only on their turn
  (`warm_kernels = 0`), then the same with the warm pool (`warm_kernels = N` and
  `preload = ["torch"]`). Goal: at least 2x faster than the serial loop.
- no-op rebuild: everything cached. `build()` called in this process (the build itself),
  and `docgen build` as a command (adds Python's start-up and imports). Goal: 0.2 s.
- one prose edit: the last markdown cell of one notebook changed (no heading, so no link
  into the page changes). Every notebook comes from the cache, so no kernel starts. The
  script counts the pages this rebuild renders (calls of docgen's page renderer, in one extra
  build outside the timed ones) and prints it next to the site's page count: that, not the
  wording of a goal, says what the figure covers. Goal: 0.5 s.

    python bench/exec.py [--notebooks 20] [--workers 2] [--keep DIR] [--executor dask]

`--executor dask` measures the Dask executor against the local pool instead (exec_dask.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from docgen.config import load_config  # noqa: E402
from docgen.pipeline import build  # noqa: E402

COLD_GOAL = 2.0  # times faster than the serial nbclient loop
NOOP_GOAL = 0.2  # seconds
PROSE_GOAL = 0.5  # seconds


def make_project(root: Path, count: int, workers: int) -> list[Path]:
    paths = []
    for i in range(count):
        nb = new_notebook(
            cells=[
                new_markdown_cell(f"# Notebook {i}\n\nA tensor, summed."),
                new_code_cell("import torch"),
                new_code_cell(f"x = torch.arange(10.0) * {i}\nx.sum().item()"),
                new_markdown_cell("The end."),
            ]
        )
        nb.metadata.kernelspec = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        path = root / "doc_nbs" / f"part{i % 4}" / f"nb{i:02d}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        paths.append(path)
    # These notebooks never touch a GPU: on a GPU machine, let every kernel share it.
    common = (
        f'[tool.docgen]\ntitle = "bench"\n[tool.docgen.execute]\nworkers = {workers}\n'
        f"kernels_per_gpu = {2 * workers}\n"
    )
    (root / "plain.toml").write_text(common + "warm_kernels = 0\n")
    (root / "pyproject.toml").write_text(
        common + f'warm_kernels = {workers}\npreload = ["torch"]\n'
    )
    return paths


SERIAL_LOOP = """
import sys, nbformat
from nbclient import NotebookClient
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    folder = path.rsplit("/", 1)[0]
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": folder}}).execute()
"""


def serial_nbclient(paths: list[Path]) -> float:
    """The plain way: one nbclient call per notebook, one after the other, in a process."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", SERIAL_LOOP, *map(str, paths)], check=True, capture_output=True
    )
    return time.perf_counter() - start


def docgen_command(root: Path, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "docgen", "build", *args], cwd=root, check=True, capture_output=True
    )
    return time.perf_counter() - start


def in_process(root: Path, repeat: int) -> tuple[float, float]:
    """(first, median of the next `repeat`) seconds of `build()` in this process."""
    config = load_config(cwd=root)
    times = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        report = build(config, log=lambda _: None)
        times.append(time.perf_counter() - start)
        assert report.executed == 0, "a no-op rebuild ran a notebook"
    return times[0], statistics.median(times[1:])


def edit_prose(path: Path, n: int) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].source = f"The end, edit {n}."
    nbformat.write(nb, path)


def renders_during(run: Callable[[], object]) -> int:
    """How many times `run()` calls docgen's page renderer (docgen/render/page.py's
    render_page), counted by a profile hook so that it sees calls however they are imported."""
    target = os.path.join("render", "page.py")
    calls = 0

    def hook(frame, event, arg):  # type: ignore[no-untyped-def]
        nonlocal calls
        code = frame.f_code
        if event == "call" and code.co_name == "render_page" and code.co_filename.endswith(target):
            calls += 1

    threading.setprofile(hook)
    sys.setprofile(hook)
    try:
        run()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
    return calls


def against(seconds: float, goal: float) -> str:
    """The time as a ratio to its goal: below 1 meets it."""
    verdict = "meets it" if seconds <= goal else "misses it"
    return f"goal {goal} s: ratio {seconds / goal:.2f} ({verdict})"


def line(label: str, seconds: float, note: str = "") -> None:
    print(f"  {label:<40} {seconds:7.2f} s  {note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the project here and leave it")
    parser.add_argument(
        "--executor", choices=("local", "dask"), default="local",
        help="dask: the Dask executor against the local pool instead (bench/exec_dask.py)",
    )
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="docgen-bench-exec-"))
    root.mkdir(parents=True, exist_ok=True)
    paths = make_project(root, args.notebooks, args.workers)
    if args.executor == "dask":
        import exec_dask  # beside this script

        try:
            return exec_dask.main(args, root, paths)
        finally:
            if args.keep is None:
                shutil.rmtree(root, ignore_errors=True)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    w = args.workers
    print(f"{args.notebooks} notebooks that import torch; {cpus} CPU cores; workers = {w}")

    print("cold build (no cache):")
    serial = serial_nbclient(paths)
    line("serial nbclient loop", serial, "1.00x (baseline)")
    plain = docgen_command(root, "--config", "plain.toml", "--force")
    line(f"docgen build --workers {w}", plain, f"{serial / plain:.2f}x faster")
    warm = docgen_command(root, "--force")
    line(f"docgen build --workers {w}, warm pool", warm, f"{serial / warm:.2f}x faster")
    best = serial / min(plain, warm)
    print(
        f"  goal: {COLD_GOAL:.0f}x faster than serial; best is {best:.2f}x "
        f"({best / COLD_GOAL:.2f} of the goal)"
    )

    print("no-op rebuild (everything cached):")
    first, steady = in_process(root, args.repeat)
    line("build() in process, first call", first)
    line(f"build() in process, median of {args.repeat}", steady, against(steady, NOOP_GOAL))
    line("docgen build (command, wall)", docgen_command(root))

    print("one prose edit (a markdown cell of one notebook; every notebook from the cache):")
    config = load_config(cwd=root)
    edits = []
    for n in range(args.repeat):
        edit_prose(paths[n % len(paths)], n)
        start = time.perf_counter()
        report = build(config, log=lambda _: None)
        edits.append(time.perf_counter() - start)
        assert report.executed == 0, "a prose edit ran a notebook"
    prose = statistics.median(edits)
    line(f"build() in process, median of {args.repeat}", prose, against(prose, PROSE_GOAL))
    edit_prose(paths[1], 98)
    rendered = renders_during(lambda: build(config, log=lambda _: None))
    total = len(build(config, log=lambda _: None).pages)
    noop_renders = renders_during(lambda: build(config, log=lambda _: None))
    if rendered:
        print(f"  pages rendered: {rendered} of {total} after the prose edit, "
              f"{noop_renders} of {total} on a no-op rebuild")
    else:
        print("  pages rendered: could not be counted (no call of render/page.py's render_page)")
    edit_prose(paths[0], 99)
    line("docgen build (command, wall)", docgen_command(root))
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
