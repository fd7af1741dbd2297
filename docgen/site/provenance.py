"""Where a page's outputs came from, as the fields and the sentence its template shows."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass
from docgen.model import GPU_OUTPUTS, NOT_RUN, NotebookRun


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def page_provenance(run: NotebookRun) -> dict[str, str]:
    """What a page says about where its outputs came from; `summary` is the sentence shown."""
    p = run.provenance
    date = str(p.get("date", ""))[:10]
    if run.status == NOT_RUN:
        summary = "Not executed: this notebook needs a GPU, and this build had none."
    elif run.status == GPU_OUTPUTS:
        summary = (
            f"Outputs from a GPU run on {date}, {p.get('device', 'unknown device')}."
            if date
            else "Outputs stored in the notebook: it needs a GPU, and this build had none."
        )
    elif p:
        labels = (("python", "Python"), ("torch", "torch"), ("cuda", "CUDA"))
        versions = ", ".join(f"{label} {p[key]}" for key, label in labels if p.get(key))
        summary = (
            f"Ran on {p.get('device', 'CPU')}"
            + (f" with {versions}" if versions else "")
            + f" in {_duration(float(p.get('seconds', 0.0)))}"
            + (f" on {date}" if date else "")
            + "."
        )
    else:
        return {}
    return {**{k: str(v) for k, v in p.items()}, "status": run.status, "summary": summary}
