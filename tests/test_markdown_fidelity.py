"""Markdown cells render as JupyterLab shows them: GitHub-flavoured markdown.

The fidelity test renders a corpus (tests/fixtures/markdown_corpus.json: nbdev's notebooks
and edge cases) with docgen and with markdown-it-py's GFM renderer, and compares the element
structure of the two (tests/mdstructure.py).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from mdstructure import reference_renderer, structure

from docgen.render import gfm
from docgen.render.context import PageContext
from docgen.render.markdown import MarkdownRenderer

CORPUS = Path(__file__).parent / "fixtures" / "markdown_corpus.json"
REQUIRED_AGREEMENT = 0.98


def render(text: str, md: MarkdownRenderer | None = None) -> tuple[str, PageContext]:
    ctx = PageContext(source="nb.ipynb", nb_dir=Path("/nonexistent"), root="")
    return (md or MarkdownRenderer()).render(text, ctx), ctx


def test_structure_agrees_with_a_gfm_renderer(capsys: pytest.CaptureFixture[str]) -> None:
    corpus = json.loads(CORPUS.read_text())
    cells = [(c["source"], c["text"]) for c in corpus["nbdev"]]
    cells += [
        (f"edge case {i + 1}", c["text"])
        for i, c in enumerate(corpus["edge_cases"])
        if not c["docgen_only"]
    ]
    md, reference = MarkdownRenderer(), reference_renderer()
    differ = []
    for where, text in cells:
        ours, theirs = structure(render(text, md)[0]), structure(reference.render(text))
        if ours != theirs:
            differ.append(f"{where}:\n  docgen:    {ours}\n  reference: {theirs}")
    agreement = 1 - len(differ) / len(cells)
    with capsys.disabled():
        print(
            f"\nmarkdown fidelity: {len(cells) - len(differ)} of {len(cells)} cells "
            f"({agreement:.1%}) have the element structure of markdown-it-py's GFM rendering"
        )
    assert agreement >= REQUIRED_AGREEMENT, "\n".join(differ)


def test_the_comparison_sees_what_the_reference_renders_differently() -> None:
    # What Python-Markdown alone made of these cells, before gfm.py: the test must fail on it.
    reference = reference_renderer()
    before = {
        "Text:\n- a\n- b": "",
        "- a\n  - b": "ul(li,li)",
        "~~gone~~": "",
        "see https://x.org": "",
    }
    for text, old in before.items():
        assert structure(reference.render(text)) != old
        assert structure(render(text)[0]) == structure(reference.render(text))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Steps:\n- one\n- two", "<p>Steps:</p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("Steps:\n1. one\n2. two", "<p>Steps:</p>\n<ol>\n<li>one</li>\n<li>two</li>\n</ol>"),
        ("Price:\n3. is text", "<p>Price:\n3. is text</p>"),
        ("- a\n  - b\n- c", "<ul>\n<li>a<ul>\n<li>b</li>\n</ul>\n</li>\n<li>c</li>\n</ul>"),
        ("1. a\n   1. b", "<ol>\n<li>a<ol>\n<li>b</li>\n</ol>\n</li>\n</ol>"),
        ("1) a\n2) b", "<ol>\n<li>a</li>\n<li>b</li>\n</ol>"),
        ("~~gone~~, ~too~ ~/a ~/b", "<p><del>gone</del>, <del>too</del> ~/a ~/b</p>"),
        ("#hashtag", "<p>#hashtag</p>"),
        ("Data:\n| a |\n|---|\n| 1 |", "<p>Data:</p>\n<table>\n<thead>\n<tr>\n<th>a</th>"),
        ("> quote\n- list", "<blockquote>\n<p>quote</p>\n</blockquote>\n<ul>\n<li>list</li>\n</ul>"),  # noqa: E501
    ],
    ids=["bullets", "numbers", "no-list", "two-spaces", "three-spaces", "paren", "strike",
         "hashtag", "table", "quote-then-list"],
)  # fmt: skip
def test_commonmark_constructs(text: str, expected: str) -> None:
    assert render(text)[0].startswith(expected)


def test_bare_urls_and_task_lists() -> None:
    html, _ = render("See https://example.org/a?b=1 and www.python.org.")
    assert '<a href="https://example.org/a?b=1">https://example.org/a?b=1</a>' in html
    assert '<a href="http://www.python.org">www.python.org</a>' in html
    html, _ = render("Tasks:\n- [ ] open\n- [x] done")
    assert html.count('type="checkbox"') == 2 and html.count("checked") == 1
    assert "[ ]" not in html and "[x]" not in html


def test_fenced_code_in_a_list_item() -> None:
    html, _ = render("1. Install:\n   ```bash\n   pip install x\n   ```\n2. Run")
    assert '<div class="highlight"><pre>' in html and "```" not in html
    assert html.count("<li>") == 2 and "<p><div" not in html


ALERTS = ["NOTE", "TIP", "IMPORTANT", "WARNING", "CAUTION"]


@pytest.mark.parametrize("kind", ALERTS)
def test_github_alerts_are_admonitions(kind: str) -> None:
    html, _ = render(f"> [!{kind}]\n> Body with `code`.\n> - and a list")
    name = kind.lower()
    assert html.startswith(
        f'<div class="admonition {name}">\n<p class="admonition-title">{name.title()}</p>\n'
        "<p>Body with <code>code</code>.</p>\n<ul>\n<li>and a list</li>"
    )
    assert "[!" not in html and "<blockquote>" not in html


@pytest.mark.parametrize(
    "text, kind, title",
    [
        (":::{note}\nA *MyST* note.\n:::", "note", "Note"),
        (":::{warning}\nA *MyST* warning.\n:::", "warning", "Warning"),
        ("::::{tip} Custom title\n:class: x\nA *MyST* tip.\n::::", "tip", "Custom title"),
        ('::: {.callout-important title="Heads up"}\nA *Quarto* callout.\n:::', "important",
         "Heads up"),
        ("!!! note\n    An *admonition*.", "note", "Note"),
        ('!!! danger "Stop"\n    An *admonition*.', "danger", "Stop"),
    ],
    ids=["myst-note", "myst-warning", "myst-title", "quarto", "bang", "bang-title"],
)  # fmt: skip
def test_admonition_spellings(text: str, kind: str, title: str) -> None:
    html, _ = render(text)
    assert html.startswith(
        f'<div class="admonition {kind}">\n<p class="admonition-title">{title}</p>\n<p>'
    )
    assert "<em>" in html and ":::" not in html and ":class:" not in html


def test_admonition_bodies_read_as_commonmark() -> None:
    html, _ = render(":::{note}\nSteps:\n- a\n  - b\n:::\n\nAfter.")
    assert "<ul>\n<li>a<ul>\n<li>b</li>" in html and html.endswith("</div>\n<p>After.</p>")


def test_markdown_after_a_blank_line_inside_html() -> None:
    html, _ = render("<details><summary>More</summary>\n\n- a **list**\n\n</details>")
    assert html == (
        "<details>\n<summary>More</summary>\n<ul>\n<li>a <strong>list</strong></li>\n</ul>\n"
        "</details>"
    )
    html, _ = render('<div class="raw">\n*kept*\n</div>\n\ntext')
    assert html.startswith('<div class="raw">\n*kept*\n</div>')


def test_a_fence_left_open_runs_to_the_end_of_the_cell() -> None:
    html, _ = render("Text\n\n```python\nx = [1]\n")
    assert '<div class="highlight"><pre>' in html and "```" not in html
    assert gfm.closed_fences(["``` not a fence ```", "x"]) == ["``` not a fence ```", "x"]


def test_other_colon_blocks_are_left_alone() -> None:
    assert gfm.gfm_lines([":::{.aside}", "text", ":::"]) == [":::{.aside}", "text", ":::"]


def test_docgen_additions_still_work() -> None:
    text = "# Title\n\nMath $x^2$, `name` and ![alt](https://x.org/a.png).\n\n| a |\n|---|\n| 1 |"
    ctx = PageContext(source="nb.ipynb", nb_dir=Path("/nonexistent"), root="")
    ctx.resolve = lambda name: "api/name.html" if name == "name" else None
    html = MarkdownRenderer().render(text, ctx)
    assert '<h1 id="title">' in html and "<math" in html and 'class="api-link"' in html
    assert 'alt="alt"' in html and "<table>" in html


def test_two_space_nesting_stays_within_the_depth_budget() -> None:
    start = time.perf_counter()
    html, ctx = render("".join("  " * i + "- x\n" for i in range(300)))
    assert time.perf_counter() - start < 2
    assert html.startswith('<pre class="markdown-source">')
    assert "nested" in ctx.warnings[0]


def test_deeply_nested_admonitions_stay_within_the_depth_budget() -> None:
    start = time.perf_counter()
    html, ctx = render(":::{note}\n" * 300 + "x\n" + ":::\n" * 300)
    assert time.perf_counter() - start < 2
    assert html.startswith('<pre class="markdown-source">')
    assert "nested 300 levels" in ctx.warnings[0]
