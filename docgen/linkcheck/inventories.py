"""The inventories `docgen check` knows: links into PyTorch, Python or any Sphinx site are
checked against their names offline.
"""

from __future__ import annotations

import difflib
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from docgen.api.external import nbdev_indexes
from docgen.api.inventory import read_inventory
from docgen.errors import UsageError


@dataclass(frozen=True)
class Inventory:
    """A known external site: its base URL and, for each page URL, the anchors it has."""

    name: str
    base: str
    pages: Mapping[str, frozenset[str]]
    # An objects.inv lists every page of its site; an nbdev index lists only the pages of
    # API names, so a page it lacks beside none of them (a tutorial) may still exist.
    complete: bool = True


def _inventory_from_urls(
    name: str, urls: Iterable[str], base: str = "", complete: bool = True
) -> list[Inventory]:
    by_site: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for url in urls:
        page, _, fragment = url.partition("#")
        parts = urlsplit(page)
        anchors = by_site[f"{parts.scheme}://{parts.netloc}/"][page]
        if fragment:
            anchors.add(fragment)
    if base:  # an objects.inv: its base URL is given
        pages = {p: frozenset(a) for site in by_site.values() for p, a in site.items()}
        return [Inventory(name, base if base.endswith("/") else base + "/", pages, complete)]
    found = []
    for site, site_pages in by_site.items():
        prefix = os.path.commonprefix(list(site_pages))
        prefix = prefix[: prefix.rfind("/") + 1] if len(prefix) > len(site) else site
        frozen = {page: frozenset(anchors) for page, anchors in site_pages.items()}
        found.append(Inventory(name, prefix, frozen, complete))
    return found


def load_inventories(
    inventories: Mapping[str, Path | bytes] | None = None, nbdev: bool = True
) -> tuple[list[Inventory], list[str]]:
    """The known inventories, and warnings for indexes that could not be loaded.

    `inventories` maps base URLs to objects.inv data (or files); `nbdev` adds the indexes
    installed through the `nbdev` entry-point group (nbdev-pytorch, nbdev-stdlib, ...).
    """
    found: list[Inventory] = []
    warnings: list[str] = []
    if nbdev:
        indexes, warnings = nbdev_indexes()
        for name, entries in indexes.items():
            urls = (url for _, url in entries)
            found += _inventory_from_urls(name, urls, complete=False)
    for base, data in (inventories or {}).items():
        try:
            raw = data if isinstance(data, bytes) else Path(data).read_bytes()
            items = read_inventory(raw, base)
        except (OSError, ValueError) as e:
            raise UsageError(f"inventory for {base}: {e}") from e
        found += _inventory_from_urls(base, (i.uri for i in items), base=base)
    return found, warnings


def _merge_by_base(inventories: Iterable[Inventory]) -> list[Inventory]:
    merged: dict[str, Inventory] = {}
    for inv in inventories:
        if inv.base in merged:
            old = merged[inv.base]
            pages = {
                p: old.pages.get(p, frozenset()) | inv.pages.get(p, frozenset())
                for p in {*old.pages, *inv.pages}
            }
            complete = old.complete or inv.complete
            inv = Inventory(f"{old.name}+{inv.name}", inv.base, pages, complete)
        merged[inv.base] = inv
    return sorted(merged.values(), key=lambda i: -len(i.base))


def check_in_inventory(url: str, inventories: Sequence[Inventory]) -> tuple[str, str, str] | None:
    """(status, kind, info) for a URL into one of `inventories` (longest base first)."""
    inv = next((i for i in inventories if url.startswith(i.base)), None)
    if inv is None:
        return None
    page, _, fragment = url.partition("#")
    page = page.partition("?")[0]
    anchors = inv.pages.get(page)
    if anchors is None and page.endswith("/"):
        anchors = inv.pages.get(page + "index.html")
    if anchors is None:
        if page == inv.base:
            return "working", "inventory", f"the root of the {inv.name} inventory"
        if not inv.complete and not _beside_known_pages(page, inv):
            return None  # outside what an nbdev index knows: an external link
        base = len(inv.base)
        hint = _did_you_mean(page[base:], (p[base:] for p in inv.pages))
        return (
            "broken",
            "inventory-page",
            (f"not one of the {len(inv.pages)} pages of the {inv.name} inventory{hint}"),
        )
    if fragment and fragment not in anchors and unquote(fragment) not in anchors:
        hint = _did_you_mean(fragment, anchors, "#")
        return (
            "broken",
            "inventory-anchor",
            (
                f"no anchor #{fragment} on {page.removeprefix(inv.base)} in the {inv.name} "
                f"inventory{hint}"
            ),
        )
    return "working", "inventory", f"found in the {inv.name} inventory"


def _beside_known_pages(page: str, inv: Inventory) -> bool:
    """Whether `page` is an HTML page in a folder where the index lists pages."""
    folder, _, name = page.rpartition("/")
    if not name.endswith(".html"):  # `api/core.html.md`: a file beside the page
        return False
    return any(p.rpartition("/")[0] == folder for p in inv.pages)


def _did_you_mean(word: str, options: Iterable[str], before: str = "") -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.75)
    return f"; did you mean {before}{close[0]}?" if close else ""
