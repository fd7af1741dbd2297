"""Where a page's outputs came from: data from the execute stage, words from the template
(templates/provenance.html.jinja2), which a user's templates folder can replace."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from conftest import write_notebook
from nbformat.v4 import new_code_cell, new_notebook, new_output

from docgen.config import load_config
from docgen.execute.stage import Machine
from docgen.model import NotebookRun, Source, Status
from docgen.pipeline import build
from docgen.site.provenance import page_provenance
from docgen.site.theme import template_environment

SOURCE = Source(Path("/nbs/a.ipynb"), PurePosixPath("a.ipynb"), "a.html")
DATE = "2026-01-02T03:04:05Z"


def sentence(status: Status, provenance: dict[str, Any]) -> str:
    """The provenance paragraph the default theme writes, "" when it writes none."""
    data = page_provenance(NotebookRun(SOURCE, new_notebook(), status, provenance))
    template = template_environment(None).from_string(
        '{% from "provenance.html.jinja2" import provenance_sentence %}'
        "{% if p %}{{ provenance_sentence(p) }}{% endif %}"
    )
    return template.render(p=data)


@pytest.mark.parametrize(
    "status, provenance, expected",
    [
        (
            Status.RAN,
            {"device": "CPU", "python": "3.11.2", "seconds": 1.234, "date": DATE},
            "Ran on CPU with Python 3.11.2 in 1.2 s on 2026-01-02.",
        ),
        (
            Status.CACHED,
            {"device": "A & B", "python": "3.11.2", "torch": "2.3.0", "cuda": "12.1"}
            | {"cuda_used": True, "seconds": 125.5, "date": DATE},
            "Ran on A &amp; B with Python 3.11.2, torch 2.3.0, CUDA 12.1 in 2 min 6 s on "
            "2026-01-02.",
        ),
        (
            Status.RAN,
            {"device": "CPU", "torch": "2.1", "seconds": 90},
            "Ran on CPU with torch 2.1 in 1 min 30 s.",
        ),
        (Status.RAN, {"seconds": 59.96}, "Ran on CPU in 60.0 s."),
        (
            Status.GPU_OUTPUTS,
            {"device": "NVIDIA H100 80GB HBM3", "date": DATE},
            "Outputs from a GPU run on 2026-01-02, NVIDIA H100 80GB HBM3.",
        ),
        (
            Status.GPU_OUTPUTS,
            {"date": DATE},
            "Outputs from a GPU run on 2026-01-02, unknown device.",
        ),
        (
            Status.GPU_OUTPUTS,
            {},
            "Outputs stored in the notebook: it needs a GPU, and this build had none.",
        ),
        (Status.NOT_RUN, {}, "Not executed: this notebook needs a GPU, and this build had none."),
        (Status.NO_CODE, {}, ""),
        (Status.RAN, {}, ""),  # a run that recorded nothing says nothing
    ],
)
def test_the_theme_words_each_status(
    status: Status, provenance: dict[str, Any], expected: str
) -> None:
    assert sentence(status, provenance) == expected


def test_the_page_gets_data_not_a_sentence() -> None:
    run = NotebookRun(SOURCE, new_notebook(), Status.RAN, {"device": "CPU", "seconds": 2.5})
    assert page_provenance(run) == {"device": "CPU", "seconds": 2.5, "status": Status.RAN}


def test_a_users_template_rewords_the_provenance(tmp_path: Path) -> None:
    """A notebook that needs a GPU, on a machine without one, shows its stored outputs:
    no kernel starts, and the page's provenance comes from the user's template."""
    cell = new_code_cell("print('gpu')", execution_count=1)
    cell.metadata["tags"] = ["requires-cuda"]
    cell.outputs = [new_output("stream", name="stdout", text="gpu\n")]
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# GPU", cell)
    (tmp_path / "pyproject.toml").write_text('[tool.docgen]\ntemplates = "theme"\n')
    (tmp_path / "theme").mkdir()
    (tmp_path / "theme" / "provenance.html.jinja2").write_text(
        "{% macro provenance_sentence(p) %}Stored: {{ p.status.name }} ({{ p.status }})"
        "{% endmacro %}\n"
    )
    build(load_config(cwd=tmp_path), log=lambda _: None, machine=Machine((), {}))
    page = (tmp_path / "site" / "index.html").read_text()
    assert '<p class="provenance">Stored: GPU_OUTPUTS (outputs of a GPU run)</p>' in page
