"""Rebuild speed: a cold `docgen build --no-exec`, a no-op rebuild and a one-paragraph
prose edit, each timed as a command (a new process, as a user runs it); then the same
no-op and prose edit as a plain `docgen build`, which executes, with every notebook a hit
in the execution cache.

Corpus: a generated project of 20 notebooks with 1,800 code cells (90 each), with stored
outputs (text results and printed streams), prose with headings, backticked names and
links between notebooks. With `--no-exec` the stored outputs are rendered, so the figures
measure reading, rendering, the build session and writing. The executing rebuilds follow
one build that runs every notebook (timed too, as "cold executing"); after it, a no-op or
a prose edit starts no kernel and imports nothing of Jupyter's kernel side.

A no-op rebuild renders no page; the prose edit renders the edited page only (a changed
paragraph changes no other page's HTML; see docgen/session/session.py). Goals: no-op
<= 1.0 s and prose edit <= 1.5 s. `--python` times another interpreter that has docgen
(an environment like a user's, with JupyterLab installed); `docgen --version` is timed
there too, since start-up is part of every command.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS, CELLS = 20, 90
GOALS = {
    "no-op": 1.0,
    "prose edit": 1.5,
    "no-op, executing": 1.0,
    "prose edit, executing": 1.5,
}


def _code(n: int, i: int) -> str:
    return (
        f"from pathlib import Path\nimport json\n\n"
        f"def step_{i}(values: list[int]) -> dict[str, int]:\n"
        f'    """Sum and count of step {i} of notebook {n}."""\n'
        f"    total = sum(v * {i % 7 + 1} for v in values)\n"
        f'    return {{"total": total, "count": len(values)}}\n\n'
        f"result = step_{i}(list(range({i + 3})))\n"
        f'print(json.dumps(result), Path("data") / "part_{i}.csv")\n'
        f"result"
    )


def _notebook(n: int) -> dict:
    cells = [_md(f"# Chapter {n}\n\nThis chapter covers part {n} of the library.")]
    for i in range(CELLS):
        if i % 10 == 0:
            other = f"chapter_{(n + 1) % NOTEBOOKS:02d}.ipynb"
            cells.append(
                _md(
                    f"## Section {i // 10}\n\nEach step calls `json.dumps` and "
                    f"`pathlib.Path`; see [the next chapter]({other}#section-{i // 10}). "
                    "A paragraph of prose about what the code below does and why."
                )
            )
        total = sum(v * (i % 7 + 1) for v in range(i + 3))
        result = {"total": total, "count": i + 3}
        cells.append(
            {
                "cell_type": "code",
                "execution_count": i + 1,
                "id": f"c{n}-{i}",
                "metadata": {},
                "source": _code(n, i),
                "outputs": [
                    {
                        "name": "stdout",
                        "output_type": "stream",
                        "text": f"{json.dumps(result)} data/part_{i}.csv\n",
                    },
                    {
                        "output_type": "execute_result",
                        "execution_count": i + 1,
                        "metadata": {},
                        "data": {"text/plain": repr(result)},
                    },
                ],
            }
        )
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _md(text: str) -> dict:
    return {
        "cell_type": "markdown",
        "id": f"m{abs(hash(text)) % 10**12}",
        "metadata": {},
        "source": text,
    }


def make_project(root: Path) -> Path:
    nbs = root / "doc_nbs"
    nbs.mkdir(parents=True)
    for n in range(NOTEBOOKS):
        (nbs / f"chapter_{n:02d}.ipynb").write_text(json.dumps(_notebook(n), indent=1))
    (root / "pyproject.toml").write_text('[tool.docgen]\ntitle = "Bench"\n')
    return root


def edit_prose(root: Path, round_: int) -> None:
    """Rewrite one paragraph of one notebook (a different text each round)."""
    path = root / "doc_nbs" / "chapter_10.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"][0]["source"] = f"# Chapter 10\n\nThis chapter, revision {round_}, covers part 10."
    path.write_text(json.dumps(nb, indent=1))


CPU: list[float] = []  # CPU seconds (user and system) of each timed command, in order


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], cwd: Path) -> float:
    # Bytecode is written, as in a user's environment, so start-up is not recompiling.
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    # On a shared machine the wall time waits for other jobs; the CPU time much less so.
    CPU.append(_children_cpu() - cpu)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter to time")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each rebuild")
    args = parser.parse_args()
    build = [args.python, "-m", "docgen", "build"]
    no_exec = [*build, "--no-exec"]
    runs: dict[str, list[tuple[float, float]]] = {}

    def run(name: str, cmd: list[str], root: Path) -> None:
        wall = timed(cmd, root)
        runs.setdefault(name, []).append((wall, CPU[-1]))

    with tempfile.TemporaryDirectory() as tmp:
        root = make_project(Path(tmp))
        for _ in range(3):
            shutil.rmtree(root / ".docgen_cache", ignore_errors=True)
            shutil.rmtree(root / "site", ignore_errors=True)
            run("cold --no-exec", no_exec, root)
        for _ in range(args.repeat):
            run("no-op", no_exec, root)
        for i in range(args.repeat):
            edit_prose(root, i)
            run("prose edit", no_exec, root)
        run("cold executing", build, root)  # runs every notebook once, filling the cache
        for _ in range(args.repeat):
            run("no-op, executing", build, root)
        for i in range(args.repeat):
            edit_prose(root, args.repeat + i)
            run("prose edit, executing", build, root)
        for _ in range(5):
            run("docgen --version", [args.python, "-m", "docgen", "--version"], root)
    print(
        f"incremental builds ({time.strftime('%Y-%m-%d')}, {args.python}, "
        f"{NOTEBOOKS} notebooks, {NOTEBOOKS * CELLS} code cells; medians of wall time, and of "
        "CPU time (user + system, kernels included), which other jobs on the machine disturb less)"
    )
    cold = statistics.median(w for w, _ in runs["cold --no-exec"])
    for name, times in runs.items():
        wall = statistics.median(w for w, _ in times)
        cpu = statistics.median(c for _, c in times)
        goal = (
            f"goal <= {GOALS[name]:.1f} s: {'met' if wall <= GOALS[name] else 'MISSED'}"
            if name in GOALS
            else ""
        )
        print(
            f"  {name:22s} {wall:6.2f} s (CPU {cpu:5.2f} s)  {wall / cold:7.1%} of cold "
            f"--no-exec  {goal}"
        )

if __name__ == "__main__":
    main()
