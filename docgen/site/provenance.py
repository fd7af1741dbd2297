"""Where a page's outputs came from, as the data its template words (provenance.html.jinja2)."""

from __future__ import annotations

from typing import Any

from docgen.model import NotebookRun, Status

# The statuses a page says something about; a page without code says nothing.
_SHOWN = (Status.RAN, Status.CACHED, Status.GPU_OUTPUTS, Status.NOT_RUN, Status.EXCLUDED)


def page_provenance(run: NotebookRun) -> dict[str, Any]:
    """The page's `provenance`: `status` (a `Status`) and what the run recorded: `device`,
    `python`, `torch`, `cuda`, `seconds`, `date` (UTC, ISO 8601). Empty when there is
    nothing to say: no code, or outputs from a run that recorded nothing."""
    if run.status not in _SHOWN:
        return {}
    if run.status in (Status.RAN, Status.CACHED) and not run.provenance:
        return {}
    return {**run.provenance, "status": run.status}
