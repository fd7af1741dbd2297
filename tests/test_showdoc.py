"""show_doc: what a notebook shows, what the build renders from it, and docstring sections.

Golden files under tests/golden/showdoc/. When a change to the output is intended:
    .venv/bin/python -m pytest tests/test_showdoc.py --update-golden
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from linksite import build_linkdemo_site, linkdemo_importable, show_doc_cell

from docgen import doc, show_doc
from docgen.runtime.docstrings import parse_docstring
from docgen.runtime.entry import render_doc_html
from docgen.runtime.showdoc import DOC_MIME, describe

GOLDEN = Path(__file__).parent / "golden" / "showdoc"
REGENERATE = ".venv/bin/python -m pytest tests/test_showdoc.py --update-golden"
OBJECTS = {
    "widget": "linkdemo.Widget",
    "widget_grow": "linkdemo.Widget.grow",
    "widget_area": "linkdemo.Widget.area",
    "make_widget": "linkdemo.core.make_widget",
    "helper": "linkdemo.extra.helper",
    "module_extra": "linkdemo.extra",
}


@pytest.fixture(scope="module")
def linkdemo():  # type: ignore[no-untyped-def]
    with linkdemo_importable():
        import linkdemo
        import linkdemo.extra

        yield linkdemo


def _object(linkdemo, dotted: str):  # type: ignore[no-untyped-def]
    obj = linkdemo
    for part in dotted.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def _check_golden(name: str, actual: str, request: pytest.FixtureRequest) -> None:
    golden = GOLDEN / f"{name}.html"
    if request.config.getoption("--update-golden"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual)
    assert golden.exists(), f"no golden file {golden}; create it with: {REGENERATE}"
    assert actual == golden.read_text(), (
        f"show_doc output for {name} differs from {golden}. If intended, run: {REGENERATE}"
    )


def _element(html: str, start: int) -> str:
    """The `<div>` that starts at `start`, up to its matching `</div>`."""
    depth = 0
    for m in re.compile(r"<(/?)div\b").finditer(html, start):
        depth += -1 if m.group(1) else 1
        if depth == 0:
            return html[start : m.end() + 1]
    raise AssertionError(f"unclosed <div> at {start}")


def _pretty(html: str) -> str:
    """One block element per line, so a golden file's diff shows what changed."""
    return re.sub(r"(<(?:div|h\d|table|tr|p)\b)", r"\n\1", html).strip() + "\n"


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_notebook_html_matches_golden(linkdemo, name: str, request) -> None:  # type: ignore[no-untyped-def]
    html = show_doc(_object(linkdemo, OBJECTS[name]))._repr_html_()
    _check_golden(f"kernel_{name}", _pretty(html), request)


def test_build_rendering_matches_golden(tmp_path: Path, request) -> None:  # type: ignore[no-untyped-def]
    with linkdemo_importable():
        report = build_linkdemo_site(tmp_path)
    page = (report.out / "index.html").read_text()
    starts = re.finditer('<div class="output output-api">', page)
    blocks = [_element(page, m.start()) for m in starts]
    assert len(blocks) == 2
    _check_golden("site_widget_and_grow", _pretty("\n".join(blocks)), request)


def test_every_golden_file_is_checked() -> None:
    expected = {f"kernel_{n}.html" for n in OBJECTS} | {"site_widget_and_grow.html"}
    assert {p.name for p in GOLDEN.glob("*.html")} == expected


def test_display_data_carries_a_description_the_build_can_use(linkdemo) -> None:  # type: ignore[no-untyped-def]
    cell = show_doc_cell("linkdemo.Widget.grow")
    nbformat.validate(nbformat.v4.new_notebook(cells=[cell]))
    out = cell.outputs[0]
    assert set(out.data) == {"text/html", "text/plain", DOC_MIME}
    assert out.metadata[DOC_MIME] == {"name": "linkdemo.core.Widget.grow"}
    data = out.data[DOC_MIME]
    assert json.loads(json.dumps(data)) == data  # plain JSON, nothing live
    assert data["kind"] == "method" and data["home"] is True
    assert out.data["text/plain"] == "Widget.grow(by: int = 1) → Widget"


def test_describe_signature_parts(linkdemo) -> None:  # type: ignore[no-untyped-def]
    data = describe(linkdemo.extra.helper)
    kinds = [(p["name"], p["kind"], p["default"]) for p in data["params"]]
    assert kinds == [
        ("x", "POSITIONAL_ONLY", None),
        ("y", "POSITIONAL_OR_KEYWORD", "2"),
        ("args", "VAR_POSITIONAL", None),
        ("flag", "KEYWORD_ONLY", "False"),
        ("options", "VAR_KEYWORD", None),
    ]
    widget = describe(linkdemo.Widget)
    assert widget["names"]["Tensor"] == ["torch.Tensor"]  # as the module imported it
    assert widget["returns"] is None  # a class shows how to construct it, not `-> None`


def test_doc_links_to_the_home_instead_of_anchoring(linkdemo) -> None:  # type: ignore[no-untyped-def]
    shown = doc(linkdemo.Widget)
    assert shown.data["home"] is False
    html = render_doc_html(shown.data, markdown=lambda t: t, link=lambda n: f"/home/{n}")
    assert 'id="' not in html
    assert '<a class="api-link" href="/home/linkdemo.core.Widget">' in html


GOOGLE = """\
Summary line.

More text.

Args:
    a (int): The first,
        over two lines.
    *rest: The others.

Returns:
    int: The sum.

Raises:
    ValueError: When negative.

Example:
    >>> add(1, 2)
    3
"""

NUMPY = """\
Summary line.

Parameters
----------
a : int
    The first.
b : str, optional
    The second.

Returns
-------
int
    The sum.
"""


def test_parse_google_docstring() -> None:
    intro, sections = parse_docstring(GOOGLE)
    assert intro == "Summary line.\n\nMore text."
    assert [s.title for s in sections] == ["Parameters", "Returns", "Raises", "Examples"]
    assert sections[0].items == [
        ("a", "int", "The first, over two lines."),
        ("*rest", "", "The others."),
    ]
    assert sections[1].items == [("", "int", "The sum.")]
    assert sections[2].items == [("", "ValueError", "When negative.")]
    assert sections[3].text == "```python\n>>> add(1, 2)\n3\n```"


def test_parse_numpy_docstring() -> None:
    intro, sections = parse_docstring(NUMPY)
    assert intro == "Summary line."
    assert sections[0].items == [("a", "int", "The first."), ("b", "str, optional", "The second.")]
    assert sections[1].items == [("", "int", "The sum.")]


def test_docstring_without_sections_is_all_text() -> None:
    assert parse_docstring("Just text.\n\nArgs are mentioned here: inline.") == (
        "Just text.\n\nArgs are mentioned here: inline.",
        [],
    )


@pytest.mark.kernel
def test_show_doc_in_a_real_kernel(tmp_path: Path, linkdemo) -> None:  # type: ignore[no-untyped-def]
    import nbclient

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                f"import sys; sys.path.insert(0, {str(Path(linkdemo.__file__).parent.parent)!r})\n"
                "import linkdemo\nfrom docgen import show_doc\nshow_doc(linkdemo.Widget)"
            )
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}},
    )
    nbclient.execute(nb, cwd=str(tmp_path), timeout=60)
    data = nb.cells[0].outputs[0]["data"]
    assert data[DOC_MIME]["name"] == "linkdemo.core.Widget"
    assert 'id="linkdemo.core.Widget"' in data["text/html"]


def test_defaults_render_the_same_on_every_run() -> None:
    """Functions show their name (no memory address); dataclass factories show the call."""
    import dataclasses

    from docgen.runtime.showdoc import describe

    def log_to_stderr(message: str) -> None: ...

    def run(log=log_to_stderr, level=3): ...  # type: ignore[no-untyped-def]

    @dataclasses.dataclass
    class Settings:
        nav: list[str] = dataclasses.field(default_factory=list)
        odd: dict = dataclasses.field(default_factory=lambda: {"a": 1})

    defaults = {p["name"]: p["default"] for p in describe(run)["params"]}
    local = "test_defaults_render_the_same_on_every_run.<locals>.log_to_stderr"
    assert defaults == {"log": local, "level": "3"}
    factories = {p["name"]: p["default"] for p in describe(Settings)["params"]}
    assert factories == {"nav": "list()", "odd": "..."}


def test_docments_parameter_comments_become_the_parameter_table() -> None:
    from docgen.runtime.docments import docments

    def scale(
        x: float,  # the value
        by: float = 2.0,  # the factor
        *,
        clip: bool = False,
    ) -> float:  # the scaled value
        "Scale `x`."
        return x * by

    assert docments(scale) == ({"x": "the value", "by": "the factor"}, "the scaled value")
    html = show_doc(scale)._repr_html_()
    assert "api-params" in html and "the factor" in html and "the scaled value" in html


def test_plain_text_keeps_markup_in_defaults_as_text() -> None:
    from docgen.runtime.showdoc import show_doc

    def wrap(text: str, tag: str = "<b>", sep: str = "a & b") -> str:
        return tag + text

    plain = show_doc(wrap)._repr_mimebundle_()[0]["text/plain"]
    assert "tag: str = '<b>'" in plain and "sep: str = 'a & b'" in plain, plain
