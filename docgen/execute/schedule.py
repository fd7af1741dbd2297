"""In which order notebooks run, and how they are split between CI shards.

Both come from the seconds each notebook's latest run took, as the execution cache
records them (cache.py, `durations/`), or `UNKNOWN_SECONDS` for a notebook never run.
Running the longest first keeps one long notebook from starting last and leaving the
other workers idle at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
