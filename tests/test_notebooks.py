"""Reading notebooks: bad files fail with the file and the reason; old formats are converted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_docgen, write_notebook

from docgen.errors import DocgenError
from docgen.notebooks.cells import cell_options, parse_directives
from docgen.notebooks.discover import discover_notebooks
from docgen.notebooks.read import read_notebook

BAD_FILES = {
    "empty.ipynb": (b"", "is empty, not a notebook"),
    "truncated.ipynb": (b'{"cells": [{"cell_type": "mark', "invalid JSON at line 1"),
    "binary.ipynb": (bytes(range(256)) * 4, "not UTF-8 text"),
    "list.ipynb": (b"[1, 2, 3]", "is JSON but not a notebook"),
    "not-a-notebook.ipynb": (b'{"name": "package.json"}', "is JSON but not a notebook"),
    "invalid.ipynb": (
        json.dumps(
            {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"x": 1}]}
        ).encode(),
        "is not a valid notebook",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_is_a_clear_error(tmp_path: Path, name: str) -> None:
    data, reason = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(DocgenError) as e:
        read_notebook(path)
    assert str(path) in str(e.value) and reason in str(e.value)


def test_build_lists_every_bad_file_without_a_traceback(tmp_path: Path) -> None:
    nbs = tmp_path / "doc_nbs"
    write_notebook(nbs / "index.ipynb", "md:# Fine")
    for name, (data, _) in BAD_FILES.items():
        (nbs / name).write_bytes(data)
    result = run_docgen("build", "--no-exec", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for name, (_, reason) in BAD_FILES.items():
        assert f"{nbs / name}: " in result.stderr and reason in result.stderr
    assert not (tmp_path / "site").exists()


def test_nbformat_3_is_converted(tmp_path: Path) -> None:
    v3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {"name": "old"},
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "heading", "level": 1, "metadata": {}, "source": "Old notebook"},
                    {
                        "cell_type": "code",
                        "language": "python",
                        "input": "print('v3')",
                        "metadata": {},
                        "outputs": [{"output_type": "stream", "stream": "stdout", "text": "v3\n"}],
                        "prompt_number": 1,
                    },
                ]
            }
        ],
    }
    (tmp_path / "doc_nbs").mkdir()
    (tmp_path / "doc_nbs" / "index.ipynb").write_text(json.dumps(v3))
    nb = read_notebook(tmp_path / "doc_nbs" / "index.ipynb")
    assert nb.nbformat == 4 and nb.cells[1].source == "print('v3')"
    result = run_docgen("build", "--no-exec", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "site" / "index.html").read_text()
    assert "<title>Old notebook" in page and "v3\n</pre>" in page


def test_discovery_orders_by_numeric_prefix_and_strips_it_from_urls(tmp_path: Path) -> None:
    for rel in [
        "index.ipynb",
        "10_later.ipynb",
        "02_second.ipynb",
        "guide/index.ipynb",
        "guide/01_start.ipynb",
        ".ipynb_checkpoints/index-checkpoint.ipynb",
        "_drafts/x.ipynb",
    ]:
        write_notebook(tmp_path / rel, "md:# x")
    urls = [s.url for s in discover_notebooks(tmp_path)]
    assert urls == [
        "index.html",
        "second.html",
        "later.html",
        "guide/index.html",
        "guide/start.html",
    ]


def test_explicit_nav_order_comes_first(tmp_path: Path) -> None:
    for rel in ["index.ipynb", "a.ipynb", "b.ipynb"]:
        write_notebook(tmp_path / rel, "md:# x")
    urls = [s.url for s in discover_notebooks(tmp_path, ["b.ipynb", "index.ipynb"])]
    assert urls == ["b.html", "index.html", "a.html"]
    with pytest.raises(DocgenError, match="nav lists nope.ipynb"):
        discover_notebooks(tmp_path, ["nope.ipynb"])


def test_two_notebooks_for_one_page_are_an_error(tmp_path: Path) -> None:
    write_notebook(tmp_path / "01_intro.ipynb", "md:# x")
    write_notebook(tmp_path / "02_intro.ipynb", "md:# x")
    with pytest.raises(DocgenError, match="would both become the page intro.html"):
        discover_notebooks(tmp_path)


@pytest.mark.parametrize(
    "source, expected",
    [
        ("#| hide\nx = 1", {"hide": ""}),
        ("#|echo: false\n#| output:False\nx", {"echo": "false", "output": "false"}),
        ("# | eval: false\nx", {"eval": "false"}),
        ("x = 1\n#| hide", {}),  # only leading lines are directives
    ],
)
def test_parse_directives(source: str, expected: dict[str, str]) -> None:
    directives, rest = parse_directives(source)
    assert directives == expected
    assert "#|" not in rest or not expected


def test_cell_options_from_tags_and_directives() -> None:
    from nbformat.v4 import new_code_cell, new_markdown_cell

    assert not cell_options(new_code_cell("#| hide\nx")).show_cell
    assert cell_options(new_code_cell("#| hide\nx")).execute
    assert not cell_options(new_code_cell("#| eval: false\nx")).execute
    assert not cell_options(new_code_cell("#| echo: false\nx")).show_input
    assert not cell_options(new_code_cell("#| output: false\nx")).show_output
    tagged = new_code_cell("x", metadata={"tags": ["hide-input", "raises-exception"]})
    assert cell_options(tagged).collapse_input and cell_options(tagged).may_raise
    assert not cell_options(new_markdown_cell("x")).execute


def _v4(minor: int = 5, **changes: object) -> dict:
    cell = {"cell_type": "markdown", "id": "a", "metadata": {}, "source": "# A"}
    code = {
        "cell_type": "code",
        "id": "b",
        "metadata": {},
        "source": "1",
        "execution_count": None,
        "outputs": [],
    }
    nb = {"nbformat": 4, "nbformat_minor": minor, "metadata": {}, "cells": [cell, code]}
    nb.update(changes)
    return nb


SCHEMA_CASES = {
    "valid 4.5": _v4(),
    "valid 4.4 without ids": _v4(
        4,
        cells=[
            {"cell_type": "markdown", "metadata": {}, "source": ["# A\n", "b"]},
            {"cell_type": "raw", "metadata": {"format": "text/x"}, "source": "r"},
        ],
    ),
    "unknown top-level key": _v4(extra=1),
    "code cell without outputs": _v4(
        cells=[{"cell_type": "code", "id": "b", "metadata": {}, "source": "1"}]
    ),
    "source of the wrong type": _v4(
        cells=[{"cell_type": "markdown", "id": "a", "metadata": {}, "source": 3}]
    ),
    "bad output type": _v4(
        cells=[
            {
                "cell_type": "code",
                "id": "b",
                "metadata": {},
                "source": "1",
                "execution_count": 1,
                "outputs": [{"output_type": "nonsense"}],
            }
        ]
    ),
    "cell id with a space": _v4(
        cells=[{"cell_type": "markdown", "id": "a b", "metadata": {}, "source": "x"}]
    ),
}


@pytest.mark.parametrize("name", sorted(SCHEMA_CASES))
def test_the_quick_schema_check_agrees_with_nbformat(name: str) -> None:
    import nbformat

    from docgen.notebooks.node import loads_v4
    from docgen.notebooks.schema import quick_valid

    text = json.dumps(SCHEMA_CASES[name])
    try:
        nbformat.validate(nbformat.reader.reads(text))
        valid = True
    except nbformat.ValidationError:
        valid = False
    assert quick_valid(loads_v4(text)) is valid


@pytest.mark.parametrize("name", sorted(SCHEMA_CASES))
def test_read_notebook_reads_as_nbformat_does(tmp_path: Path, name: str) -> None:
    """Valid notebooks read as nbformat reads them; invalid ones fail with nbformat's reason."""
    import nbformat

    text = json.dumps(SCHEMA_CASES[name])
    path = tmp_path / "nb.ipynb"
    path.write_text(text)
    try:
        expected = nbformat.reader.reads(text)
        nbformat.validate(expected)
    except nbformat.ValidationError as e:
        if name in REPAIRED:  # Jupyter opens it: built after a repair, with a warning
            told: list[str] = []
            read_notebook(path, warn=told.append)
            assert told and "missing cell field" in told[0]
            return
        with pytest.raises(DocgenError) as raised:
            read_notebook(path)
        assert str(raised.value) == f"{path}: is not a valid notebook: {e.message.splitlines()[0]}"
        return
    assert read_notebook(path) == expected


REPAIRED = {"code cell without outputs"}


def test_missing_or_repeated_cell_ids_are_repaired_as_nbformat_does(tmp_path: Path) -> None:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": "no id"},
        {"cell_type": "markdown", "id": "x", "metadata": {}, "source": "one"},
        {"cell_type": "markdown", "id": "x", "metadata": {}, "source": "two"},
    ]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(_v4(cells=cells)))
    validated: set[str] = set()
    with pytest.warns(Warning):
        nb = read_notebook(path, validated)
    ids = [cell["id"] for cell in nb["cells"]]
    assert len(set(ids)) == 3 and ids[1] == "x"
    assert not validated  # a repaired notebook is never read the quick way


def test_reading_a_valid_notebook_does_not_import_nbformat(tmp_path: Path) -> None:
    """nbformat's import loads jsonschema's format checkers, most of a second in a user's
    environment (rfc3987-syntax builds a grammar when imported)."""
    import subprocess
    import sys

    path = write_notebook(tmp_path / "nb.ipynb", "md:# Title", "print(1)")
    script = (
        "import sys; from pathlib import Path; from docgen.notebooks.read import read_notebook;"
        f"nb = read_notebook(Path({str(path)!r})); print(len(nb.cells), 'nbformat' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["2", "False"]


@pytest.mark.parametrize(
    "name, stripped",
    [
        ("05.13-Kernel-Density-Estimation", "Kernel-Density-Estimation"),
        ("03a_data", "data"),
        ("000_index", "index"),
        ("01_flip", "flip"),
        ("1.2 intro", "intro"),
        ("3d_plots", "3d_plots"),
        ("2024", "2024"),
    ],
)
def test_whole_numeric_prefix_is_stripped(name: str, stripped: str) -> None:
    from docgen.notebooks.discover import strip_prefix

    assert strip_prefix(name) == stripped


def test_dotted_chapter_names_that_collide_are_refused(tmp_path: Path) -> None:
    write_notebook(tmp_path / "05.13-Density.ipynb", "md:# x")
    write_notebook(tmp_path / "06.01-Density.ipynb", "md:# x")
    with pytest.raises(DocgenError, match="05.13-Density.ipynb and 06.01-Density.ipynb would both"):
        discover_notebooks(tmp_path)
