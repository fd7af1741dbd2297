"""Linking names: the symbol index, resolution of backticked names and code, and the built site.

The project under test is tests/fixtures/linkdemo; the PyTorch and Python entries come from
the installed nbdev-pytorch and nbdev-stdlib indexes (pinned in constraints.txt).
"""

from __future__ import annotations

import json
import re
import urllib.error
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from linksite import IMPORTS, build_linkdemo_site, linkdemo_importable
from pygments.lexers import PythonLexer

from docgen.api.external import INVENTORY_MAX_AGE_S, external_index, load_inventory
from docgen.api.index import SymbolIndex
from docgen.api.introspect import discover_api
from docgen.api.inventory import InventoryItem, read_inventory, write_inventory
from docgen.api.resolve import PageResolver, notebook_imports, notebook_namespace
from docgen.config import parse_table
from docgen.errors import BuildFailed, UsageError
from docgen.render.code import highlight_code
from docgen.render.context import PageContext
from docgen.render.markdown import MarkdownRenderer

TORCH = "https://pytorch.org/docs/stable/"
PYTHON = "https://docs.python.org/3/library/"
CONV2D = TORCH + "generated/torch.nn.Conv2d.html#torch.nn.Conv2d"
WIDGET_HOME = "index.html#linkdemo.core.Widget"
CORE = "api/linkdemo.core.html"


@pytest.fixture(scope="module")
def index() -> SymbolIndex:
    with linkdemo_importable():
        api = discover_api(["linkdemo"])
    external = external_index({}, Path("."), Path("site"), warn=pytest.fail)
    return SymbolIndex.build(api, external).place({"linkdemo.core.Widget": WIDGET_HOME})


@pytest.fixture
def resolver(index: SymbolIndex) -> PageResolver:
    with linkdemo_importable():
        namespace, defined = notebook_namespace(
            [IMPORTS, "import pathlib\nx = 1\n\ndef helper():\n    pass"]
        )
    return PageResolver(index, namespace, defined)


# (backticked text, URL or None, whether the build should list it as a broken reference)
CASES = [
    # full names, `name()`, `Class.method`
    ("torch.nn.Conv2d", CONV2D, False),
    ("pathlib.Path", PYTHON + "pathlib.html#pathlib.Path", False),
    ("pathlib.Path()", PYTHON + "pathlib.html#pathlib.Path", False),
    ("json.dumps()", PYTHON + "json.html#json.dumps", False),
    ("str.join", PYTHON + "stdtypes.html#str.join", False),
    ("torch.Tensor.view", TORCH + "generated/torch.Tensor.view.html#torch.Tensor.view", False),
    # names as the notebook imports them
    ("nn.Conv2d", CONV2D, False),
    ("F.relu", TORCH + "generated/torch.nn.functional.relu.html#torch.nn.functional.relu", False),
    ("Tensor.view", TORCH + "generated/torch.Tensor.view.html#torch.Tensor.view", False),
    ("DataLoader", TORCH + "data.html#torch.utils.data.DataLoader", False),
    # public aliases resolve to the documented canonical object
    (
        "torch.nn.Parameter",
        TORCH + "generated/torch.nn.parameter.Parameter.html#torch.nn.parameter.Parameter",
        False,
    ),
    ("nn.Conv2d.parameters", TORCH + "generated/torch.nn.Module.html#torch.nn.Module.parameters",
     False),
    # this project: documented by show_doc, or on the generated API pages
    ("linkdemo.Widget", WIDGET_HOME, False),
    ("linkdemo.core.Widget", WIDGET_HOME, False),
    ("Widget", WIDGET_HOME, False),
    ("Widget.grow", f"{CORE}#linkdemo.core.Widget.grow", False),
    ("linkdemo.Widget.grow()", f"{CORE}#linkdemo.core.Widget.grow", False),
    ("Widget.area", f"{CORE}#linkdemo.core.Widget.area", False),
    ("make_widget()", f"{CORE}#linkdemo.core.make_widget", False),
    ("linkdemo.Gadget", "api/linkdemo.html#linkdemo.Gadget", False),
    ("linkdemo._impl.Gadget", "api/linkdemo.html#linkdemo.Gadget", False),
    ("Gadget.press", "api/linkdemo.html#linkdemo.Gadget.press", False),
    ("linkdemo.extra", "api/linkdemo.extra.html", False),
    ("linkdemo.extra.helper", "api/linkdemo.extra.html#linkdemo.extra.helper", False),
    # the project wins a clash with Python's builtins
    ("compile()", f"{CORE}#linkdemo.core.compile", False),
    # builtins: classes, and functions written as calls
    ("len()", PYTHON + "functions.html#len", False),
    ("dict", PYTHON + "stdtypes.html#dict", False),
    # stays plain code, quietly
    ("x + 1", None, False),
    ("--workers 2", None, False),
    ("self", None, False),
    ("self.size", None, False),
    ("None", None, False),
    ("max", None, False),
    ("x", None, False),
    ("helper()", None, False),
    ("model.eval()", None, False),
    ("linkdemo.core._private", None, False),
    ("Widget._hidden", None, False),
    ("f(x)", None, False),
    ("", None, False),
    # looks like a reference, names nothing: listed at the end of the build
    ("torch.nn.Conv3x", None, True),
    ("nn.Conv3x", None, True),
    ("linkdemo.Widgett", None, True),
    ("Widget.shrink", None, True),
    ("frobnicate()", None, True),
]


@pytest.mark.parametrize("text, url, broken", CASES, ids=[c[0] or "empty" for c in CASES])
def test_resolve(resolver: PageResolver, text: str, url: str | None, broken: bool) -> None:
    assert resolver(text) == url
    assert resolver.unresolved == ([text] if broken else [])


def test_names_need_the_notebook_import(index: SymbolIndex) -> None:
    bare = PageResolver(index)
    assert bare("nn.Conv2d") is None and bare("DataLoader") is None
    assert bare("torch.nn.Conv2d") == CONV2D
    assert bare.unresolved == []


def test_ambiguous_short_names_do_not_link(index: SymbolIndex) -> None:
    from dataclasses import replace

    twice = replace(index, short={**index.short, "Widget": ["a.Widget", "b.Widget"]})
    assert PageResolver(twice)("Widget") is None


# --- what a notebook imports ----------------------------------------------------------


def test_notebook_imports_reads_import_forms_and_skips_magics() -> None:
    cells = [
        "#| hide\nimport torch.nn as nn\nimport os.path\nfrom torch import Tensor as T",
        "%matplotlib inline\n!pip list\nfrom json import *\nfrom . import sibling\nvalue = 3",
        "%%bash\nimport not_python",
        "def broken(:\n    import nope",
    ]
    bindings, defined = notebook_imports(cells)
    assert [(b.name, b.module, b.attr, b.star) for b in bindings] == [
        ("nn", "torch.nn", None, False),
        ("os", "os", None, False),
        ("T", "torch", "Tensor", False),
        ("*", "json", None, True),
    ]
    assert defined == {"value"}
    namespace, _ = notebook_namespace(cells)
    assert namespace["dumps"][1] == "json.dumps"
    assert "not_python" not in namespace


# --- names in code cells --------------------------------------------------------------


def test_code_cells_link_imported_names_without_changing_the_code(resolver: PageResolver) -> None:
    code = "layer = nn.Conv2d(3, 8)\ny = F.relu(x).view(-1)\nself.nn = torch.nn\nprint(x)\n"
    out = highlight_code(code, PythonLexer(), resolver.resolve_code)
    assert f'<a class="code-link" href="{CONV2D}">nn<span class="o">.</span>Conv2d</a>' in out
    assert 'href="https://pytorch.org/docs/stable/nn.html#module-torch.nn"' in out
    assert "view</a>" not in out  # an attribute of a result: unknown
    assert out.count("<a ") == 3  # nn.Conv2d, F.relu, torch.nn; not x, print, self.nn
    text = re.sub(r"<[^>]+>", "", out).replace("&gt;", ">").replace("&lt;", "<")
    assert text.strip("\n") == code.strip("\n")


# --- markdown: never inside code or another link --------------------------------------


class _Nesting(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links = self.pre = 0
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "a":
            if dict(attrs).get("class") == "api-link" and (self.links or self.pre):
                self.problems.append(self.get_starttag_text() or "")
            self.links += 1
        elif tag == "pre":
            self.pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self.links = max(0, self.links - 1)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)


_NAMES = st.sampled_from(
    ["linkdemo.Widget", "nn.Conv2d", "x + 1", "make_widget()", "torch.nn.Conv3x", "self", "F"]
)
_WORDS = st.text(alphabet=st.characters(blacklist_characters="`[]<>\\&"), max_size=20)
_FRAGMENTS = st.one_of(
    _WORDS,
    _NAMES.map(lambda n: f"`{n}`"),
    _NAMES.map(lambda n: f"[`{n}`](https://example.org/a)"),
    _NAMES.map(lambda n: f"[see `{n}` here](#b)"),
    _NAMES.map(lambda n: f'<a href="https://example.org/c">`{n}`</a>'),
    _NAMES.map(lambda n: f"\n\n```\n{n} `{n}`\n```\n\n"),
    _NAMES.map(lambda n: f"\n\n    `{n}` {n}\n\n"),
    st.sampled_from(["\n\n", "\n", "# ", "## ", "- ", "> ", "*", "_", "**", " ", "`", "|"]),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_FRAGMENTS, max_size=14).map("".join))
def test_markdown_links_never_nest_or_enter_code(resolver: PageResolver, text: str) -> None:
    ctx = PageContext(source="t.ipynb", nb_dir=Path("."), root="", resolve=resolver)
    out = _RENDERER.render(text, ctx)
    checker = _Nesting()
    checker.feed(out)
    assert checker.problems == [], out


_RENDERER = MarkdownRenderer()

_PARTS = ["torch", "nn", "F", "Widget", "os", "path", "__class__", "mro", "x", "relu", "grow"]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.text(max_size=40),
        st.lists(st.sampled_from(_PARTS), min_size=1, max_size=5).map(".".join),
        st.lists(st.sampled_from(_PARTS), min_size=1, max_size=3).map(lambda p: ".".join(p) + "()"),
    )
)
def test_resolution_never_crashes(resolver: PageResolver, text: str) -> None:
    url = resolver(text)
    assert url is None or url.startswith(("https://", "index.html", "api/"))
    assert resolver.resolve_code(text) is None or text.split(".")[0] in resolver.namespace


def test_markdown_links_resolved_names(resolver: PageResolver) -> None:
    ctx = PageContext(source="t.ipynb", nb_dir=Path("."), root="../", resolve=resolver)
    out = _RENDERER.render("Use `nn.Conv2d` and `linkdemo.Widget`, not `x + 1`.", ctx)
    assert f'<a class="api-link" href="{CONV2D}"><code>nn.Conv2d</code></a>' in out
    assert f'<a class="api-link" href="../{WIDGET_HOME}"><code>linkdemo.Widget</code></a>' in out
    assert "<code>x + 1</code>" in out and out.count("<a ") == 2


# --- the built site -------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    with linkdemo_importable():
        report = build_linkdemo_site(tmp_path_factory.mktemp("linkdemo"))
    return report


def test_unresolved_names_are_listed_with_their_page(site) -> None:  # type: ignore[no-untyped-def]
    broken = [w for w in site.warnings if "looks like an API name" in w]
    assert len(broken) == 1
    assert "index.ipynb" in broken[0] and "`torch.nn.Conv3x`" in broken[0]


def test_strict_fails_on_unresolved_names(tmp_path: Path) -> None:
    with linkdemo_importable(), pytest.raises(BuildFailed) as failed:
        build_linkdemo_site(tmp_path, strict=True)
    assert any("torch.nn.Conv3x" in p for p in failed.value.problems)
    assert not (tmp_path / "site").exists()


def test_show_doc_anchors_the_symbol_on_its_page(site) -> None:  # type: ignore[no-untyped-def]
    page = (site.out / "index.html").read_text()
    assert 'id="linkdemo.core.Widget"' in page and 'id="linkdemo.core.Widget.grow"' in page
    assert 'href="#linkdemo.core.Widget"' in page  # the TOC lists it
    assert "https://github.com/example/linkdemo/blob/main/linkdemo/core.py#L9" in page
    core = (site.out / "api" / "linkdemo.core.html").read_text()
    assert 'id="linkdemo.core.Widget"' not in core
    assert 'href="../index.html#linkdemo.core.Widget"' in core  # "documented on other pages"
    for name in ("make_widget", "compile", "Widget.area"):
        assert f'id="linkdemo.core.{name}"' in core
    assert "_private" not in core and "_hidden" not in core


def test_every_public_symbol_has_a_home(site) -> None:  # type: ignore[no-untyped-def]
    symbols = json.loads((site.out / "symbols.json").read_text())
    for name, entry in symbols.items():
        page, _, anchor = entry["url"].partition("#")
        html = (site.out / page).read_text()
        assert not anchor or f'id="{anchor}"' in html, name
    assert symbols["linkdemo.Gadget"]["kind"] == "class"
    assert symbols["linkdemo.core.Widget.area"]["kind"] == "property"
    assert symbols["linkdemo.extra.helper"]["signature"].startswith("(x: int, /, y: int = 2")
    summary = symbols["linkdemo.core.make_widget"]["summary"]
    assert summary == "Make a `Widget` of `size`, on `device`."
    assert (site.out / "api" / "index.html").is_file()


def test_links_in_pages(site) -> None:  # type: ignore[no-untyped-def]
    index = (site.out / "index.html").read_text()
    assert f'href="{CONV2D}"><code>nn.Conv2d</code>' in index
    assert 'class="code-link"' in index
    guide = (site.out / "guide" / "usage.html").read_text()
    assert guide.count('class="api-link"') == 1  # only the bare one, not those inside links
    assert 'href="../index.html#linkdemo.core.Widget"><code>linkdemo.Widget</code>' in guide


def test_objects_inv_lists_symbols_pages_and_headings(site) -> None:  # type: ignore[no-untyped-def]
    items = {(i.domain, i.role, i.name): i for i in read_inventory(
        (site.out / "objects.inv").read_bytes())}
    assert items[("py", "class", "linkdemo.core.Widget")].uri == WIDGET_HOME
    assert ("py", "method", "linkdemo.core.Widget.grow") in items
    assert ("py", "property", "linkdemo.core.Widget.area") in items
    assert ("py", "function", "linkdemo.extra.helper") in items
    assert ("py", "module", "linkdemo.extra") in items
    assert items[("std", "doc", "index")].dispname == "Link demo"
    assert items[("std", "label", "index#usage")].uri == "index.html#usage"


# --- configuration and other projects' inventories ------------------------------------


def test_missing_package_is_a_clear_usage_error() -> None:
    with pytest.raises(UsageError, match="'no_such_package_xyz'.*cannot be imported"):
        discover_api(["no_such_package_xyz"])


def test_inventories_option_is_checked() -> None:
    ok = parse_table({"inventories": {"numpy": "https://numpy.org/doc/stable/"}}, "t.toml")
    assert ok["inventories"] == {"numpy": "https://numpy.org/doc/stable/"}
    with pytest.raises(UsageError, match="inventories"):
        parse_table({"inventories": {"numpy": 3}}, "t.toml")


def _inventory() -> bytes:
    item = InventoryItem("other.thing", "py", "function", 1, "api.html#other.thing", "other.thing")
    return write_inventory("other", "1", [item])


def test_local_inventory_links_relative_to_the_site(tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "objects.inv").write_bytes(_inventory())
    urls = load_inventory("other", "../other", tmp_path / "proj", tmp_path / "proj" / "site",
                          warn=pytest.fail)
    assert urls == {"other.thing": "../../other/api.html#other.thing"}


def test_inventory_downloads_once_and_works_offline(tmp_path: Path) -> None:
    warnings: list[str] = []
    fetched: list[str] = []

    def online(url: str) -> bytes:
        fetched.append(url)
        return _inventory()

    def offline(url: str) -> bytes:
        raise urllib.error.URLError("no network")

    site = "https://example.org/docs"
    args = ("other", site, tmp_path, tmp_path / "site")
    expected = {"other.thing": "https://example.org/docs/api.html#other.thing"}
    assert load_inventory(*args, warn=warnings.append, fetch=online) == expected
    assert fetched == ["https://example.org/docs/objects.inv"]
    assert load_inventory(*args, warn=warnings.append, fetch=offline) == expected  # cached
    assert warnings == []
    later = (tmp_path / ".docgen_cache").stat().st_mtime + INVENTORY_MAX_AGE_S + 60
    assert load_inventory(*args, warn=warnings.append, fetch=offline, now=later) == expected
    assert len(warnings) == 1 and "using the copy cached" in warnings[0]
    empty = tmp_path / "empty"
    assert load_inventory("other", site, empty, empty / "site", warn=warnings.append,
                          fetch=offline) == {}
    assert "not cached" in warnings[1]


def test_names_documented_by_their_dotted_path_need_no_import(index: SymbolIndex) -> None:
    """`nn.Conv2d` is `torch.nn.Conv2d` by the import alone: resolving it imports nothing.
    Only a name whose path is not documented (an alias) needs the object."""
    from docgen.api.resolve import Importer

    imported: list[str] = []

    class Recording(Importer):
        def __call__(self, module: str) -> object:
            imported.append(module)
            return super().__call__(module)

    importer = Recording()
    cells = ["import torch.nn as nn", "from torch import Tensor"]
    namespace, defined = notebook_namespace(cells, importer)
    resolver = PageResolver(index, namespace, defined, importer)
    assert resolver("nn.Conv2d") == index.lookup("torch.nn.Conv2d")
    assert resolver("Tensor.view") == index.lookup("torch.Tensor.view")
    assert resolver.resolve_code("nn.Conv2d") == index.lookup("torch.nn.Conv2d")
    assert imported == []
    assert resolver("nn.Parameter") == index.lookup("torch.nn.parameter.Parameter")
    assert imported == ["torch.nn"]
