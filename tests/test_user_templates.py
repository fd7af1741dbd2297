"""A user's templates folder: every mistake in it is a message naming the template and line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import run_docgen, snapshot, write_notebook

from docgen.errors import DocgenError
from docgen.site.theme import check_user_templates, render_template, template_environment

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
        (  # not a template file, so not checked up front: named when it is included
            {
                PAGE: EXTENDS + b'{% block content %}{% include "part.txt" %}{% endblock %}\n',
                "part.txt": b"ok\nnot \xff UTF-8\n",
            },
            "part.txt, line 2",
            "is not UTF-8 text (byte 7)",
        ),
    ],
    ids=[
        "syntax",
        "exception",
        "missing-parent",
        "self-include",
        "not-utf8",
        "included",
        "included-not-utf8",
    ],
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


@pytest.mark.parametrize("kind", ["folder", "dangling-symlink", "unreadable"])
@pytest.mark.parametrize("name", [PAGE, "part.txt"])
def test_a_template_that_is_no_readable_file_is_named_not_replaced_by_the_theme(
    tmp_path: Path, kind: str, name: str
) -> None:
    include = b'{% block content %}{% include "part.txt" %}{% endblock %}\n'
    root = project_with_template(tmp_path, {PAGE: EXTENDS + include, "part.txt": b"part\n"})
    assert run_docgen("build", "--no-exec", cwd=root).returncode == 0
    before = snapshot(root / "site")
    path = root / "theme" / name
    if kind == "unreadable":
        if os.geteuid() == 0:
            pytest.skip("root reads any file (test_an_unreadable_template_is_a_message)")
        path.chmod(0)
    else:
        path.unlink()
        if kind == "folder":
            path.mkdir()
        else:
            path.symlink_to(root / "theme" / "gone.html")
    result = run_docgen("build", "--no-exec", cwd=root)
    if kind == "unreadable":
        path.chmod(0o644)
    assert result.returncode == 1, result.stderr
    problem = {
        "folder": "is a folder",
        "dangling-symlink": "which does not exist",
        "unreadable": "cannot be read: Permission denied",
    }[kind]
    assert f"error: template {path}: " in result.stderr and problem in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(root / "site") == before


def test_an_unreadable_template_is_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project_with_template(tmp_path, {PAGE: EXTENDS})
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == PAGE and self.parent.name == "theme":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(DocgenError, match=r"theme/page\.html\.jinja2: cannot be read: Permission"):
        check_user_templates(root / "theme")
    env = template_environment(root / "theme")
    with pytest.raises(DocgenError, match=r"theme/page\.html\.jinja2: cannot be read: Permission"):
        render_template(env, PAGE, "the page index.html")


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
