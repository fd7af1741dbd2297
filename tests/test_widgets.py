"""Outputs that need a live front end (ipywidgets and the like): their static fallback with a
note, or the note alone; never dropped from the page without a word."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from conftest import run_docgen, write_notebook
from test_robust_outputs import (
    build_page,
    code,
    display,
    markdown,
    outputs_html,
    write_raw_notebook,
)

from docgen.config import load_config
from docgen.pipeline import build

VIEW = "application/vnd.jupyter.widget-view+json"
MODEL = "8f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f"
WIDGET_NOTE = "An interactive widget; this page shows its static form."


def widget(**fallbacks: str) -> dict:
    return display({VIEW: {"model_id": MODEL, "version_major": 2, "version_minor": 0}, **fallbacks})


def test_a_widget_shows_its_text_fallback_and_a_note(tmp_path: Path) -> None:
    page, warnings = build_page(tmp_path, code(widget(**{"text/plain": "IntSlider(value=3)"})))
    html = outputs_html(page)
    assert '<pre class="output output-text">IntSlider(value=3)</pre>' in html
    assert html.index("IntSlider(value=3)") < html.index(WIDGET_NOTE)
    assert '<p class="output-note">' in html
    assert warnings == []


def test_a_widget_prefers_its_html_fallback(tmp_path: Path) -> None:
    page, _ = build_page(
        tmp_path, code(widget(**{"text/html": "<b>slider at 3</b>", "text/plain": "IntSlider()"}))
    )
    html = outputs_html(page)
    assert '<div class="output output-html"><b>slider at 3</b></div>' in html
    assert "IntSlider()" not in html
    assert WIDGET_NOTE in html


def test_a_widget_without_fallback_is_a_note_naming_it(tmp_path: Path) -> None:
    page, warnings = build_page(tmp_path, code(widget()))
    assert "An interactive widget (model 8f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f)" in outputs_html(page)
    assert warnings == []


def test_a_widget_is_named_by_the_state_the_notebook_saved(tmp_path: Path) -> None:
    path = tmp_path / "doc_nbs" / "index.ipynb"
    write_raw_notebook(path, [code(widget())])
    nb = json.loads(path.read_text())
    nb["metadata"]["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {
            "state": {MODEL: {"model_name": "IntSliderModel", "state": {"value": 3}}},
            "version_major": 2,
            "version_minor": 0,
        }
    }
    path.write_text(json.dumps(nb))
    build(load_config(cwd=tmp_path, overrides={"execute": False}), log=lambda _: None)
    html = outputs_html((tmp_path / "site" / "index.html").read_bytes())
    assert "An interactive widget (IntSlider): it has no static form" in html
    assert MODEL not in html


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"application/vnd.plotly.v1+json": {"data": []}}, "application/vnd.plotly.v1+json"),
        ({"application/javascript": "alert(1)"}, "application/javascript"),
    ],
)
def test_other_front_end_only_outputs_are_a_note(tmp_path: Path, data: dict, kind: str) -> None:
    page, warnings = build_page(tmp_path, code(display(data)))
    html = outputs_html(page)
    assert f"An output of type {kind}: it has no static form" in html
    assert "alert(1)" not in html
    assert warnings == []


def test_a_fallback_of_a_non_widget_output_needs_no_note(tmp_path: Path) -> None:
    page, _ = build_page(
        tmp_path,
        code(display({"application/vnd.plotly.v1+json": {}, "text/html": "<div>plot</div>"})),
    )
    assert "output-note" not in outputs_html(page)


def test_the_note_is_not_in_the_search_index(tmp_path: Path) -> None:
    build_page(tmp_path, markdown("Zanzibarian sliders"), code(widget()))
    shards = sorted((tmp_path / "site" / "_static" / "search-text").glob("*.js"))
    text = "".join(shard.read_text() for shard in shards).lower()
    assert "zanzibarian" in text
    assert "interactive" not in text


@pytest.mark.kernel
@pytest.mark.skipif(importlib.util.find_spec("ipywidgets") is None, reason="needs ipywidgets")
def test_a_real_widget_shows_its_static_form(tmp_path: Path) -> None:
    write_notebook(
        tmp_path / "doc_nbs" / "index.ipynb",
        "md:# Widgets",
        "import ipywidgets\nipywidgets.IntSlider(value=3)",
    )
    result = run_docgen("build", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    html = outputs_html((tmp_path / "site" / "index.html").read_bytes())
    assert "IntSlider(value=3)" in html
    assert WIDGET_NOTE in html
