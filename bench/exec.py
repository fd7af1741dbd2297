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

- runners side by side (`--runners`): on the same notebooks, a serial nbclient loop, docgen's
  execute stage with kernels started one by one (`fork_kernels = false`), the same with
  kernels forked from a zygote, and `nbdev-test --n-workers N`; on the 20 torch notebooks
  and, with `--nbdev CORPUS`, on a copy of the nbdev repository (without the 5 notebooks that
  need the network). Each corpus runs with the Python of `--python` (one that has nbdev,
  nbdev-test and torch installed; docgen comes from this checkout). Goal: the zygote within
  1.5x of nbdev-test.
- per-cell cost (`--runners`, exec_cells.py): 300 `pass` cells on one idle kernel, a stock
  ipykernel and docgen's, through a bare jupyter-client loop, nbclient and docgen's loop.

    python bench/exec.py [--notebooks 20] [--workers 2] [--keep DIR]
    python bench/exec.py --runners [--python /venv/bin/python] [--nbdev ../shared/corpora/nbdev]
    python bench/exec.py --executor dask  (the Dask executor against the local pool: exec_dask.py)
"""

from __future__ import annotations

import argparse
import json
import os
import re
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

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


# The notebooks docgen would run, read and prepared as docgen prepares them, then run one
# of three ways; prints {"seconds", "notebooks", "failed", "warnings"} as JSON.
RUNNER = """
import dataclasses, json, os, sys, time
from pathlib import Path
from docgen.config import load_config
from docgen.errors import BuildFailed
from docgen.execute.kernel import _as_tags
from docgen.execute.stage import detect_machine, execute_stage, nbdev_test_env
from docgen.pipeline import as_nbdev_test_runs, discover_notebooks, excluded_folders, read_notebook
root, how, workers = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
config = dataclasses.replace(
    load_config(cwd=root), fork_kernels=how == "zygote", cache=False, workers=workers
)
sources = discover_notebooks(
    config.nbs, config.nav, exclude=excluded_folders(config), private=config.nbdev
)
notebooks = [read_notebook(s.path) for s in sources]
if config.nbdev:
    notebooks = [as_nbdev_test_runs(nb, config.skip_flags) for nb in notebooks]
warnings, failed, ran = [], 0, 0
start = time.perf_counter()
if how == "serial":  # the notebooks docgen's plan runs, one nbclient call each
    from nbclient import NotebookClient
    from docgen.execute.plan import plan_execution
    os.environ.update(dict(nbdev_test_env(config)))
    for planned in plan_execution(sources, notebooks, config, detect_machine(config), None).to_run:
        nb, path = planned.job.nb, planned.job.path
        _as_tags(nb)
        ran += 1
        try:
            folder = {"metadata": {"path": str(path.parent)}}
            NotebookClient(nb, timeout=600, kernel_name="python3", resources=folder,
                           skip_cells_with_tag="skip-execution").execute()
        except Exception:
            failed += 1
else:
    class Listener:
        def started(self, path): pass
        def cell(self, path, index, count): pass
        def finished(self, path, status, seconds):
            global ran
            ran += status.name in ("RAN", "FAILED")
        def warn(self, message): warnings.append(message)
    try:
        execute_stage(sources, notebooks, config, detect_machine(config), Listener())
    except BuildFailed as e:
        failed = len(e.problems)
print(json.dumps({"seconds": time.perf_counter() - start, "notebooks": ran, "failed": failed,
                  "warnings": warnings}))
"""
NBDEV_NEEDS_NETWORK = ("01_config", "05_doclinks", "18_release", "19_diff", "git_friendly_jupyter")
ZYGOTE_GOAL = 1.5  # at most this many times nbdev-test's time


def run_docgen_runner(python: Path, root: Path, how: str, workers: int) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [str(python), "-c", RUNNER, str(root), how, str(workers)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_nbdev_test(python: Path, root: Path, workers: int, skip: tuple[str, ...]) -> float:
    """Seconds of `nbdev-test --n-workers N` (its failures are the same notebooks')."""
    pattern = "|".join(["^[_.]", *(re.escape(s) for s in skip)])
    start = time.perf_counter()
    subprocess.run(
        [str(python.parent / "nbdev-test"), "--n-workers", str(workers), "--skip-file-re", pattern],
        cwd=root,
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - start


def nbdev_copy(corpus: Path, workers: int) -> Path:
    """The nbdev repository, copied (notebooks are never run in place), configured for docgen."""
    root = Path(tempfile.mkdtemp(prefix="docgen-bench-nbdev-")) / "nbdev"
    shutil.copytree(corpus, root, ignore=shutil.ignore_patterns(".git", ".docgen_cache", "_docs"))
    excluded = ", ".join(f'"**/{name}.ipynb"' for name in NBDEV_NEEDS_NETWORK)
    with open(root / "pyproject.toml", "a") as f:
        f.write(f"\n[tool.docgen.execute]\nexclude = [{excluded}]\nworkers = {workers}\n")
    return root


def with_nbdev_config(root: Path) -> None:
    """What nbdev-test needs to run the torch notebooks: an nbdev project table."""
    with open(root / "pyproject.toml", "a") as f:
        f.write('[project]\nname = "bench"\nversion = "0.0.1"\n')
        f.write('[tool.nbdev]\nnbs_path = "doc_nbs"\n')


def compare_runners(torch_root: Path, nbdev: Path | None, python: Path, workers: int) -> None:
    print(f"runners side by side (Python: {python}):")
    corpora = [("20 torch notebooks", torch_root, ())]
    with_nbdev_config(torch_root)
    if nbdev is not None and nbdev.is_dir():
        corpora.append(
            (
                f"nbdev ({nbdev.name}, 5 network notebooks left out)",
                nbdev_copy(nbdev, workers),
                NBDEV_NEEDS_NETWORK,
            )
        )
    else:
        print(f"  (no nbdev corpus at {nbdev}: pass --nbdev)")
    for label, root, skip in corpora:
        print(f"  {label}:")
        runs = {
            how: run_docgen_runner(python, root, how, workers)
            for how in ("serial", "launch", "zygote")
        }
        nbdev_test = run_nbdev_test(python, root, workers, skip)
        serial = runs["serial"]["seconds"]
        names = {
            "serial": "nbclient, serial",
            "launch": f"docgen, {workers} workers, one by one",
            "zygote": f"docgen, {workers} workers, zygote",
        }
        for how, run in runs.items():
            failed = f", {run['failed']} failed" if run["failed"] else ""
            line(
                names[how],
                run["seconds"],
                f"{serial / run['seconds']:.2f}x serial, {run['seconds'] / nbdev_test:.2f}x "
                f"nbdev-test ({run['notebooks']} notebooks{failed})",
            )
            for warning in run["warnings"]:
                print(f"      warning: {warning}")
        line(f"nbdev-test --n-workers {workers}", nbdev_test, f"{serial / nbdev_test:.2f}x serial")
        ratio = runs["zygote"]["seconds"] / nbdev_test
        verdict = "meets it" if ratio <= ZYGOTE_GOAL else "misses it"
        print(f"    goal: zygote within {ZYGOTE_GOAL}x of nbdev-test: {ratio:.2f}x ({verdict})")


def builds(root: Path, paths: list[Path], workers: int, repeat: int) -> None:
    """Cold builds, the no-op rebuild and one prose edit (the module's first three parts)."""
    print("cold build (no cache):")
    serial = serial_nbclient(paths)
    line("serial nbclient loop", serial, "1.00x (baseline)")
    plain = docgen_command(root, "--config", "plain.toml", "--force")
    line(f"docgen build --workers {workers}", plain, f"{serial / plain:.2f}x faster")
    warm = docgen_command(root, "--force")
    line(f"docgen build --workers {workers}, warm pool", warm, f"{serial / warm:.2f}x faster")
    best = serial / min(plain, warm)
    print(
        f"  goal: {COLD_GOAL:.0f}x faster than serial; best is {best:.2f}x "
        f"({best / COLD_GOAL:.2f} of the goal)"
    )

    print("no-op rebuild (everything cached):")
    first, steady = in_process(root, repeat)
    line("build() in process, first call", first)
    line(f"build() in process, median of {repeat}", steady, against(steady, NOOP_GOAL))
    line("docgen build (command, wall)", docgen_command(root))

    print("one prose edit (a markdown cell of one notebook; every notebook from the cache):")
    config = load_config(cwd=root)
    edits = []
    for n in range(repeat):
        edit_prose(paths[n % len(paths)], n)
        start = time.perf_counter()
        report = build(config, log=lambda _: None)
        edits.append(time.perf_counter() - start)
        assert report.executed == 0, "a prose edit ran a notebook"
    prose = statistics.median(edits)
    line(f"build() in process, median of {repeat}", prose, against(prose, PROSE_GOAL))
    edit_prose(paths[1], 98)
    rendered = renders_during(lambda: build(config, log=lambda _: None))
    total = len(build(config, log=lambda _: None).pages)
    noop_renders = renders_during(lambda: build(config, log=lambda _: None))
    if rendered:
        print(
            f"  pages rendered: {rendered} of {total} after the prose edit, "
            f"{noop_renders} of {total} on a no-op rebuild"
        )
    else:
        print("  pages rendered: could not be counted (no call of render/page.py's render_page)")
    edit_prose(paths[0], 99)
    line("docgen build (command, wall)", docgen_command(root))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the project here and leave it")
    parser.add_argument("--runners", action="store_true", help="compare runners instead")
    parser.add_argument("--python", type=Path, default=Path(sys.executable))
    parser.add_argument("--nbdev", type=Path, default=REPO.parent / "shared/corpora/nbdev")
    parser.add_argument("--executor", choices=("local", "dask"), default="local")
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
    print(f"{cpus} CPU cores; workers = {args.workers}")
    if args.runners:
        import exec_cells  # beside this script

        compare_runners(root, args.nbdev, args.python, args.workers)
        exec_cells.per_cell_overhead()
    else:
        print(f"{args.notebooks} notebooks that import torch")
        builds(root, paths, args.workers, args.repeat)
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
