"""A user's templates folder: every mistake in it is a message naming the template and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_docgen, snapshot, write_notebook

PAGE = "page.html.jinja2"


def project_with_template(root: Path, files: dict[str, bytes]) -> Path:
    write_notebook(root / "doc_nbs" / "index.ipynb", "md:# Home")
    (root / "pyproject.toml").write_text('[tool.docgen]\ntemplates = "theme"\n')
    (root / "theme").mkdir()
    for name, data in files.items():
        (root / "theme" / name).write_bytes(data)
    return root


EXTENDS = b'{% extends "default/page.html.jinja2" %}\n'


@pytest.mark.parametrize(
    "files, where, problem",
    [
        (
            {PAGE: EXTENDS + b"{% block content %}\n{% if %}\n{% endblock %}\n"},
            f"{PAGE}, line 3",
            "Expected an expression",
        ),
        (
            {PAGE: EXTENDS + b"{% block content %}\n\n{{ 1 // 0 }}\n{% endblock %}\n"},
            f"{PAGE}, line 4",
            "ZeroDivisionError: integer division or modulo by zero (while rendering the page "
            "index.html)",
        ),
        (
            {PAGE: b'\n{% extends "nope.html" %}\n'},
            f"{PAGE}, line 2",
            "template 'nope.html' does not exist",
        ),
        (
            {PAGE: b'<p>\n{% include "page.html.jinja2" %}\n'},
            f"{PAGE}, line 2",
            "the template includes or extends itself without end",
        ),
        (
            {PAGE: EXTENDS + b"{% block content %}caf\xe9{% endblock %}\n"},
            f"{PAGE}, line 2",
            "is not UTF-8 text (byte 63)",
        ),
        (
            {
                PAGE: EXTENDS + b'{% block content %}{% include "part.html" %}{% endblock %}\n',
                "part.html": b"<p>\n\n{{ page.title | nosuchfilter }}</p>\n",
            },
            "part.html, line 3",
            "No filter named 'nosuchfilter'",
        ),
    ],
    ids=["syntax", "exception", "missing-parent", "self-include", "not-utf8", "included"],
)
def test_template_mistakes_name_the_file_and_line(
    tmp_path: Path, files: dict[str, bytes], where: str, problem: str
) -> None:
    root = project_with_template(tmp_path, {})
    assert run_docgen("build", "--no-exec", cwd=root).returncode == 0
    before = snapshot(root / "site")
    for name, data in files.items():
        (root / "theme" / name).write_bytes(data)
    result = run_docgen("build", "--no-exec", cwd=root)
    assert result.returncode == 1, result.stderr
    assert f"template {root / 'theme' / where}" in result.stderr, result.stderr
    assert problem in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(root / "site") == before


def test_missing_templates_folder_is_a_usage_error(tmp_path: Path) -> None:
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Home")
    (tmp_path / "pyproject.toml").write_text('[tool.docgen]\ntemplates = "theme"\n')
    result = run_docgen("build", "--no-exec", cwd=tmp_path)
    assert result.returncode == 2
    assert f"templates folder {tmp_path / 'theme'} does not exist" in result.stderr


def test_a_working_override_still_builds(tmp_path: Path) -> None:
    root = project_with_template(
        tmp_path,
        {
            PAGE: EXTENDS + b"{% block content %}<p>custom</p>{% endblock %}\n",
            "README.md": b"Notes, not a template: {{ {% \xff",
        },
    )
    result = run_docgen("build", "--no-exec", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "<p>custom</p>" in (root / "site" / "index.html").read_text()
