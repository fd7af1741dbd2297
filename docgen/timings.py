"""How long each notebook and each slow cell took: `_timings.json` and `_timings.html`.

Cell durations come from nbclient's `record_timing` metadata (`cell.metadata.execution`),
which the cache keeps with the outputs, so a cache hit still reports how long the cells
took when they ran. Pages and their notebook copies carry no such metadata.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import nbformat

from .theme import render_template

if TYPE_CHECKING:
    from .config import Config
    from .execute import NotebookRun
    from .site import Page

REPORT_JSON = "_timings.json"
REPORT_HTML = "_timings.html"


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
    """A copy without per-cell timestamps, which would make every build's copy differ."""
    if not any("execution" in c.get("metadata", {}) for c in nb.cells):
        return nb
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)
    return nb


def _first_line(source: str) -> str:
    lines = [line for line in source.splitlines() if line.strip()]
    return lines[0][:100] if lines else ""


def timing_report(
    runs: Sequence[NotebookRun], workers: int, slow_cell: float, seconds: float
) -> dict[str, Any]:
    """Plain data for the report: per notebook, its slow cells, and the cache's hits."""
    from .execute import CACHED, RAN  # execute imports this module
    notebooks = []
    for run in runs:
        slow = [
            {
                "cell": index + 1,
                "seconds": round(took, 3),
                "source": _first_line(run.nb.cells[index].source),
            }
            for index, took in sorted(run.cells, key=lambda c: -c[1])
            if took >= slow_cell
        ]
        notebooks.append(
            {
                "notebook": run.source.rel.as_posix(),
                "page": run.source.url,
                "status": run.status,
                "seconds": round(run.seconds, 3),
                "kernel_wait": round(run.kernel_wait, 3),
                "device": run.provenance.get("device", ""),
                "date": run.provenance.get("date", ""),
                "slow_cells": slow,
            }
        )
    statuses = [run.status for run in runs]
    return {
        "workers": workers,
        "slow_cell_seconds": slow_cell,
        "execute_seconds": round(seconds, 3),
        "cache": {"hits": statuses.count(CACHED), "runs": statuses.count(RAN)},
        "notebooks": notebooks,
    }


def timing_files(report: dict[str, Any], pages: Sequence[Page], config: Config) -> dict[str, bytes]:
    """The report as `_timings.json` and `_timings.html`, at the site's root."""
    from . import __version__
    from .site import navigation, template_environment

    html = render_template(
        template_environment(config.templates),
        "timings.html.jinja2",
        f"the timing report {REPORT_HTML}",
        site_title=config.title,
        nav=navigation(list(pages)),
        root="",
        version=__version__,
        report=report,
    )
    return {
        REPORT_JSON: (json.dumps(report, indent=1) + "\n").encode(),
        REPORT_HTML: html.encode(),
    }
