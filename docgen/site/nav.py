"""The sidebar: top-level pages first, then one section per folder."""

from __future__ import annotations

from dataclasses import dataclass

from docgen.model import Page
from docgen.render.page import _label


@dataclass(frozen=True)
class NavSection:
    title: str
    pages: list[tuple[str, str]]  # (title, url)


def navigation(pages: list[Page]) -> list[NavSection]:
    """Sidebar sections: top-level pages first, then one section per folder, in site order."""
    sections: dict[str, list[tuple[str, str]]] = {}
    titles: dict[str, str] = {}
    for page in pages:
        key = page.source.section
        sections.setdefault(key, []).append((page.title, page.url))
        if key and page.source.rel.stem == "index":
            titles[key] = page.title
    return [
        NavSection(titles.get(key) or " / ".join(_label(p) for p in key.split("/")), items)
        for key, items in sections.items()
    ]
