"""Rendering the site's pages through a build session: a page whose inputs are unchanged
is taken from the session, and only the others are rendered (and kept)."""

from __future__ import annotations

from typing import Any

from docgen.api.index import SymbolIndex
from docgen.api.modidx import nbdev_page
from docgen.api.pages import render_linked_page
from docgen.api.resolve import Importer
from docgen.config import Config
from docgen.model import Page, Source
from docgen.render.code import highlight_code
from docgen.render.markdown import MarkdownRenderer
from docgen.render.page import image_roots
from docgen.session.keys import digest
from docgen.session.session import BuildSession
from docgen.session.store import Warn


def body_options(config: Config) -> dict[str, Any]:
    """The options a page's body depends on (the theme's wrap around it is made each build)."""
    return {
        "root": str(config.root),
        "image_roots": [str(p) for p in image_roots(config)],
        "max_output_chars": config.max_output_chars,
        "allow_remote": config.allow_remote,
        "repo": config.repo,
        "branch": config.branch,
        "nbdev": config.nbdev,
    }


def render_pages(
    all_pages: list[tuple[Source, Any]],
    config: Config,
    index: SymbolIndex,
    index_key: str,
    session: BuildSession,
    warn: Warn,
    importer: Importer | None = None,
) -> tuple[list[Page], list[str]]:
    """(every page, in order; the URLs of those rendered rather than reused)."""
    page_links = {s.rel.as_posix(): s.url for s, _ in all_pages}
    for s, _ in all_pages:  # nbdev links `api/migrate.ipynb` for api/16_migrate.ipynb
        page_links.setdefault(s.url.removesuffix(".html") + ".ipynb", s.url)
    urls = {s.url for s, _ in all_pages}
    for s, _ in all_pages if config.nbdev else []:  # and nbdev's page names (the home page's)
        if not s.generated and nbdev_page(s.rel) not in urls:
            page_links.setdefault(nbdev_page(s.rel), s.url)
    shared = digest(
        {
            "stamp": session.stamp,
            "pages": page_links,
            "index": index_key,
            "options": body_options(config),
        }
    )
    md: MarkdownRenderer | None = None  # slow to make: only when a page is rendered
    pages: list[Page] = []
    rendered: list[str] = []
    for source, nb in all_pages:
        where = [str(source.path), source.rel.as_posix(), source.url, source.generated]
        key = digest([shared, where, nb])
        page = session.page(source, key, nb, warn)
        if page is None:
            md = md or MarkdownRenderer()
            code = [cell.get("source") for cell in nb.cells if cell.get("cell_type") == "code"]
            highlight, keep_code = session.highlighter(
                source.url, digest([shared, code]), highlight_code, warn
            )
            page = render_linked_page(
                source, nb, md, config, page_links, index, importer, highlight=highlight
            )
            rendered.append(source.url)
            if not page.errors:  # a page with errors fails the build: nothing to keep
                session.keep_page(page, key, warn)
                keep_code()
        pages.append(page)
    return pages, rendered
