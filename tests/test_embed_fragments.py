"""How a page splits into the fragments other sites embed (site/embeds.py): pages rendered
by docgen's own renderer from notebooks held in memory, no kernel."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import nbformat
from hypothesis import given
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from docgen.config import Config
from docgen.model import Page, Source
from docgen.render.markdown import MarkdownRenderer
from docgen.render.page import render_page
from docgen.site.embeds import cell_labels, page_embed, site_relative

MD = MarkdownRenderer()


def _page(tmp_path: Path, *cells: nbformat.NotebookNode, url: str = "guide/p.html") -> Page:
    source = Source(tmp_path / "p.ipynb", PurePosixPath("guide/p.ipynb"), url)
    config = Config(nbs=tmp_path, root=tmp_path)
    return render_page(source, new_notebook(cells=list(cells)), MD, config, {})


def _labelled(cell: nbformat.NotebookNode, label: str) -> nbformat.NotebookNode:
    cell.metadata["tags"] = [f"label:{label}"]
    return cell


def _sections(page: Page) -> dict[str, str]:
    return {s["anchor"]: s["html"] for s in page_embed(page, "P", "1")["sections"]}


def test_a_section_starts_at_its_heading_inside_a_cell(tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        new_markdown_cell("# Title\n\nIntro.\n\n## First\n\nOne.\n\n## Second\n\nTwo."),
        new_code_cell("x = 1", outputs=[new_output("stream", name="stdout", text="out 1\n")]),
    )
    sections = _sections(page)
    assert list(sections) == ["title", "first", "second"]
    assert "One." in sections["first"] and "Intro." not in sections["first"]
    assert "Two." not in sections["first"]
    assert "Two." in sections["second"] and "out 1" in sections["second"]
    assert "Intro." in sections["title"] and "out 1" in sections["title"]
    assert sections["first"].startswith('<div class="cell markdown-cell"><h2 id="first">')


def test_a_heading_inside_an_admonition_does_not_cut_its_cell(tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        new_markdown_cell('## Outer\n\n!!! note\n    <h3 id="inner">Inner</h3>\n\n    Boxed.'),
        new_markdown_cell("## Next\n\nAfter."),
    )
    outer = _sections(page)["outer"]
    assert "Boxed." in outer and outer.count("<div") == outer.count("</div>")
    assert "After." not in outer


def test_urls_become_relative_to_the_site_root() -> None:
    fragment = (
        '<a href="../index.html">up</a><a href="#here">here</a><a href="b.html?x=1&amp;y=2">b</a>'
        '<img src="../_images/a.png"><a href="https://x.org/p">x</a>'
        '<img src="data:image/png;base64,AA">'
        '<a href="../../outside.html">o</a>'
    )
    assert site_relative(fragment, "guide/p.html") == (
        '<a href="index.html">up</a><a href="guide/p.html#here">here</a>'
        '<a href="guide/b.html?x=1&amp;y=2">b</a><img src="_images/a.png">'
        '<a href="https://x.org/p">x</a><img src="data:image/png;base64,AA">'
        '<a href="../../outside.html">o</a>'
    )


def test_labelled_markdown_and_code_cells_are_published(tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        _labelled(new_markdown_cell("A labelled paragraph."), "para"),
        _labelled(new_code_cell("print(1)"), "code"),
        new_code_cell("print(2)"),
        _labelled(new_code_cell("3"), 'a&"b'),
    )
    cells = {c["label"]: c["html"] for c in page_embed(page, "P", "1")["cells"]}
    assert list(cells) == ["para", "code", 'a&"b'] == cell_labels(page.body)
    assert 'id="a&amp;&quot;b"' in page.body
    assert "A labelled paragraph." in cells["para"] and "print(2)" not in cells["code"]


def test_a_label_that_is_also_a_heading_anchor_is_a_warning(tmp_path: Path) -> None:
    page = _page(
        tmp_path, new_markdown_cell("## Results"), _labelled(new_code_cell("1"), "results")
    )
    assert any("'label:results' is also a heading's anchor" in w for w in page.warnings)


def test_the_content_hash_changes_with_the_content(tmp_path: Path) -> None:
    one = page_embed(_page(tmp_path, new_markdown_cell("## A\n\nOne.")), "P", "1")
    two = page_embed(_page(tmp_path, new_markdown_cell("## A\n\nTwo.")), "P", "1")
    same = page_embed(_page(tmp_path, new_markdown_cell("## A\n\nOne.")), "P", "2")
    assert one["hash"] != two["hash"] and one["hash"] == same["hash"]


@given(st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=8))
def test_a_section_holds_its_heading_and_no_heading_of_its_level_or_above(
    levels: list[int],
) -> None:
    text = "\n\n".join(f"{'#' * level} Heading {i}\n\nText {i}." for i, level in enumerate(levels))
    page = _page(Path("/nowhere"), new_markdown_cell(text))
    sections = page_embed(page, "P", "1")["sections"]
    assert [s["level"] for s in sections] == levels
    for i, section in enumerate(sections):
        assert f"Text {i}." in section["html"]
        after = next((j for j in range(i + 1, len(levels)) if levels[j] <= levels[i]), None)
        if after is not None:
            assert f"Text {after}." not in section["html"]
        inside = range(i + 1, after if after is not None else len(levels))
        assert all(f"Text {j}." in section["html"] for j in inside)


def test_only_tags_links_are_rewritten_and_listed() -> None:
    """Markup shown as text (escaped in code), comments and script bodies keep what they say:
    an embedded page that shows HTML source must not have its source rewritten, nor its
    example links reported by `docgen check`."""
    from docgen.site.embeds import fragment_urls

    shown = '<code>&lt;a href="guide.html#install"&gt;</code>'
    fragment = (
        f'<p><a href="x.html">x</a> {shown}</p><!-- <a href="c.html"> -->'
        "<script src=\"s.js\">var a = '<a href=\"js.html\">';</script>"
        '<img title="a>b" src="i.png">'
    )
    assert fragment_urls(fragment) == ["x.html", "s.js", "i.png"]
    moved = site_relative(fragment, "sub/page.html")
    assert shown in moved and '<!-- <a href="c.html"> -->' in moved
    assert '<a href="js.html">' in moved
    assert 'href="sub/x.html"' in moved and 'src="sub/s.js"' in moved
    assert 'src="sub/i.png"' in moved
