"""`docgen init`: a new project's docs, config, ignores and deploy workflow; never a file
overwritten."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from conftest import run_docgen, snapshot

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_init_into_an_empty_folder_gives_a_project_that_builds(tmp_path: Path) -> None:
    done = run_docgen("init", "mydocs", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    root = tmp_path / "mydocs"
    assert "wrote doc_nbs/index.ipynb" in done.stdout and "skipped" not in done.stdout
    nb = nbformat.read(root / "doc_nbs" / "index.ipynb", as_version=4)
    assert nb.cells[0].source.startswith("# mydocs\n")
    config = tomllib.loads((root / "pyproject.toml").read_text())
    assert config["tool"]["docgen"]["title"] == "mydocs"
    assert (root / ".gitignore").read_text().splitlines() == ["site/", ".docgen_cache/"]
    workflow = (root / ".github" / "workflows" / "docs.yml").read_text()
    for step in (
        "actions/cache@v4",
        "path: .docgen_cache",
        "docgen build --strict",
        "docgen check",
        "actions/upload-pages-artifact@v3",
        "actions/deploy-pages@v4",
        "pages: write",
        "id-token: write",
    ):
        assert step in workflow

    built = run_docgen("build", cwd=root)
    assert built.returncode == 0, built.stderr
    home = (root / "site" / "index.html").read_text()
    assert "<title>mydocs</title>" in home and "Hello from the docs" in home
    assert run_docgen("check", cwd=root).returncode == 0


EXISTING = """\
# my project's settings: kept byte for byte
[project]
name = "my-lib"
version = "1.0"

[tool.ruff]
line-length = 100"""


def test_init_into_an_existing_project_adds_and_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(EXISTING)
    (tmp_path / "my_lib").mkdir()
    (tmp_path / "my_lib" / "__init__.py").write_text("VALUE = 42\n")
    (tmp_path / ".gitignore").write_text("__pycache__/\nsite\n")
    done = run_docgen("init", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith(EXISTING + "\n")
    config = tomllib.loads(text)
    assert config["tool"]["ruff"] == {"line-length": 100}
    assert config["tool"]["docgen"] == {"nbs": "doc_nbs", "packages": ["my_lib"]}  # title: the name
    assert (tmp_path / ".gitignore").read_text() == "__pycache__/\nsite\n.docgen_cache/\n"
    nb = nbformat.read(tmp_path / "doc_nbs" / "index.ipynb", as_version=4)
    assert nb.cells[0].source.startswith("# my-lib\n") and "import my_lib" in nb.cells[1].source
    assert "pip install docgen-nb -e ." in (tmp_path / ".github/workflows/docs.yml").read_text()

    before = snapshot(tmp_path)
    again = run_docgen("init", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert snapshot(tmp_path) == before  # nothing written the second time
    for what in (
        "pyproject.toml",
        "doc_nbs/index.ipynb",
        ".gitignore",
        ".github/workflows/docs.yml",
    ):
        assert f"skipped {what}" in again.stdout


def test_init_keeps_a_docgen_table_and_user_files(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.docgen]\ntitle = "Mine"\n')
    (tmp_path / "doc_nbs").mkdir()
    (tmp_path / "doc_nbs" / "index.ipynb").write_text("not even a notebook")
    done = run_docgen("init", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "pyproject.toml").read_text() == '[tool.docgen]\ntitle = "Mine"\n'
    assert (tmp_path / "doc_nbs" / "index.ipynb").read_text() == "not even a notebook"
    assert "skipped pyproject.toml: it already has a [tool.docgen] table" in done.stdout
    assert "skipped doc_nbs/index.ipynb: it exists" in done.stdout


@pytest.mark.parametrize("text", ["[project\nname = 1", "\xff"])
def test_init_refuses_a_pyproject_it_cannot_read(tmp_path: Path, text: str) -> None:
    (tmp_path / "pyproject.toml").write_bytes(text.encode("latin-1"))
    done = run_docgen("init", cwd=tmp_path)
    assert done.returncode == 2 and "pyproject.toml cannot be read as TOML" in done.stderr
    assert not (tmp_path / "doc_nbs").exists()
