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


def notebook(*sources: str) -> Any:
    return new_notebook(cells=[new_code_cell(source) for source in sources])


def sentence(
    status: Status, provenance: dict[str, Any], code: str = "import torch", **options: Any
) -> str:
    """The provenance paragraph the default theme writes, "" when it writes none."""
    data = page_provenance(NotebookRun(SOURCE, notebook(code), status, provenance), **options)
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
        (Status.RAN, {"python": "3.12.1", "seconds": 0.01}, "Ran on CPU with Python 3.12.1."),
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
    run = NotebookRun(SOURCE, notebook("1"), Status.RAN, {"device": "CPU", "seconds": 2.5})
    assert page_provenance(run) == {
        "device": "CPU",
        "seconds": 2.5,
        "packages": [],
        "status": Status.RAN,
    }


RECORDED = {
    "device": "CPU",
    "python": "3.12.1",
    "torch": "2.13.0+cpu",
    "cuda": "12.1",
    "packages": {"torch": "2.13.0+cpu", "numpy": "2.1.0"},
    "seconds": 2.0,
}


@pytest.mark.parametrize(
    "code, options, expected",
    [
        # a project that never imports torch: no torch on its pages, though it is installed
        ("print(1)", {}, "Ran on CPU with Python 3.12.1 in 2.0 s."),
        (
            "import torch.nn as nn",
            {},
            "Ran on CPU with Python 3.12.1, torch 2.13.0+cpu, CUDA 12.1 in 2.0 s.",
        ),
        (
            "#| echo: false\nfrom numpy import array\nimport torch",
            {"packages": ["numpy", "torch"]},
            "Ran on CPU with Python 3.12.1, numpy 2.1.0, torch 2.13.0+cpu, CUDA 12.1 in 2.0 s.",
        ),
        (
            "import numpy",
            {"packages": ["numpy", "torch"]},
            "Ran on CPU with Python 3.12.1, numpy 2.1.0 in 2.0 s.",
        ),
        ("%time import numpy", {"packages": ["numpy"]}, "Ran on CPU with Python 3.12.1 in 2.0 s."),
        ("import torch", {"run_line": False}, ""),  # turned off
        ("#| eval: false\nimport torch", {}, ""),  # no code ran: no run line
        ("", {}, ""),
    ],
)
def test_the_run_line_names_the_packages_the_notebook_imports(
    code: str, options: dict[str, Any], expected: str
) -> None:
    assert sentence(Status.RAN, RECORDED, code, **options) == expected


def test_turning_the_run_line_off_keeps_the_gpu_notices() -> None:
    expected = "Not executed: this notebook needs a GPU, and this build had none."
    assert sentence(Status.NOT_RUN, {}, run_line=False) == expected


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


@pytest.mark.kernel
def test_the_kernel_reports_the_configured_packages_the_notebook_imports(tmp_path: Path) -> None:
    import json

    (tmp_path / "pyproject.toml").write_text(
        '[tool.docgen]\nrun_line_packages = ["json", "wave"]\n'
    )
    nbs = tmp_path / "doc_nbs"
    write_notebook(nbs / "index.ipynb", "md:# Home", "import json\nprint(json.dumps(1))")
    write_notebook(nbs / "prose.ipynb", "md:# Prose only")
    write_notebook(nbs / "skipped.ipynb", "md:# Skipped", "#| eval: false\nimport json")
    build(load_config(cwd=tmp_path), log=lambda _: None, machine=Machine((), {}))
    site = tmp_path / "site"
    home = (site / "index.html").read_text()
    assert f"with Python {'.'.join(map(str, __import__('sys').version_info[:3]))}, " in home
    assert f"json {json.__version__} " in home and "wave" not in home
    for name in ("prose.html", "skipped.html"):  # no code ran there: no run line
        assert 'class="provenance"' not in (site / name).read_text()
    recorded = json.loads((site / "index.ipynb").read_text())["metadata"]["docgen"]
    assert recorded["provenance"]["packages"] == {"json": json.__version__}
