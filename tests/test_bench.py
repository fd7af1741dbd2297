"""`make bench` runs every script under bench/, so each README figure has a command behind it."""

from __future__ import annotations

import re

from conftest import REPO


def bench_recipe() -> list[str]:
    makefile = (REPO / "Makefile").read_text()
    match = re.search(r"^bench:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert match, "the Makefile has no bench target"
    return match.group(1).splitlines()


def test_make_bench_runs_every_bench_script() -> None:
    run = {m.group(1) for line in bench_recipe() if (m := re.search(r"(bench/\w+\.py)", line))}
    scripts = {p.relative_to(REPO).as_posix() for p in (REPO / "bench").glob("*.py")}
    assert scripts - run == set(), f"make bench does not run {sorted(scripts - run)}"
