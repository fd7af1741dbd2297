"""Notebooks from the wild: what Jupyter opens but strict validation rejects is repaired
in memory and built with a warning naming the file and the fix; only unreadable files fail."""

from __future__ import annotations

import json

import pytest

from docgen.config import load_config
from docgen.errors import BuildFailed, DocgenError
from docgen.notebooks.read import read_notebook
from docgen.pipeline import build


def _write(path, cells, minor=4, **extra):
    nb = {"nbformat": 4, "nbformat_minor": minor, "metadata": {}, "cells": cells, **extra}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb))
    return path


CODE = {
    "cell_type": "code",
    "source": "x = 1",
    "metadata": {},
    "outputs": [],
    "execution_count": None,
}


def test_cell_ids_in_a_4_4_file(tmp_path):
    path = _write(
        tmp_path / "ids.ipynb",
        [
            {**CODE, "id": "a1"},
            {"cell_type": "markdown", "id": "b2", "metadata": {}, "source": "# Hi"},
        ],
    )
    warnings: list[str] = []
    nb = read_notebook(path, warn=warnings.append)
    assert [c.id for c in nb.cells] == ["a1", "b2"]
    assert len(warnings) == 1 and str(path) in warnings[0] and "4.5" in warnings[0]
    assert json.loads(path.read_text())["nbformat_minor"] == 4  # the source is not touched


def test_missing_metadata_and_outputs(tmp_path):
    path = _write(
        tmp_path / "bare.ipynb",
        [{"cell_type": "code", "source": "print(1)"}, {"cell_type": "markdown", "source": "text"}],
    )
    warnings: list[str] = []
    nb = read_notebook(path, warn=warnings.append)
    assert nb.cells[0].outputs == [] and nb.cells[1].metadata == {}
    assert "missing cell field" in warnings[0]


def test_beyond_repair_still_fails(tmp_path):
    path = _write(
        tmp_path / "bad.ipynb", [{"cell_type": "nonsense", "source": "x", "metadata": {}}]
    )
    with pytest.raises(DocgenError, match="bad.ipynb: is not a valid notebook"):
        read_notebook(path, warn=lambda _: None)


def test_repaired_notebook_builds_with_a_warning_and_strict_fails(tmp_path):
    _write(
        tmp_path / "doc_nbs" / "page.ipynb",
        [{"cell_type": "markdown", "id": "t", "metadata": {}, "source": "# Page"}],
        minor=2,
    )
    report = build(load_config(cwd=tmp_path, overrides={"execute": False}), log=lambda _: None)
    assert any("page.ipynb" in w and "4.5" in w for w in report.warnings)
    assert "Page" in (tmp_path / "site" / "page.html").read_text()
    with pytest.raises(BuildFailed, match="page.ipynb"):
        build(
            load_config(cwd=tmp_path, overrides={"execute": False, "strict": True}),
            log=lambda _: None,
        )
