"""CI shards: `docgen build --shard I/N` runs a duration-balanced share of the notebooks into
the cache, and `docgen build --merge CACHE_DIR ...` renders the site from every shard's cache
without running anything. Real kernels; each "job" is a copy of the project, as in CI."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import run_docgen, tagged, write_notebook
from hypothesis import given
from hypothesis import strategies as st
from nbformat.v4 import new_output

from docgen.config import CACHE_DIR, load_config
from docgen.execute.cache import ExecutionCache
from docgen.execute.executor import ExecutionResult, Job, Listener, Silent
from docgen.execute.gpus import Gpu
from docgen.execute.plan import Machine
from docgen.execute.schedule import Shard, parse_shard, split_by_duration
from docgen.execute.stage import detect_machine
from docgen.shards import ShardReport, run_shard

# Two long notebooks that a split by count (every duration unknown: 60 s) puts in the same
# shard, and short ones; the GPU notebook belongs to `--shard gpu` alone.
SLEEPS = {"a_long": 1.5, "b_short": 0.0, "c_long": 1.4, "d_short": 0.0, "e_short": 0.0}
PROVENANCE = re.compile(r'<p class="provenance">.*?</p>', re.S)


def make_project(root: Path) -> Path:
    nbs = root / "doc_nbs"
    for name, sleep in SLEEPS.items():
        write_notebook(
            nbs / f"{name}.ipynb",
            f"md:# {name}",
            f"import time\ntime.sleep({sleep})\nprint('{name}', 6 * 7)",
        )
    write_notebook(nbs / "prose.ipynb", "md:# Prose only")
    gpu = tagged("print('on the GPU')", "requires-cuda")
    gpu.outputs = [new_output("stream", name="stdout", text="stored GPU output\n")]
    write_notebook(nbs / "gpu.ipynb", "md:# GPU", gpu)
    (root / "pyproject.toml").write_text('[tool.docgen]\ntitle = "Shards"\n')
    return root


def job(project: Path, where: Path) -> Path:
    """A CI job's checkout: the project's files and whatever cache it had."""
    shutil.copytree(project, where, symlinks=True)
    return where


def shard_list(stdout: str) -> dict[str, float]:
    """The notebooks a shard says it took, with their expected seconds."""
    return {m[1]: float(m[2]) for m in re.finditer(r"^  (\S+)  ([\d.]+) s$", stdout, re.M)}


def pages(site: Path) -> dict[str, str]:
    return {
        p.relative_to(site).as_posix(): PROVENANCE.sub("", p.read_text(encoding="utf-8"))
        for p in sorted(site.rglob("*.html"))
    }


def ran_seconds(stdout: str) -> float:
    found = re.search(r"ran \d+ notebooks? in ([\d.]+) s", stdout)
    assert found, stdout
    return float(found[1])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A plain build, and the same project built as two shards and a merge."""
    base = tmp_path_factory.mktemp("shards")
    project = make_project(base / "project")
    plain = job(project, base / "plain")
    assert run_docgen("build", cwd=plain).returncode == 0
    jobs = {"plain": plain, "project": project}
    for i in (1, 2):
        jobs[f"shard{i}"] = job(project, base / f"shard{i}")
        done = run_docgen("build", "--shard", f"{i}/2", cwd=jobs[f"shard{i}"])
        assert done.returncode == 0, done.stderr
        (base / f"shard{i}.out").write_text(done.stdout)
    return jobs


def test_two_shards_and_a_merge_give_the_pages_of_a_plain_build(
    built: dict[str, Path], tmp_path: Path
) -> None:
    out = [(built["shard1"].parent / f"shard{i}.out").read_text() for i in (1, 2)]
    taken = [shard_list(text) for text in out]
    # No cache at the start: every notebook expected at 60 s, split evenly by count.
    assert taken == [
        {"doc_nbs/a_long.ipynb": 60.0, "doc_nbs/c_long.ipynb": 60.0, "doc_nbs/e_short.ipynb": 60.0},
        {"doc_nbs/b_short.ipynb": 60.0, "doc_nbs/d_short.ipynb": 60.0},
    ]
    assert all("No site written" in text for text in out)
    assert not (built["shard1"] / "site").exists()
    merge = job(built["project"], tmp_path / "merge")
    caches = [built[f"shard{i}"] / CACHE_DIR for i in (1, 2)]
    done = run_docgen("build", "--merge", *caches, cwd=merge)
    assert done.returncode == 0, done.stderr
    assert "merged 5 new cache entries" in done.stderr
    assert "ran " not in done.stderr  # nothing executed: every notebook came from a cache
    assert pages(merge / "site") == pages(built["plain"] / "site")
    assert "stored GPU output" in (merge / "site" / "gpu.html").read_text()
    # The merge records how long the shards' runs took, for the next split.
    recorded = ExecutionCache(merge / CACHE_DIR).recorded_seconds("doc_nbs/a_long.ipynb")
    assert recorded is not None and 1.4 < recorded < 30


def test_a_notebook_no_merged_cache_holds_fails_the_merge_and_is_named(
    built: dict[str, Path], tmp_path: Path
) -> None:
    merge = job(built["project"], tmp_path / "merge")
    cache = built["shard1"] / CACHE_DIR
    done = run_docgen("build", "--merge", cache, cwd=merge)
    assert done.returncode == 1
    for name in ("b_short", "d_short"):  # shard 2's notebooks
        assert f"doc_nbs/{name}.ipynb: in none of the caches merged ({cache}, " in done.stderr
    assert "a_long.ipynb: in none" not in done.stderr
    assert not (merge / "site").exists()


def test_a_broken_entry_in_a_merged_cache_is_skipped_and_the_project_cache_stays_whole(
    built: dict[str, Path], tmp_path: Path
) -> None:
    shard = job(built["shard1"], tmp_path / "shard1")
    broken = shard / CACHE_DIR / "nb" / "ab" / ("ab" + "0" * 62 + ".ipynb")
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text('{"nbformat": 4, "cells": [')
    merge = job(built["plain"], tmp_path / "merge")  # its own cache holds every notebook
    before = sorted(p.name for p in (merge / CACHE_DIR / "nb").rglob("*.ipynb"))
    done = run_docgen("build", "--merge", shard / CACHE_DIR, cwd=merge)
    assert done.returncode == 0, done.stderr
    assert f"ignored the unreadable cache entry {broken}" in done.stderr
    assert sorted(p.name for p in (merge / CACHE_DIR / "nb").rglob("*.ipynb")) == before


def test_shards_split_by_recorded_seconds_and_their_times_balance(
    built: dict[str, Path], tmp_path: Path
) -> None:
    """After a build recorded the durations, forced shards split by them: each shard's
    total is within the longest notebook's time of the other's."""
    plain = built["plain"]
    cache = ExecutionCache(plain / CACHE_DIR)
    recorded = {n: cache.recorded_seconds(f"doc_nbs/{n}.ipynb") for n in SLEEPS}
    assert all(s is not None for s in recorded.values()), recorded
    outs, took = [], []
    for i in (1, 2):
        shard = job(plain, tmp_path / f"shard{i}")
        done = run_docgen("build", "--shard", f"{i}/2", "--force", cwd=shard)
        assert done.returncode == 0, done.stderr
        outs.append(shard_list(done.stdout))
        took.append(ran_seconds(done.stdout))
    longs = {"doc_nbs/a_long.ipynb", "doc_nbs/c_long.ipynb"}
    assert len(longs & outs[0].keys()) == 1  # one long notebook in each shard
    # The shards print seconds to 0.1 s.
    expected = {f"doc_nbs/{n}.ipynb": pytest.approx(s, abs=0.06) for n, s in recorded.items()}
    assert {**outs[0], **outs[1]} == expected
    assert sorted([*outs[0], *outs[1]]) == sorted(f"doc_nbs/{n}.ipynb" for n in SLEEPS)
    longest = max(s or 0.0 for s in recorded.values())
    # What the shards expected is balanced exactly so; what they took, up to timing noise.
    expected_totals = [sum(out.values()) for out in outs]
    assert abs(expected_totals[0] - expected_totals[1]) <= longest + 0.1
    assert abs(took[0] - took[1]) <= longest + 0.5, (took, recorded)


def test_every_shard_splits_the_same_way_whichever_ran_before(
    built: dict[str, Path], tmp_path: Path
) -> None:
    """Shards run one after another in one checkout: what shard 1 stored does not change
    the split shard 2 computes."""
    checkout = job(built["plain"], tmp_path / "checkout")
    first = run_docgen("build", "--shard", "2/2", "--force", cwd=checkout)
    for i in (1, 2):
        done = run_docgen("build", "--shard", f"{i}/2", "--force", cwd=checkout)
        assert done.returncode == 0, done.stderr
    assert shard_list(done.stdout) == shard_list(first.stdout)
    # The checkout's own cache, merged: nothing to copy, nothing runs, the site is written.
    merged = run_docgen("build", "--merge", CACHE_DIR, cwd=checkout)
    assert merged.returncode == 0, merged.stderr
    assert "merged 0 new cache entries" in merged.stderr and "ran " not in merged.stderr
    assert (checkout / "site" / "a_long.html").is_file()


def test_a_shard_with_nothing_to_run_still_leaves_a_cache_to_hand_on(tmp_path: Path) -> None:
    write_notebook(tmp_path / "doc_nbs" / "only.ipynb", "print(1)")
    done = run_docgen("build", "--shard", "2/2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "shard 2/2: 0 notebooks, 0.0 s expected of 60.0 s in all" in done.stdout
    assert (tmp_path / CACHE_DIR).is_dir() and not (tmp_path / "site").exists()


@pytest.mark.parametrize("value", ["0/2", "3/2", "x", "1/0", "2", "-1/2"])
def test_a_bad_shard_value_exits_2_and_says_what_is_wanted(tmp_path: Path, value: str) -> None:
    done = run_docgen("build", f"--shard={value}", cwd=tmp_path)
    assert done.returncode == 2
    assert "argument --shard: wants I/N, shard I of N with 1 <= I <= N (e.g. 1/4)" in done.stderr
    assert repr(value) in done.stderr
    assert "Traceback" not in done.stderr


def test_shard_and_merge_together_are_refused(tmp_path: Path) -> None:
    done = run_docgen("build", "--shard", "1/2", "--merge", tmp_path, cwd=tmp_path)
    assert done.returncode == 2
    assert "argument --merge: not allowed with argument --shard" in done.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--shard", "1/2", "--no-exec"], "--shard runs notebooks; it cannot be combined"),
        (["--merge", CACHE_DIR, "--no-exec"], "drop --no-exec"),
        (["--merge", CACHE_DIR, "--force"], "--force has nothing to do"),
    ],
)
def test_shard_and_merge_refuse_options_they_cannot_honour(
    tmp_path: Path, args: list[str], said: str
) -> None:
    make_project(tmp_path)
    (tmp_path / CACHE_DIR).mkdir()
    done = run_docgen("build", *args, cwd=tmp_path)
    assert done.returncode == 2
    assert said in done.stderr
    assert not (tmp_path / "site").exists()


def test_a_merge_of_a_folder_that_is_missing_exits_2_and_names_it(tmp_path: Path) -> None:
    make_project(tmp_path)
    done = run_docgen("build", "--merge", tmp_path / "gone", cwd=tmp_path)
    assert done.returncode == 2
    assert f"--merge {tmp_path / 'gone'}: does not exist" in done.stderr
    assert not (tmp_path / "site").exists()


def test_the_gpu_shard_needs_a_gpu(tmp_path: Path) -> None:
    make_project(tmp_path)
    if detect_machine(load_config(cwd=tmp_path)).gpus:
        pytest.skip("this machine has a GPU")
    done = run_docgen("build", "--shard", "gpu", cwd=tmp_path)
    assert done.returncode == 2
    assert "--shard gpu runs the notebooks that need a GPU, and this machine has none" in (
        done.stderr
    )


class Recording:
    """Runs nothing; remembers which notebooks it was given."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def run(self, jobs: list[Job], listener: Listener) -> list[ExecutionResult]:
        self.names += [job.path.stem for job in jobs]
        return [ExecutionResult(job.nb, 0.1, finished="2026-01-01T00:00:00Z") for job in jobs]


def test_the_gpu_shard_runs_only_the_notebooks_that_need_one(tmp_path: Path) -> None:
    config = load_config(cwd=make_project(tmp_path))
    on_a_gpu = Machine((Gpu(0, "Test GPU"),), {"python": "test", "gpus": "Test GPU"})
    announced: list[ShardReport] = []
    executor = Recording()
    run_shard(config, Shard(gpu=True), on_a_gpu, Silent(), announced.append, executor)
    assert executor.names == ["gpu"]
    assert list(announced[0].expected) == ["doc_nbs/gpu.ipynb"]
    numbered = Recording()
    run_shard(config, Shard(1, 1), on_a_gpu, Silent(), announced.append, numbered)
    assert sorted(numbered.names) == sorted(SLEEPS)  # the GPU notebook is not among them
    # Shards leave the recorded durations alone: the next shard splits as this one did.
    cache = ExecutionCache(config.root / CACHE_DIR)
    assert cache.recorded_seconds("doc_nbs/gpu.ipynb") is None
    assert len(list((cache.folder / "nb").rglob("*.ipynb"))) == len(SLEEPS) + 1


def test_the_split_is_greedy_longest_first_with_ties_by_path() -> None:
    seconds = {"e": 1.0, "a": 5.0, "d": 1.0, "b": 4.0, "c": 2.0}
    assert split_by_duration(seconds, 2) == [["a", "d", "e"], ["b", "c"]]
    assert split_by_duration({"y": 60.0, "x": 60.0, "z": 60.0}, 2) == [["x", "z"], ["y"]]
    assert split_by_duration({"x": 1.0}, 3) == [["x"], [], []]
    assert parse_shard(" 2 / 3 ") == Shard(2, 3) and parse_shard("GPU") == Shard(gpu=True)


@given(
    st.dictionaries(
        st.text("abcdef/", min_size=1, max_size=6),
        st.floats(0, 1000, allow_nan=False),
        max_size=40,
    ),
    st.integers(1, 6),
)
def test_every_split_covers_each_notebook_once_and_balances_within_the_longest(
    seconds: dict[str, float], count: int
) -> None:
    split = split_by_duration(seconds, count)
    assert len(split) == count
    assert sorted(p for shard in split for p in shard) == sorted(seconds)
    totals = [sum(seconds[p] for p in shard) for shard in split]
    assert max(totals) - min(totals) <= max(seconds.values(), default=0.0) + 1e-9
    assert split_by_duration(dict(reversed(list(seconds.items()))), count) == split
