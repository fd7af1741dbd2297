"""Outputs and markdown a page cannot show as they are: shown sensibly, or a warning naming
the notebook and cell; never a crash, never a page that is not valid UTF-8."""

from __future__ import annotations

import base64
import json
import sys
import time
from pathlib import Path

import pytest
from conftest import run_docgen, write_notebook

from docgen.config import load_config
from docgen.pipeline import build
from docgen.render import mdguard
from docgen.render.ansi import ansi_to_html, strip_ansi
from docgen.render.context import PageContext
from docgen.render.markdown import MarkdownRenderer
from docgen.render.outputs import render_outputs
from docgen.runtime.showdoc import DOC_MIME

PNG = base64.b64encode(
    base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    )
).decode()


def display(data: object, metadata: object = None) -> dict:
    return {"output_type": "display_data", "data": data, "metadata": metadata or {}}


def stream(text: object, name: str = "stdout") -> dict:
    return {"output_type": "stream", "name": name, "text": text}


def write_raw_notebook(path: Path, cells: list[dict]) -> None:
    """A notebook written as JSON text, so that it may hold what nbformat would not write
    (lone surrogates arrive as `\\ud800` escapes, which JSON allows)."""
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "P", "language": "python"}},
        "cells": [{**cell, "id": f"c{i}", "metadata": {}} for i, cell in enumerate(cells)],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb))


def code(*outputs: dict) -> dict:
    return {"cell_type": "code", "execution_count": 1, "source": "x", "outputs": list(outputs)}


def markdown(source: str) -> dict:
    return {"cell_type": "markdown", "source": source}


def build_page(tmp_path: Path, *cells: dict) -> tuple[bytes, list[str]]:
    """The page of one notebook built without executing it, as bytes, and the warnings."""
    write_raw_notebook(tmp_path / "doc_nbs" / "index.ipynb", list(cells))
    report = build(load_config(cwd=tmp_path, overrides={"execute": False}), log=lambda _: None)
    page = (tmp_path / "site" / "index.html").read_bytes()
    page.decode("utf-8")  # strict: a lone surrogate written through would fail here
    (tmp_path / "site" / "index.ipynb").read_bytes().decode("utf-8")
    return page, report.warnings


def outputs_html(page: bytes) -> str:
    text = page.decode()
    start = text.index('<div class="cell-outputs">')
    return text[start : text.index("</article>", start)]


def test_image_width_as_text_is_a_css_width(tmp_path: Path) -> None:
    page, warnings = build_page(
        tmp_path, code(display({"image/png": PNG}, {"image/png": {"width": "50%"}}))
    )
    assert 'style="width:50%"' in outputs_html(page)
    assert warnings == []


@pytest.mark.parametrize("meta", [{"width": None}, {"width": None, "height": None}, "big", [1]])
def test_image_size_unset_or_not_a_mapping_is_ignored(tmp_path: Path, meta: object) -> None:
    page, warnings = build_page(tmp_path, code(display({"image/png": PNG}, {"image/png": meta})))
    html = outputs_html(page)
    assert "<img " in html and "width" not in html and "height" not in html
    assert warnings == []


def test_image_numbers_are_sizes_and_nonsense_is_a_warning(tmp_path: Path) -> None:
    page, warnings = build_page(
        tmp_path,
        code(display({"image/png": PNG}, {"image/png": {"width": 40.4, "height": 30}})),
        code(display({"image/png": PNG}, {"image/png": {"width": "wide"}})),
    )
    assert 'width="40" height="30"' in outputs_html(page)
    assert len(warnings) == 1
    assert "index.ipynb, cell 2" in warnings[0] and "'wide' is not a size" in warnings[0]


def test_image_that_is_not_base64_is_a_warning_naming_the_cell(tmp_path: Path) -> None:
    page, warnings = build_page(
        tmp_path,
        markdown("# Title"),
        code(display({"image/png": "not base64!!!", "text/plain": "<Figure>"})),
        code(stream("after\n")),
    )
    assert len(warnings) == 1
    assert "index.ipynb, cell 2" in warnings[0] and "not valid base64" in warnings[0]
    assert "after" in outputs_html(page)


def test_attachment_that_is_not_base64_is_a_warning(tmp_path: Path) -> None:
    cell = markdown("![pic](attachment:pic.png)")
    cell["attachments"] = {"pic.png": {"image/png": "%%%%%"}}
    _, warnings = build_page(tmp_path, cell)
    assert len(warnings) == 1
    assert "index.ipynb, cell 1" in warnings[0] and "not valid base64" in warnings[0]


@pytest.mark.parametrize(
    "cell",
    [
        code(stream("a\ud800b")),
        code({"output_type": "execute_result", "execution_count": 1, "metadata": {},
              "data": {"text/plain": "a\ud800b"}}),
        code(display({"text/html": "<b>a\ud800b</b>"})),
        code(display({"text/markdown": "a\ud800b"})),
        code(display({"image/svg+xml": "<svg><text>a\ud800b</text></svg>"})),
        markdown("a\ud800b"),
    ],
    ids=["stream", "text", "html", "markdown-output", "svg", "markdown-cell"],
)
def test_lone_surrogates_become_replacement_characters(tmp_path: Path, cell: dict) -> None:
    page, _ = build_page(tmp_path, cell)
    if cell["cell_type"] == "markdown" or "image/svg+xml" not in str(cell):
        assert "a\ufffdb" in page.decode()
    svgs = list((tmp_path / "site" / "_images").glob("*.svg"))
    for svg in svgs:
        svg.read_bytes().decode("utf-8")


def test_osc_sequences_nul_bytes_and_controls_are_stripped(tmp_path: Path) -> None:
    text = (
        "\x1b]8;;https://evil.example\x07link\x1b]8;;\x07 \x1b]0;window title\x07"
        "\x1b]2;other title\x1b\\ nul\x00byte bell\x07 \x1bPdcs\x1b\\done\x1b]unterminated"
    )
    page, _ = build_page(
        tmp_path,
        code(stream(text), display({"text/plain": text}), display({"text/html": "<i>x\x00y</i>"})),
    )
    html = outputs_html(page)
    for gone in (b"\x00", b"\x07", b"\x1b"):
        assert gone not in page
    for gone in ("evil.example", "window title", "other title", "dcs", "unterminated"):
        assert gone not in html
    assert "link" in html and "nulbyte" in html and "bell" in html and "done" in html
    assert "<i>xy</i>" in html


def test_ansi_colour_codes_out_of_range_mean_no_colour() -> None:
    assert ansi_to_html("\x1b[38;5;99999mX\x1b[0m") == "X"
    assert ansi_to_html("\x1b[48;5;256mX") == "X"
    assert ansi_to_html("\x1b[38;5;196mX") == '<span style="color:#ff0000">X</span>'
    assert ansi_to_html("\x1b[38;5mX\x1b[38;2;1mY") == "XY"
    assert ansi_to_html("\x1b[" + "9" * 5000 + "mX") == "X"  # int() refuses 4,300+ digits
    assert strip_ansi("\x1b]0;title\x07a\x1b[31mb\x00c\x1b") == "abc"


def test_odd_rich_data_is_shown_or_reported(tmp_path: Path) -> None:
    page, warnings = build_page(
        tmp_path,
        code(display({"text/html": ["<b>", "joined</b>"]})),
        code(display({"image/svg+xml": ["<svg>", "</svg>"]})),
        code(display({"image/png": [PNG[:10], PNG[10:]]})),
        code(display({DOC_MIME: {"name": "f", "level": "deep"}, "text/plain": "plain f"})),
    )
    html = outputs_html(page)
    assert "<b>joined</b>" in html and html.count("<img ") == 2
    assert "plain f" in html
    assert len(warnings) == 1 and "index.ipynb, cell 4" in warnings[0]


def test_outputs_a_kernel_could_send_but_nbformat_would_refuse() -> None:
    """Executed outputs reach rendering unvalidated: any JSON shape must be survivable."""
    ctx = PageContext(source="nb.ipynb", nb_dir=Path("."), root="")
    html = render_outputs(
        [
            "not an output",
            {"output_type": "display_data", "data": None},
            display({"text/html": 5, "text/plain": "x"}),
            display({"image/png": {"a": 1}}),
            stream(5),
            {"output_type": "error", "traceback": None, "ename": "E", "evalue": "v"},
            {"output_type": "stream"},
            stream("still shown"),
        ],
        ctx,
        MarkdownRenderer(),
        10_000,
    )
    assert "still shown" in html and "E: v" in html
    assert len(ctx.warnings) == 5
    assert all(w.startswith("nb.ipynb, cell 1: ") for w in ctx.warnings)


def test_the_cli_builds_a_page_of_every_odd_output(tmp_path: Path) -> None:
    write_raw_notebook(
        tmp_path / "doc_nbs" / "index.ipynb",
        [
            code(display({"image/png": PNG}, {"image/png": {"width": "50%"}})),
            code(display({"image/png": PNG}, {"image/png": {"width": None}})),
            code(display({"image/png": "@@@"})),
            code(stream("\ud800 \x1b[38;5;99999m \x1b]8;;u\x07 \x1b]0;t\x07 \x00")),
            markdown("- " * 500 + "x"),
        ],
    )
    result = run_docgen("build", "--no-exec", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "index.ipynb, cell 3" in result.stderr and "index.ipynb, cell 5" in result.stderr
    (tmp_path / "site" / "index.html").read_bytes().decode("utf-8")


# --- markdown over budget ---------------------------------------------------------------


def render(text: str, md: MarkdownRenderer | None = None) -> tuple[str, PageContext]:
    ctx = PageContext(source="nb.ipynb", nb_dir=Path("."), root="", cell_index=2)
    return (md or MarkdownRenderer()).render(text, ctx), ctx


@pytest.mark.parametrize(
    "text",
    [
        "- " * 500 + "x",
        "1. " * 500 + "x",
        "".join("    " * i + "- x\n" for i in range(300)),
        "[" * 100_000,
        "![" * 50_000,
        "# Title\n\n" + "[a][" * 25_000,
    ],
    ids=["list", "ordered", "indented", "brackets", "images", "references"],
)
def test_pathological_markdown_falls_back_to_escaped_text_quickly(text: str) -> None:
    start = time.perf_counter()
    html, ctx = render(text)
    assert time.perf_counter() - start < 2
    assert html.startswith('<pre class="markdown-source">')
    assert "<" not in html[len('<pre class="markdown-source">') : -len("</pre>")]
    assert len(ctx.warnings) == 1 and ctx.warnings[0].startswith("nb.ipynb, cell 3: markdown")
    assert ctx.headings == []


def test_a_cell_over_its_time_budget_falls_back(tmp_path: Path) -> None:
    md = MarkdownRenderer(seconds=0.01)
    html, ctx = render("# Links\n\n" + "[link](x) " * 8000, md)
    assert html.startswith('<pre class="markdown-source">')
    assert "took over" in ctx.warnings[0]
    assert ctx.headings == [] and ctx.used_ids == set()
    html, ctx = render("# Fine\n\n[link](x)", md)  # the renderer is usable afterwards
    assert 'href="x"' in html and ctx.warnings == []


def test_a_recursion_error_falls_back_and_the_renderer_recovers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mdguard, "MAX_NESTING", 10**6)  # let the parser itself hit the limit
    md = MarkdownRenderer()
    html, ctx = render("- " * max(500, sys.getrecursionlimit()) + "x", md)
    assert html.startswith('<pre class="markdown-source">')
    assert "nested too deeply" in ctx.warnings[0]
    html, ctx = render("- a\n- b", md)
    assert html == "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"


def test_ordinary_markdown_is_within_budget() -> None:
    text = "# T\n\n" + "\n".join(f"- [item {i}](x{i}.ipynb) [see] `[x]`" for i in range(300))
    assert mdguard.too_costly(text) is None
    assert mdguard.too_costly("> quote\n>> nested\n\n1. a\n   - b\n     - c\n\n* * *") is None


def test_markdown_over_budget_in_a_build_is_a_warning(tmp_path: Path) -> None:
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Page", "md:" + "[" * 100_000)
    report = build(load_config(cwd=tmp_path, overrides={"execute": False}), log=lambda _: None)
    assert any("index.ipynb, cell 2: markdown too costly" in w for w in report.warnings)
    assert "[[[[" in (tmp_path / "site" / "index.html").read_text()


@pytest.mark.kernel
def test_executed_image_with_a_percent_width(tmp_path: Path) -> None:
    write_notebook(
        tmp_path / "doc_nbs" / "index.ipynb",
        "md:# Plot",
        "import base64\nfrom IPython.display import Image, display\n"
        f"display(Image(base64.b64decode('{PNG}'), width='50%'))",
    )
    result = run_docgen("build", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'style="width:50%"' in (tmp_path / "site" / "index.html").read_text()
