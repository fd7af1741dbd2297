"""Where a page's outputs came from, as the data its template words (provenance.html.jinja2)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from docgen.execute.localimports import imported_names
from docgen.model import NotebookRun, Status
from docgen.notebooks.cells import cell_options

# The statuses a page says something about; a page without code says nothing.
_SHOWN = (
    Status.RAN,
    Status.CACHED,
    Status.GPU_OUTPUTS,
    Status.NOT_RUN,
    Status.EXCLUDED,
    Status.HELD,
)
_EXECUTED = (Status.RAN, Status.CACHED)


def _code_that_ran(run: NotebookRun) -> list[str]:
    return [
        c.source
        for c in run.nb.cells
        if c.cell_type == "code" and c.source.strip() and cell_options(c).execute
    ]


def page_provenance(
    run: NotebookRun, run_line: bool = True, packages: Sequence[str] = ("torch",)
) -> dict[str, Any]:
    """The page's `provenance`: `status` (a `Status`) and what the run recorded: `device`,
    `python`, `seconds`, `date` (UTC, ISO 8601), and `packages`: (name, version) of those
    of `packages` the notebook imports, in their order (`cuda` with torch). Empty when there
    is nothing to say: no code ran, the run line is off (`run_line`), or the run recorded
    nothing."""
    if run.status not in _SHOWN:
        return {}
    if run.status in _EXECUTED:
        code = _code_that_ran(run)
        if not run_line or not run.provenance or not code:
            return {}
        imported = imported_names(code)
        recorded = dict(run.provenance.get("packages") or {})
        if run.provenance.get("torch"):  # recorded by every docgen version
            recorded.setdefault("torch", run.provenance["torch"])
        # named when the notebook imports it and the kernel had it loaded (so a version)
        named = [
            (name, str(recorded[name]))
            for name in packages
            if name in imported and recorded.get(name)
        ]
        shown: dict[str, Any] = {
            key: run.provenance[key]
            for key in ("device", "python", "seconds", "date")
            if key in run.provenance
        }
        if run.provenance.get("cuda") and any(name == "torch" for name, _ in named):
            shown["cuda"] = run.provenance["cuda"]
        return {**shown, "packages": named, "status": run.status}
    return {**run.provenance, "status": run.status}
