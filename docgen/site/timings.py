"""How long each notebook and each slow cell took: `_timings.json` and `_timings.html`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docgen.model import Status
from docgen.site.theme import render_template

if TYPE_CHECKING:
    from docgen.config import Config
    from docgen.model import NotebookRun, Page


REPORT_JSON = "_timings.json"


REPORT_HTML = "_timings.html"


def _first_line(source: str) -> str:
    lines = [line for line in source.splitlines() if line.strip()]
    return lines[0][:100] if lines else ""


def timing_report(
    runs: Sequence[NotebookRun], workers: int, slow_cell: float, seconds: float
) -> dict[str, Any]:
    """Plain data for the report: per notebook, its slow cells, and the cache's hits."""
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
                "status": run.status.value,
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
        "cache": {"hits": statuses.count(Status.CACHED), "runs": statuses.count(Status.RAN)},
        "notebooks": notebooks,
    }


# Where the report goes unless `timings = "publish"`: build telemetry, not documentation.
CACHE_FOLDER = "timings"


def timing_files(
    report: dict[str, Any], pages: Sequence[Page], config: Config, root: str = ""
) -> dict[str, bytes]:
    """The report as `_timings.json` and `_timings.html`; `root` is the site's root as seen
    from the folder they are written to ("" at the site's root)."""
    from docgen import __version__
    from docgen.site.branding import branding_context
    from docgen.site.nav import navigation
    from docgen.site.theme import template_environment

    env = template_environment(config.templates)
    env.globals["theme"] = branding_context(config)
    html = render_template(
        env,
        "timings.html.jinja2",
        f"the timing report {REPORT_HTML}",
        site_title=config.title,
        nav=navigation(list(pages)),
        root=root,
        version=__version__,
        report=report,
    )
    return {
        REPORT_JSON: (json.dumps(report, indent=1) + "\n").encode(),
        REPORT_HTML: html.encode(),
    }


def write_cached_timings(report: dict[str, Any], pages: Sequence[Page], config: Config) -> Path:
    """Write the report to `.docgen_cache/timings/`, its links pointing into the site."""
    import os

    from docgen.config import CACHE_DIR

    folder = config.root / CACHE_DIR / CACHE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    root = Path(os.path.relpath(config.out, folder)).as_posix() + "/"
    for name, data in timing_files(report, pages, config, root).items():
        (folder / name).write_bytes(data)
    return folder
