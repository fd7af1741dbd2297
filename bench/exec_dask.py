"""The Dask executor against the local pool: the same notebooks, the same number of workers.

    python bench/exec.py --executor dask [--notebooks 20] [--workers 2]

(or `python bench/exec_dask.py`, the same with exec.py's options). Both
executors get the same jobs, in this process, with the cache on and every notebook run:

- the local pool with `workers` kernels at once, each started on its turn
  (`warm_kernels = 0`, `fork_kernels = false`), and the same with forked kernels (the
  default);
- the Dask executor on a `LocalCluster` of `workers` single-threaded worker processes,
  started before the clock (its start-up is printed on its own line); each worker forks
  its kernels from a zygote of its own, started by its first task.

Printed: the ratio of Dask to the local pool with forked kernels (goal: at most 1.2x), the
per-notebook dispatch overhead (the extra seconds per notebook, counted over the workers
running at once), the round trip of an empty task, and both whole `docgen build --force`
commands, cluster start included.
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from docgen.config import load_config  # noqa: E402
from docgen.execute.executor import Job, Silent  # noqa: E402
from docgen.execute.pool import LocalPool, PoolOptions  # noqa: E402
from docgen.execute.stage import nbdev_test_env  # noqa: E402
from docgen.notebooks.read import read_notebook  # noqa: E402

GOAL = 1.2  # times the local pool's time


def _jobs(paths: list[Path]) -> list[Job]:
    return [Job(read_notebook(path), path, "python3") for path in paths]


def _timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _command(root: Path, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "docgen", "build", "--force", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main(args: argparse.Namespace, root: Path, paths: list[Path]) -> int:
    from docgen.execute.dask.driver import DaskExecutor

    config = load_config(root / "plain.toml", cwd=root)
    jobs = _jobs(paths)
    workers = args.workers
    print(f"{len(jobs)} notebooks that import torch; workers = {workers}; kernels on their turn")

    options = PoolOptions(
        timeout=600, workers=workers, env=nbdev_test_env(config), kernels_per_gpu=99,
        fork_kernels=False,
    )
    local_seconds = _timed(lambda: _check(LocalPool(options).run(jobs, Silent())))
    print(f"  {'local pool, kernels started one by one':<40} {local_seconds:7.2f} s")
    forked = dataclasses.replace(options, fork_kernels=True)
    forked_seconds = _timed(lambda: _check(LocalPool(forked).run(jobs, Silent())))
    print(f"  {'local pool, forked kernels':<40} {forked_seconds:7.2f} s")

    executor = DaskExecutor(config)
    started = _timed(executor.start_local_cluster)
    try:
        client = executor.client
        trips = []
        for _ in range(10):
            trips.append(_timed(lambda: client.submit(int, pure=False).result()))
        dask_seconds = _timed(lambda: _check(executor.run(jobs, Silent())))
    finally:
        executor.close()
    # Each worker forks its kernels from a zygote of its own, as the local pool does.
    ratio = dask_seconds / forked_seconds
    per_notebook = (dask_seconds - forked_seconds) * workers / len(jobs)
    verdict = "meets it" if ratio <= GOAL else "misses it"
    print(f"  {'dask, LocalCluster (started before)':<40} {dask_seconds:7.2f} s  "
          f"{ratio:.2f}x the local pool with forked kernels (goal {GOAL}x: {verdict}), "
          f"{dask_seconds / local_seconds:.2f}x the local pool one by one")
    print(f"  {'per-notebook dispatch overhead':<40} {per_notebook:7.3f} s")
    print(f"  {'empty task round trip (median of 10)':<40} {sorted(trips)[5] * 1000:7.1f} ms")
    print(f"  {'LocalCluster start-up':<40} {started:7.2f} s")
    print("whole commands (docgen build --force, cluster start included):")
    plain = _command(root, "--config", "plain.toml")
    dask = _command(root, "--config", "plain.toml", "--executor", "dask")
    print(f"  {'local pool':<40} {plain:7.2f} s")
    print(f"  {'dask, LocalCluster':<40} {dask:7.2f} s  {dask / plain:.2f}x")
    return 0


def _check(results: list) -> None:  # type: ignore[type-arg]
    failed = [r.error for r in results if r.error]
    if failed:
        raise SystemExit(f"a notebook failed:\n{failed[0]}")


if __name__ == "__main__":
    import exec as exec_bench  # beside this script: it makes the project

    sys.argv[1:1] = ["--executor", "dask"]
    sys.exit(exec_bench.main())
