"""In which order notebooks run, and how they are split between CI shards.

Both come from the seconds each notebook's latest run took, as the execution cache
records them (cache.py, `durations/`), or `UNKNOWN_SECONDS` for a notebook never run.
Running the longest first keeps one long notebook from starting last and leaving the
other workers idle at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

UNKNOWN_SECONDS = 60.0

T = TypeVar("T")


def expected_seconds(
    paths: Sequence[str], recorded: Callable[[str], float | None]
) -> dict[str, float]:
    """Each project path's expected seconds: `recorded(path)`, or `UNKNOWN_SECONDS`."""
    expected = {}
    for path in paths:
        seconds = recorded(path)
        expected[path] = UNKNOWN_SECONDS if seconds is None else seconds
    return expected


def longest_first(
    items: Sequence[T], path_of: Callable[[T], str], seconds: Mapping[str, float]
) -> list[T]:
    """`items` by expected seconds, longest first; ties by path, so the order is the same
    on every machine."""
    return sorted(items, key=lambda item: (-seconds[path_of(item)], path_of(item)))


def split_by_duration(seconds: Mapping[str, float], shards: int) -> list[list[str]]:
    """The paths in `seconds` split into `shards` lists of about equal expected time.

    Greedy, longest first: each path goes to the shard with the least time so far (the
    lowest-numbered of equal ones), paths of equal time in path order. The result depends
    on `seconds` alone, so every shard computes the same split. Each shard's total is
    within the longest notebook's time of any other's.
    """
    split: list[list[str]] = [[] for _ in range(shards)]
    totals = [0.0] * shards
    for path in longest_first(list(seconds), str, seconds):
        lightest = min(range(shards), key=lambda n: (totals[n], n))
        split[lightest].append(path)
        totals[lightest] += seconds[path]
    return split


GPU = "gpu"


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (from 1), or the GPU notebooks' shard (`gpu`)."""

    index: int = 1
    count: int = 1
    gpu: bool = False

    def __str__(self) -> str:
        return GPU if self.gpu else f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """`I/N` (1 <= I <= N) or `gpu`; a `ValueError` that says what is wanted otherwise."""
    if text.strip().lower() == GPU:
        return Shard(gpu=True)
    found = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    index, count = (int(found[1]), int(found[2])) if found else (0, 0)
    if not found or count < 1 or not 1 <= index <= count:
        raise ValueError(
            f"wants I/N, shard I of N with 1 <= I <= N (e.g. 1/4), or 'gpu' for the "
            f"notebooks that need a GPU; not {text!r}"
        )
    return Shard(index, count)
