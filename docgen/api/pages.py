"""Where `show_doc` documents each symbol, generated API pages for the rest, and the
rendering of a page with its names linked.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import importlib
import importlib.util
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from docgen.api.index import API_DIR, SymbolIndex, api_page_url
from docgen.api.introspect import import_object
from docgen.api.nbdev_entries import exported_names
from docgen.api.resolve import Importer, PageResolver, notebook_namespace
from docgen.config import Config
from docgen.errors import DocgenError
from docgen.model import Heading, Page, Source
from docgen.notebooks.cells import cell_options
from docgen.notebooks.node import from_dict
from docgen.render.code import Highlight, highlight_code
from docgen.render.context import PageContext
from docgen.render.markdown import MarkdownRenderer
from docgen.render.page import render_page
from docgen.runtime.entry import render_doc_html
from docgen.runtime.showdoc import DOC_MIME, ShowDoc, describe
from docgen.runtime.userobjects import text_attr
from docgen.site.urls import href

if TYPE_CHECKING:
    import nbformat

_NOTEBOOK_METADATA = {
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"},
}


def documented_symbols(
    pages: list[tuple[Source, nbformat.NotebookNode]],
) -> dict[str, str]:
    """name -> "page.html#anchor" (a link from the site root) for every `show_doc` output a
    page shows; first page wins."""
    homes: dict[str, str] = {}
    for source, nb in pages:
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            options = cell_options(cell)
            if not (options.show_cell and options.show_output):
                continue
            for out in cell.get("outputs", []):
                data = out.get("data", {}).get(DOC_MIME)
                if isinstance(data, dict) and data.get("home", True) and data.get("name"):
                    homes.setdefault(data["name"], href(source.url, data["name"]))
    return homes


def show_doc_cell(expression: str, obj: Any, name: str, level: int | None = None) -> Any:
    """A code cell `show_doc(expression)` with its output, made without importing nbformat
    (see notebooks/node.py: an nbdev build makes one per exported name, every build), its
    id from its source, so that two builds of the same docs make the same notebook."""
    return doc_data_cell(expression, describe(obj, name=name, level=level))


def doc_data_cell(expression: str, data: dict[str, Any]) -> Any:
    """`show_doc_cell` for a `describe` result."""
    source = f"#| echo: false\nshow_doc({expression})"
    bundle, metadata = ShowDoc(data)._repr_mimebundle_()
    output = {"output_type": "display_data", "data": bundle, "metadata": metadata}
    return from_dict(
        {
            "cell_type": "code",
            "id": "doc-" + hashlib.sha256(source.encode()).hexdigest()[:12],
            "metadata": {},
            "source": source,
            "execution_count": None,
            "outputs": [output],
        }
    )


def _api_notebook(module: str, index: SymbolIndex, documented: set[str]) -> Any:
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    api = index.api
    doc = text_attr(import_object(module), "__doc__").strip()
    cells = [new_markdown_cell(f"# {module}\n\n{doc}".strip())]
    members = api.members(module)
    elsewhere = [s for s in members if s.name in documented]
    if elsewhere:
        listed = "\n".join(f"- `{s.name}`" for s in elsewhere)
        cells.append(new_markdown_cell(f"Documented on other pages:\n\n{listed}"))
    cells.append(new_code_cell(f"#| hide\nimport {module}\nfrom docgen import show_doc"))
    for symbol in members:
        if symbol.name in documented:
            continue
        obj = import_object(symbol.name)
        if obj is None:
            continue
        expression = f"{module}.{symbol.short_name}"
        cells.append(show_doc_cell(expression, obj, symbol.name))
    return _with_stable_ids(new_notebook(cells=cells, metadata=_NOTEBOOK_METADATA))


def _with_stable_ids(nb: Any) -> Any:
    """The notebook with cell ids by position: nbformat's are random, and two builds of
    the same docs must write the same files."""
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"
    return nb


def api_notebooks(
    index: SymbolIndex, documented: dict[str, str], nbs: Path, taken: set[str]
) -> list[tuple[Source, Any]]:
    """The generated API pages: an index, then one page per public module, in name order."""
    homes = {c for c in (index.api.canonical(n) for n in [*documented, *index.own]) if c}
    modules = index.api.modules()
    if not modules:
        return []
    from nbformat.v4 import new_markdown_cell, new_notebook

    pages: list[tuple[Source, Any]] = []
    lines = "\n".join(
        f"- `{m}`" + (f": {index.api.symbols[m].summary}" if index.api.symbols[m].summary else "")
        for m in modules
    )
    overview = _with_stable_ids(
        new_notebook(
            cells=[new_markdown_cell(f"# API reference\n\n{lines}")], metadata=_NOTEBOOK_METADATA
        )
    )
    pages.append((_source(nbs, "index"), overview))
    for module in modules:
        members = index.api.members(module)
        if module in index.own and all(m.name in homes for m in members):
            continue  # an nbdev module whose notebook documents all of it: its only page
        pages.append((_source(nbs, module), _api_notebook(module, index, homes)))
    clash = sorted(taken & {s.url for s, _ in pages})
    if clash:
        raise DocgenError(
            f"the notebook page {clash[0]} would be overwritten by a generated API page; "
            f"rename the notebook or its '{API_DIR}' folder"
        )
    return pages


def _source(nbs: Path, stem: str) -> Source:
    return Source(
        path=nbs / API_DIR / f"{stem}.ipynb",
        rel=PurePosixPath(f"{API_DIR}/{stem}.ipynb"),
        url=api_page_url(stem),
        generated=True,
    )


def source_url(data: dict[str, Any], config: Config) -> str | None:
    """A link to the object's source in the configured repository, at its line."""
    module, line = data.get("module"), data.get("line")
    if not config.repo or not module or not line:
        return None
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    try:
        rel = Path(spec.origin).resolve().relative_to(config.root.resolve()).as_posix()
    except ValueError:
        return None  # not a file of this repository
    anchor = f"#L{line}" if data.get("kind") != "module" else ""
    return f"{config.repo.rstrip('/')}/blob/{href(config.branch)}/{href(rel)}{anchor}"


DocRenderer = Callable[[Any, PageContext, MarkdownRenderer], "str | None"]


def doc_output_renderer(resolver: PageResolver, config: Config) -> DocRenderer:
    """Renders a `show_doc` output's description with the page's links and anchor."""

    def render(data: Any, ctx: PageContext, md: MarkdownRenderer) -> str | None:
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            return None  # not ours after all: the output's HTML is shown instead
        anchor = None
        if data.get("home", True):
            anchor = ctx.claim_id(data["name"])
            level = int(data.get("level") or 3)
            ctx.headings.append(Heading(level, anchor, data.get("display") or data["name"]))

        def link(name: str) -> str | None:
            url = resolver.resolve_full(name)
            return ctx.link_href(url) if url else None

        body = render_doc_html(
            data,
            markdown=lambda text: md.render(text, ctx),
            link=link,
            anchor=anchor,
            source_url=source_url(data, config),
        )
        alias = _nbdev_alias(data, ctx) if config.nbdev and anchor is not None else ""
        return f'<div class="output output-api">{alias}{body}</div>'

    return render


def nbdev_anchor(display: str) -> str:
    """The anchor nbdev's site gives an entry: its qualified name in lower case, as the
    links in nbdev's `_modidx.py` write it (`maker.html#modulemaker.make_all`)."""
    return display.lower()


def _nbdev_alias(data: dict[str, Any], ctx: PageContext) -> str:
    """An empty element with the entry's nbdev-style id, so links written for nbdev's site
    find it; none when the page already uses that id (docgen's own anchors come first)."""
    if data.get("kind") == "module" or not isinstance(data.get("display"), str):
        return ""
    alias = nbdev_anchor(data["display"])
    if not alias or alias in ctx.used_ids:
        return ""
    ctx.used_ids.add(alias)
    return f'<span class="anchor-alias" id="{html.escape(alias)}"></span>'


def render_linked_page(
    source: Source,
    nb: nbformat.NotebookNode,
    md: MarkdownRenderer,
    config: Config,
    page_links: dict[str, str],
    index: SymbolIndex,
    importer: Importer | None = None,
    highlight: Highlight = highlight_code,
) -> Page:
    """`render_page` with every name linked as the page's own imports mean it.

    Backticked names that look like references but name nothing become page warnings, and
    so does a module that fails to import on this page (`importer` is shared by the pages of
    one build, so each such module is told once, on the first page that imports it).
    """
    importer = importer or Importer()
    known_failures = set(importer.failures)
    cells = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    namespace, defined = notebook_namespace(cells, importer)
    defined -= exported_names(nb)  # an nbdev module's own API: linked to its entries
    resolver = PageResolver(index, namespace, defined, importer)
    page = render_page(
        source,
        nb,
        md,
        config,
        page_links,
        resolve=resolver,
        link_code=resolver.resolve_code,
        mime_renderers={DOC_MIME: doc_output_renderer(resolver, config)},
        highlight=highlight,
    )
    unresolved = [
        f"{source.path}: `{text}` looks like an API name but names nothing that exists "
        "(check the spelling, or import it in the notebook)"
        for text in resolver.unresolved
    ]
    failed_imports = [
        f"{source.path}: module '{module}' cannot be imported to link names ({error}); "
        "names from it stay unlinked on every page"
        for module, error in importer.failures.items()
        if module not in known_failures
    ]
    return dataclasses.replace(page, warnings=[*page.warnings, *failed_imports, *unresolved])
