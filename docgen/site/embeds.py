"""What other sites embed: `_embed/<page>.json`, each page's sections and labelled cells as
HTML fragments.

A section is a heading and everything after it up to the next heading of the same or a
higher level; a labelled cell is one cell whose tag `label:NAME` named it. Every URL in a
fragment is relative to the site's root (not to its page), so whoever embeds it resolves
them against the site once: images to copy, links back into the site.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import urljoin

from pygments.formatters import HtmlFormatter

from docgen import __version__
from docgen.model import Heading, Page
from docgen.site.meta import public_base
from docgen.site.theme import templates_dir
from docgen.site.urls import href

EMBED_DIR = "_embed"
EMBED_FORMAT = 1
EMBED_CLASS = "docgen-embed"  # the one class every rule of the embed stylesheet is under
EMBED_CSS = "_static/docgen-embed.css"
# Every cell of a body starts a line with its div (render/page.py joins them with "\n").
_CELL_START = '\n<div class="cell '
_CELL_OPEN = re.compile(r'<div class="cell (markdown|code|raw)-cell"(?: id="([^"]*)")?>')
URL_ATTR = re.compile(r"""\b(href|src)=("[^"]*"|'[^']*')""", re.I)
# A tag (its attribute values may hold ">"), a comment, or a script or style element: only
# tags carry links; text such as `&lt;a href="x"&gt;` in shown code is text.
_OPEN_TAG = r"""<[a-zA-Z](?:"[^"]*"|'[^']*'|[^'">])*>"""
_MARKUP = re.compile(
    rf"<!--.*?(?:-->|\Z)|(?=<(?:script|style)\b)({_OPEN_TAG}).*?(?:</(?:script|style)\s*>|\Z)"
    rf"|{_OPEN_TAG}",
    re.S | re.I,
)


def sub_urls(fragment: str, rewrite: Callable[[re.Match[str]], str]) -> str:
    """`URL_ATTR.sub(rewrite, fragment)` on the attributes of the fragment's tags only:
    text, comments and the content of scripts and styles stay as written."""

    def tag(m: re.Match[str]) -> str:
        text = m.group(0)
        if text.startswith("<!--"):
            return text
        end = len(m.group(1)) if m.group(1) else len(text)  # a script's or style's own tag
        return URL_ATTR.sub(rewrite, text[:end]) + text[end:]

    return _MARKUP.sub(tag, fragment)


def fragment_urls(fragment: str) -> list[str]:
    """The href and src values of the fragment's tags, as written (still HTML-escaped)."""
    found: list[str] = []

    def record(m: re.Match[str]) -> str:
        found.append(m.group(2)[1:-1])
        return m.group(0)

    sub_urls(fragment, record)
    return found
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_BASE = "http://docgen.invalid/"


def embed_path(page_url: str) -> str:
    """The embed file of the page at site path `page_url`."""
    return f"{EMBED_DIR}/{page_url.removesuffix('.html')}.json"


@dataclass(frozen=True)
class _Piece:
    """Part of a page body: a whole cell, or part of a markdown cell from a heading on."""

    html: str
    heading: Heading | None  # the heading this piece starts with


_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_ID = re.compile(r"""\bid=(?:"([^"]*)"|'([^']*)')""")
_HEADING = frozenset(f"h{n}" for n in range(1, 7))


def _top_headings(inner: str) -> list[tuple[int, str]]:
    """(offset, id) of each heading at the top level of a markdown cell's HTML: headings
    inside other elements (an admonition, a table) do not start a section there."""
    if "<h" not in inner and "<H" not in inner:
        return []
    stack: list[str] = []
    found = []
    for m in _TAG.finditer(inner):
        closing, tag, attrs = m.group(1), m.group(2).lower(), m.group(3)
        if closing:
            if tag in stack:  # unbalanced HTML: close up to the matching tag
                while stack.pop() != tag:
                    pass
            continue
        if not stack and tag in _HEADING:
            anchor = _ID.search(attrs)
            if anchor:
                found.append((m.start(), unescape(anchor.group(1) or anchor.group(2) or "")))
        if tag not in _VOID and not attrs.rstrip().endswith("/"):
            stack.append(tag)
    return found


def _cells(body: str) -> list[str]:
    """A page body's cells, each starting with its div: what a cell's own HTML holds that
    looks like the start of a cell stays in that cell."""
    cells: list[str] = []
    for i, part in enumerate(body.split(_CELL_START)):
        cell = part if i == 0 else _CELL_START[1:] + part
        if cells and not _CELL_OPEN.match(cell):
            cells[-1] += "\n" + cell
        elif cell:
            cells.append(cell)
    return cells


def _pieces(body: str, headings: list[Heading]) -> list[_Piece]:
    by_anchor = {h.anchor: h for h in headings}
    pieces: list[_Piece] = []
    for cell in _cells(body):
        opened = _CELL_OPEN.match(cell)
        if opened is None or opened.group(1) != "markdown":
            pieces.append(_Piece(cell, None))
            continue
        inner = cell[opened.end() : cell.rfind("</div>")]
        cuts = [(at, by_anchor[a]) for at, a in _top_headings(inner) if a in by_anchor]
        if not cuts:
            pieces.append(_Piece(cell, None))
            continue
        if inner[: cuts[0][0]].strip():
            pieces.append(_Piece(f"{opened.group(0)}{inner[: cuts[0][0]]}</div>", None))
        for i, (at, heading) in enumerate(cuts):
            end = cuts[i + 1][0] if i + 1 < len(cuts) else len(inner)
            # Only the first part keeps the cell's own id (its label), so ids stay unique.
            tag = opened.group(0) if at == 0 else '<div class="cell markdown-cell">'
            pieces.append(_Piece(f"{tag}{inner[at:end]}</div>", heading))
    return pieces


def site_relative(fragment: str, page_url: str) -> str:
    """`fragment` with every relative href/src (written for the page at `page_url`) made
    relative to the site's root; `#x` becomes a link to `#x` on that page."""
    base = _BASE + href(page_url)
    folder = posixpath.dirname(href(page_url)) or "."
    joined: dict[str, str | None] = {}  # a page links to the same few places many times

    def relative(value: str) -> str | None:
        if value not in joined:
            path = re.split(r"[?#]", value, maxsplit=1)[0]
            # A link above the site's root ('../' too many) is left as written.
            outside = posixpath.normpath(posixpath.join(folder, path)).startswith("../")
            url = urljoin(base, value.replace("&amp;", "&"))
            joined[value] = None if outside else url[len(_BASE) :].replace("&", "&amp;")
        return joined[value]

    def rewrite(m: re.Match[str]) -> str:
        quote, value = m.group(2)[0], m.group(2)[1:-1]
        if not value or _SCHEME.match(value) or value.startswith(("/", "\\")):
            return m.group(0)
        new = relative(value)
        return m.group(0) if new is None else f"{m.group(1)}={quote}{new}{quote}"

    return sub_urls(fragment, rewrite)


def fragment_images(fragment: str, images: Iterable[str]) -> list[str]:
    """The site paths of the page's `images` that a (site-relative) fragment shows."""
    return [path for path in images if f'src="{href(path)}"' in fragment]


def page_embed(page: Page, project: str, version: str, site_url: str = "") -> dict[str, Any]:
    """The embed record of one page: its sections and labelled cells as fragments."""
    pieces = _pieces(page.body, page.headings)
    sections = []
    for i, piece in enumerate(pieces):
        heading = piece.heading
        if heading is None:
            continue
        end = next(
            (
                j
                for j in range(i + 1, len(pieces))
                if (h := pieces[j].heading) is not None and h.level <= heading.level
            ),
            len(pieces),
        )
        html = site_relative("\n".join(p.html for p in pieces[i:end]), page.url)
        sections.append(
            {
                "anchor": heading.anchor,
                "title": heading.text,
                "level": heading.level,
                "html": html,
                "images": fragment_images(html, page.images),
            }
        )
    cells = []
    for cell in _cells(page.body):
        opened = _CELL_OPEN.match(cell)
        if opened is not None and opened.group(2):
            html = site_relative(cell, page.url)
            cells.append(
                {
                    "label": unescape(opened.group(2)),
                    "html": html,
                    "images": fragment_images(html, page.images),
                }
            )
    content = {"title": page.title, "sections": sections, "cells": cells}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return {
        "docgen_embed": EMBED_FORMAT,
        "generator": f"docgen {__version__}",
        "project": project,
        "version": version,
        "page": {"title": page.title, "url": href(page.url)},
        "site_url": public_base(site_url),
        "hash": digest,
        "stylesheet": EMBED_CSS,
        "sections": sections,
        "cells": cells,
    }


def embed_stylesheet(pygments_style: str = "default") -> str:
    """The stylesheet of embedded fragments: the theme's scoped rules and the code colours,
    every selector under `.docgen-embed` (see templates/embed/docgen-embed.css)."""
    scope = f".{EMBED_CLASS}.{EMBED_CLASS} .highlight"
    # Only the token rules: the formatter's others (`pre { ... }`) are not scoped.
    colours = "\n".join(HtmlFormatter(style=pygments_style).get_token_style_defs(scope))
    own = (templates_dir() / "embed" / "docgen-embed.css").read_text(encoding="utf-8")
    return f"{own}\n{colours}\n"


def embed_files(
    pages: Iterable[Page], project: str, version: str, site_url: str = ""
) -> dict[str, bytes]:
    """`_embed/<page>.json` for every page, and the fragments' stylesheet."""
    files = {
        embed_path(page.url): (
            json.dumps(page_embed(page, project, version, site_url), ensure_ascii=False, indent=1)
            + "\n"
        ).encode()
        for page in pages
    }
    files[EMBED_CSS] = embed_stylesheet().encode()
    return files


def cell_labels(body: str) -> list[str]:
    """The labels of a page body's labelled cells (their anchors), in order."""
    return [
        unescape(m.group(2))
        for cell in _cells(body)
        if (m := _CELL_OPEN.match(cell)) is not None and m.group(2)
    ]
