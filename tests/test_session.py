"""The build session: what a rebuild reuses, what it renders again, and that reuse never
changes the site."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import nbformat
import pytest
from conftest import run_python, snapshot, write_notebook
from nbformat.v4 import new_code_cell, new_output

from docgen.config import load_config
from docgen.notebooks.node import dumps_v4, loads_v4
from docgen.pipeline import BuildReport, build
from docgen.session.session import SESSION_DIR, BuildSession

FIXTURES = Path(__file__).parent / "fixtures" / "golden"

MARKER_PACKAGE = """\
\"\"\"A package that says when it is imported.\"\"\"
import os, pathlib
pathlib.Path(os.environ["IMPORT_MARKER"]).write_text("imported")


def scale(x: float, by: float = 2.0) -> float:
    \"\"\"Multiply `x`.\"\"\"
    return x * by
"""


def _project(root: Path) -> Path:
    nbs = root / "doc_nbs"
    shown = new_code_cell("import mypkg\nmypkg.scale(2)", execution_count=1)
    shown.outputs = [new_output("execute_result", data={"text/plain": "4.0"}, execution_count=1)]
    write_notebook(nbs / "index.ipynb", "md:# Home\n\nSee [setup](guide.ipynb#setup).", shown)
    write_notebook(
        nbs / "guide.ipynb", "md:# Guide\n\n## Setup\n\nCall `mypkg.scale`.", "import mypkg"
    )
    write_notebook(nbs / "other.ipynb", "md:# Other\n\n![logo](logo.svg)")
    (nbs / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    (root / "mypkg").mkdir()
    (root / "mypkg" / "__init__.py").write_text(MARKER_PACKAGE)
    (root / "pyproject.toml").write_text(
        '[tool.docgen]\ntitle = "T"\npackages = ["mypkg"]\nexecute = false\n'
    )
    return root


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = _project(tmp_path / "project")
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setenv("IMPORT_MARKER", str(tmp_path / "imported"))
    return root


def _build(root: Path, session: BuildSession | None = None, **overrides: object) -> BuildReport:
    logs: list[str] = []
    report = build(load_config(cwd=root, overrides=overrides), log=logs.append, session=session)
    report.warnings[:0] = [line for line in logs if line.startswith("warning: ")]
    return report


def _edit_markdown(path: Path, old: str, new: str) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace(old, new)
    nbformat.write(nb, path)


def test_a_noop_build_renders_nothing(project: Path) -> None:
    first = _build(project)
    assert sorted(first.rendered) == [
        "api/index.html",
        "api/mypkg.html",
        "guide.html",
        "index.html",
        "other.html",
    ]
    assert (project / SESSION_DIR).is_dir()
    again = _build(project)
    assert again.rendered == []
    assert [p.url for p in again.pages] == [p.url for p in first.pages]


def test_a_prose_edit_renders_only_that_page(project: Path) -> None:
    _build(project)
    before = snapshot(project / "site")
    # Rename the heading another page links into: that page's HTML does not change (a link
    # is written as it is, `docgen check` finds broken anchors), so it is not rendered.
    _edit_markdown(project / "doc_nbs" / "guide.ipynb", "## Setup", "## Installing")
    report = _build(project)
    assert report.rendered == ["guide.html"]
    after = snapshot(project / "site")
    assert after["index.html"] == before["index.html"]
    assert b'id="installing"' in after["guide.html"]
    fresh = _build(project, BuildSession(), out=Path("fresh"))
    assert fresh.rendered  # a new session reuses nothing
    assert snapshot(project / "fresh") == after


def test_a_changed_title_rewraps_every_page_without_rendering_it(project: Path) -> None:
    _build(project)
    _edit_markdown(project / "doc_nbs" / "guide.ipynb", "# Guide", "# The guide")
    report = _build(project)
    assert report.rendered == ["guide.html"]
    for page in ("index.html", "other.html", "api/mypkg.html"):
        assert "The guide" in (project / "site" / page).read_text()


def test_a_changed_image_file_renders_the_page_that_shows_it(project: Path) -> None:
    _build(project)
    (project / "doc_nbs" / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><g/></svg>'
    )
    assert _build(project).rendered == ["other.html"]


def test_reuse_never_changes_the_site(project: Path) -> None:
    _build(project, out=Path("first"))
    _build(project, out=Path("first"))  # every page reused
    _edit_markdown(project / "doc_nbs" / "index.ipynb", "See", "Read")
    reused = _build(project, out=Path("first"))
    fresh = _build(project, BuildSession(), out=Path("fresh"))
    assert reused.rendered == ["index.html"] and len(fresh.rendered) == 5
    assert snapshot(project / "first") == snapshot(project / "fresh")


def test_corrupt_or_stale_entries_are_rebuilt_with_a_warning(project: Path) -> None:
    _build(project)
    expected = snapshot(project / "site")
    entries = sorted((project / SESSION_DIR / "pages").glob("*.json"))
    assert len(entries) == 5
    entries[0].write_text('{"format": 1, "kind": "pag')  # cut short
    stale = json.loads(entries[1].read_text())
    entries[1].write_text(json.dumps({**stale, "format": 0}))
    (project / SESSION_DIR / "api" / "project.json").write_bytes(b"\xff\xfe not json")
    report = _build(project)
    unreadable = [w for w in report.warnings if "unreadable build-session entry" in w]
    assert len(unreadable) == 3, report.warnings
    assert len(report.rendered) == 2
    assert snapshot(project / "site") == expected
    assert _build(project).rendered == []  # rewritten


def test_another_docgen_renders_every_page_again(project: Path) -> None:
    folder = project / SESSION_DIR
    assert len(_build(project, BuildSession(folder, stamp="docgen 1")).rendered) == 5
    assert _build(project, BuildSession(folder, stamp="docgen 1")).rendered == []
    assert len(_build(project, BuildSession(folder, stamp="docgen 2")).rendered) == 5


def test_a_changed_template_shows_in_every_page(project: Path) -> None:
    _build(project)
    theme = project / "theme"
    theme.mkdir()
    (theme / "page.html.jinja2").write_text(
        '{% extends "default/page.html.jinja2" %}{% block footer %}MY FOOTER{% endblock %}'
    )
    with (project / "pyproject.toml").open("a") as f:
        f.write('templates = "theme"\n')
    report = _build(project)
    assert report.rendered == []  # the body of a page is reused; its wrap never is
    assert all(
        "MY FOOTER" in p.read_text()
        for p in (project / "site").rglob("*.html")
        if p.name != "404.html"
    )


def test_an_in_memory_session_serves_repeated_builds(project: Path) -> None:
    session = BuildSession()
    assert len(_build(project, session).rendered) == 5
    assert _build(project, session).rendered == []
    assert not (project / SESSION_DIR).exists()


def test_a_noop_build_imports_nothing_the_notebooks_import(project: Path, tmp_path: Path) -> None:
    """Nor nbformat, whose import loads jsonschema's slow format checkers."""
    script = textwrap.dedent(
        """
        import sys
        from docgen.commands.main import main
        code = main(["build"])
        print(code, "mypkg" in sys.modules, "nbformat" in sys.modules)
        """
    )

    def run() -> list[str]:
        return run_python(script, project, project).split()[-3:]

    marker = tmp_path / "imported"
    assert run() == ["0", "True", "True"]
    assert marker.is_file()
    marker.unlink()
    assert run() == ["0", "False", "False"]
    assert not marker.exists()


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.ipynb")))
def test_the_quick_reader_and_writer_match_nbformat(name: str) -> None:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    assert loads_v4(text) == nb
    assert dumps_v4(loads_v4(text)) == nbformat.v4.writes(nb)


def test_an_in_memory_session_exports_scripts_without_a_child_process(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A preview server's session: a child per rebuild would import nbconvert each time."""
    from nbformat.v4 import new_code_cell, new_notebook

    from docgen.site import downloads

    def no_child(*args: object, **kwargs: object) -> None:
        raise AssertionError("a child process was started")

    monkeypatch.setattr(downloads.subprocess, "run", no_child)
    clean = downloads.notebook_bytes(new_notebook(cells=[new_code_cell("print(6 * 7)")]))
    [script] = BuildSession().script_files([clean], print)
    assert b"print(6 * 7)" in script
