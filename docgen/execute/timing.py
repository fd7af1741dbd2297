"""Cell durations from nbclient's `record_timing` metadata, and notebooks without it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from docgen.notebooks.node import NotebookNode, from_dict

if TYPE_CHECKING:
    import nbformat


def _parse_time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def cell_seconds(nb: nbformat.NotebookNode) -> list[tuple[int, float]]:
    """(cell index, seconds) of each cell that ran, from nbclient's timing metadata."""
    found = []
    for index, cell in enumerate(nb.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        start = timing.get("iopub.execute_input") or timing.get("iopub.status.busy")
        end = timing.get("shell.execute_reply") or timing.get("iopub.status.idle")
        if not (start and end):
            continue
        try:
            seconds = (_parse_time(end) - _parse_time(start)).total_seconds()
        except (TypeError, ValueError):
            continue
        found.append((index, max(0.0, seconds)))
    return found


def without_timing(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy without per-cell timestamps, which would make every build's copy differ.

    The copy shares its outputs with `nb`: neither is changed after this."""
    if not any("execution" in c.get("metadata", {}) for c in nb.cells):
        return nb
    # Only the cells that change are copied: a deep copy of every cell of every cached
    # notebook was a good part of a build that runs nothing.
    cells = []
    for cell in nb.cells:
        if "execution" in cell.get("metadata", {}):
            metadata = {k: v for k, v in cell.metadata.items() if k != "execution"}
            cell = NotebookNode(cell, metadata=NotebookNode(metadata))
        cells.append(cell)
    copy: Any = NotebookNode(nb, metadata=from_dict(nb.metadata), cells=cells)
    return copy  # the same data as nbformat's node
