"""Output images get meaningful alt text; markdown images keep their own."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from conftest import run_docgen, write_notebook
from nbformat.v4 import new_code_cell, new_output

from docgen.config import load_config
from docgen.pipeline import build

PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5Erk"
    "Jggg=="
)
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4">\n'
    "<title>Loss &amp; accuracy</title><rect width='4' height='4'/></svg>"
)


def image_cell(source: str = "plot()", metadata: dict | None = None, **output: object):
    cell = new_code_cell(source)
    cell.outputs = [
        new_output(
            "display_data",
            data=output.get("data", {"image/png": PNG, "text/plain": "<Figure>"}),
            metadata=output.get("out_metadata", {}),
        )
    ]
    cell.metadata.update(metadata or {})
    return cell


def alts(page: Path) -> list[str]:
    return [html.unescape(alt) for alt in re.findall(r'<img [^>]*alt="([^"]*)"', page.read_text())]


def test_alt_text_from_the_cell_the_output_and_the_figure(tmp_path: Path) -> None:
    write_notebook(
        tmp_path / "doc_nbs" / "index.ipynb",
        "md:# Plots\n\n![A diagram, as the author wrote](https://example.org/d.png)",
        image_cell('#| fig-alt: "Sine wave, One Period"\nplot()'),
        image_cell(metadata={"alt": "From the cell's metadata"}),
        image_cell(out_metadata={"image/png": {"alt": "From the output <b>itself</b>"}}),
        image_cell(data={"image/svg+xml": SVG}),
        image_cell(out_metadata={"title": "A titled figure"}),
        image_cell(),
        image_cell("#| fig-alt:\nplot()"),
    )
    build(load_config(cwd=tmp_path, overrides={"execute": False}), log=lambda _: None)
    assert alts(tmp_path / "site" / "index.html") == [
        "A diagram, as the author wrote",
        "Sine wave, One Period",
        "From the cell's metadata",
        "From the output <b>itself</b>",
        "Loss & accuracy",
        "A titled figure",
        "Output of cell 7",
        "Output of cell 8",
    ]


@pytest.mark.kernel
def test_an_executed_matplotlib_figure_gets_its_cells_alt_text(tmp_path: Path) -> None:
    write_notebook(
        tmp_path / "doc_nbs" / "index.ipynb",
        "md:# Plot",
        "#| fig-alt: A rising line\n%matplotlib inline\n"
        "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3]); plt.title('Rising')\nplt.show()",
        "plt.plot([3, 2, 1]); plt.show()",
    )
    result = run_docgen("build", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert alts(tmp_path / "site" / "index.html") == ["A rising line", "Output of cell 3"]
