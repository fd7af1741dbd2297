"""nbdev directives never reach the page, in code cells and in markdown cells, and act as
nbdev's docs have them act."""

from __future__ import annotations

import pytest
from conftest import write_notebook
from nbformat.v4 import new_code_cell, new_markdown_cell

from docgen.config import load_config
from docgen.notebooks.cells import cell_options, parse_directives
from docgen.pipeline import build


@pytest.mark.parametrize(
    "source, directives, rest",
    [
        ("#| default_exp core\n", {"default_exp": "core"}, ""),
        ("#| export\ndef f(): pass", {"export": ""}, "def f(): pass"),
        ("#|exporti\n\n#| hide\nx = 1", {"exporti": "", "hide": ""}, "x = 1"),
        ("#| eval: false\n%%time\nx", {"eval": "false"}, "%%time\nx"),
        ("\n#| export\n# Heading\ntext", {"export": ""}, "# Heading\ntext"),
        ("# Title\n#| hide", {}, "# Title\n#| hide"),
    ],
)
def test_directives_as_nbdev_reads_them(source, directives, rest):
    assert parse_directives(source) == (directives, rest)


@pytest.mark.parametrize("directive", ["hide", "exporti", "default_exp core"])
def test_hiding_directives_take_the_cell_off_the_page(directive):
    assert not cell_options(new_code_cell(f"#| {directive}\nx = 1")).show_cell


def test_export_cells_and_hide_false_stay():
    assert cell_options(new_code_cell("#| export\ndef f(): pass")).show_cell
    assert cell_options(new_code_cell("#| hide: false\nx")).show_cell


def test_directives_in_metadata_count():
    cell = new_code_cell("x = 1", metadata={"nbdev": {"hide": "true"}})
    assert not cell_options(cell).show_cell
    assert not cell_options(new_markdown_cell("#| hide\nSecret")).show_cell


def test_no_directive_text_on_the_page(tmp_path):
    nbs = tmp_path / "doc_nbs"
    write_notebook(
        nbs / "core.ipynb",
        "md:# Core\n\n> The core module",
        "#| default_exp core",
        "#| export\ndef visible_function():\n    return 1",
        "#| exporti\ndef _internal_helper():\n    return 2",
        "#| hide\nfrom nbdev import nbdev_export\nnbdev_export()",
        "md:#| export\n## Exported section\n\nSome prose.",
        "#| echo: false\nx = 3  # nothing shown, no output: the cell disappears",
        "y = 4\nprint('secret' if False else 'shown')  #| hide_line\nprint('visible')",
    )
    build(load_config(cwd=tmp_path, overrides={"execute": False}), log=lambda _: None)
    page = (tmp_path / "site" / "core.html").read_text()
    body = page[page.index("<main") :]
    assert "#|" not in body and "#</span><span" not in body and "| export" not in body
    assert "visible_function" in body
    assert "_internal_helper" not in body and "nbdev_export" not in body
    assert "Exported section" in body and "Some prose" in body
    assert 'id="exported-section"' in body or "exported-section" in body
    assert "x = 3" not in body
    assert "shown" not in body and "visible" in body
    assert body.count('class="cell code-cell"') == 2  # the export cell and `y = 4 ...`
