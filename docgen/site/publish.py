"""What the site publishes for other tools: `objects.inv` (Sphinx), `symbols.json` and the
embeddable fragments of every page (`_embed/`, see embeds.py)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from docgen.api.index import SymbolIndex
from docgen.api.introspect import import_object
from docgen.api.inventory import InventoryItem, writable, write_inventory
from docgen.config import Config
from docgen.model import Page
from docgen.runtime.userobjects import (
    text_attr,
)
from docgen.site.embeds import cell_labels, embed_files
from docgen.site.urls import href


@dataclass(frozen=True)
class PageEntry:
    """What objects.inv lists of one page: its URL, title and headings (anchor, text)."""

    url: str
    title: str
    headings: list[tuple[str, str]]


def inventory_items(index: SymbolIndex, pages: Iterable[PageEntry]) -> list[InventoryItem]:
    """Every API symbol (py:*), page (std:doc) and heading (std:label) of the site."""
    items = [
        InventoryItem(s.name, "py", s.kind, 1, s.url, s.name)
        for s in index.api.symbols.values()
        if s.url
    ]
    labels: set[str] = set()
    for page in pages:
        # A page's name is its path (`guide/my page`); its uri the link to it, encoded.
        docname = page.url[: -len(".html")] if page.url.endswith(".html") else page.url
        items.append(
            InventoryItem(docname, "std", "doc", -1, href(page.url), page.title or docname)
        )
        for anchor, text in page.headings:
            # Sphinx looks labels up in lower case (`:ref:` lower-cases its target).
            label = f"{docname}#{anchor}".lower()
            if label in labels or any(c.isspace() for c in label):
                continue
            labels.add(label)
            items.append(
                InventoryItem(label, "std", "label", -1, href(page.url, anchor), text or label)
            )
    # A name no reader could split from the rest of its line (a page named `a b:c 1 d`,
    # or with a line break) is left out of objects.inv; its page is still in the site.
    return [item for item in items if writable(item)]


def objects_inv(
    index: SymbolIndex, pages: Iterable[PageEntry], project: str, version: str
) -> bytes:
    return write_inventory(project, version, inventory_items(index, pages))


def symbols_json(index: SymbolIndex) -> bytes:
    """name -> {url, kind, signature, summary} for every API symbol, and every alias."""
    data: dict[str, dict[str, str]] = {}
    for s in index.api.symbols.values():
        data[s.name] = {
            "url": s.url,
            "kind": s.kind,
            "signature": s.signature,
            "summary": s.summary,
        }
    for alias, canonical in sorted(index.api.aliases.items()):
        data.setdefault(alias, {**data[canonical], "alias_of": canonical})
    return (json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def project_version(packages: list[str]) -> str:
    for package in packages:
        version = text_attr(import_object(package), "__version__")
        if version:
            return version
    return ""


def site_symbol_files(
    pages: list[Page], index: SymbolIndex, config: Config, version: str | None = None
) -> dict[str, bytes]:
    """objects.inv (for Sphinx's intersphinx and other tools), symbols.json and `_embed/`;
    `version` is the project's (default: its packages' `__version__`, which imports them).
    Headings and labelled cells are objects.inv's std:label entries."""
    entries = [
        PageEntry(
            page.url,
            page.title,
            [(h.anchor, h.text) for h in page.headings]
            + [(label, label) for label in cell_labels(page.body)],
        )
        for page in pages
    ]
    if version is None:
        version = project_version(config.packages)
    return {
        "objects.inv": objects_inv(index, entries, config.title, version),
        "symbols.json": symbols_json(index),
        **embed_files(pages, config.title, version, config.site_url),
    }
