"""Other projects' names: installed nbdev indexes and Sphinx `objects.inv` files,
downloaded once and cached under `.docgen_cache/inventories/`.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from urllib.parse import urljoin

from docgen.api.introspect import Warn
from docgen.api.inventory import read_inventory

CACHE_DIR = ".docgen_cache/inventories"


# A cached inventory younger than this is used as is; an older one is refreshed when the
# network allows, and used anyway (with a warning) when it doesn't.
INVENTORY_MAX_AGE_S = 7 * 24 * 3600


def nbdev_indexes() -> tuple[dict[str, list[tuple[str, str]]], list[str]]:
    """Every installed package's `nbdev` entry-point index, by entry-point name: its
    (name, URL) entries in file order; and a problem for each index that cannot be loaded.

    Two shapes exist: nbdev-pytorch and nbdev-stdlib map names to URL strings; libraries
    built with nbdev 2 and 3 (fastcore, nbdev, any user library) map them to
    `(url, source path)` pairs. An index in any other shape is skipped with a problem that
    names its package; it never stops the build or the checker.
    """
    indexes: dict[str, list[tuple[str, str]]] = {}
    problems = []
    for ep in sorted(entry_points(group="nbdev"), key=lambda e: e.name):
        try:
            index = ep.load()
            base = _index_base(index.get("settings") or {})
            indexes[ep.name] = [
                (name, urljoin(base, _index_url(value)))
                for module in index["syms"].values()
                for name, value in module.items()
            ]
        except Exception as e:  # a third-party index that cannot be loaded is skipped
            dist = getattr(ep, "dist", None)
            package = f"package {dist.name}, " if dist is not None else ""
            problems.append(
                f"the nbdev index of '{ep.name}' ({package}{ep.value}) cannot be read ({e}); "
                "skipped"
            )
    return indexes, problems


def _index_base(settings: dict[str, str]) -> str:
    """The site an index's relative URLs are on: nbdev 3 writes `shell.html#captureshell`
    and keeps the site in `doc_host` and `doc_baseurl`."""
    host = str(settings.get("doc_host") or "").rstrip("/")
    path = str(settings.get("doc_baseurl") or "").strip("/")
    return f"{host}/{path}/" if path else f"{host}/" if host else ""


def _index_url(value: object) -> str:
    """The URL of one nbdev index entry: a URL string, or the first of a (url, path) pair."""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and value and isinstance(value[0], str):
        return value[0]
    raise ValueError(f"an entry is {value!r}, neither a URL nor a (URL, source path) pair")


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://", "file://"))


def inventory_url(location: str) -> tuple[str, str]:
    """(where the objects.inv is, base URL its entries are relative to) for a URL setting."""
    if location.endswith(".inv"):
        return location, location.rsplit("/", 1)[0] + "/"
    base = location if location.endswith("/") else location + "/"
    return base + "objects.inv", base


def _download(url: str, timeout: float = 10.0) -> bytes:
    # Imported here, not at the top: `import docgen` runs in every notebook's kernel (for
    # show_doc), which never downloads anything.
    import urllib.request

    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - configured URL
        return response.read()


def _cache_path(name: str, url: str, root: Path) -> Path:
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return root / CACHE_DIR / f"{name}-{digest}.inv"


def cached_inventory(name: str, location: str, root: Path) -> tuple[str, Path] | None:
    """(base URL, where the build caches its objects.inv) of an inventory set by URL;
    None for a local one."""
    if not _is_url(location):
        return None
    url, base = inventory_url(location)
    return base, _cache_path(name, url, root)


def load_inventory(
    name: str,
    location: str,
    root: Path,
    out: Path,
    warn: Warn,
    fetch: Callable[[str], bytes] = _download,
    now: float | None = None,
) -> dict[str, str]:
    """The Python objects of one configured Sphinx inventory: name -> URL.

    A URL is downloaded once into `.docgen_cache/` under `root` and refreshed when older than
    a week; without network the cached copy is used (with a warning), and without a cached
    copy the inventory is skipped (with a warning). A local path (a folder holding
    objects.inv, or the file itself) is read directly, and its links are made relative to
    this site's root (`out`), so sibling sites link to each other.
    """
    if _is_url(location):
        url, base = inventory_url(location)
        cached = _cache_path(name, url, root)
        age = (now or time.time()) - cached.stat().st_mtime if cached.is_file() else None
        data = cached.read_bytes() if cached.is_file() else None
        if age is None or age > INVENTORY_MAX_AGE_S:
            try:
                fresh = fetch(url)
                read_inventory(fresh)  # only a valid inventory replaces the cached one
            except (OSError, ValueError) as e:  # urllib's URLError is an OSError
                if data is None:
                    warn(
                        f"inventory '{name}' cannot be downloaded from {url} ({e}) and is not "
                        f"cached: names of {name} stay unlinked in this build"
                    )
                    return {}
                warn(
                    f"inventory '{name}' cannot be refreshed from {url} ({e}); "
                    f"using the copy cached in {cached}"
                )
            else:
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_bytes(fresh)
                data = fresh
        assert data is not None
    else:
        path = (root / location).resolve()
        inv = path / "objects.inv" if path.is_dir() else path
        if not inv.is_file():
            warn(f"inventory '{name}': {inv} does not exist; names of {name} stay unlinked")
            return {}
        data = inv.read_bytes()
        base = os.path.relpath(inv.parent, out.resolve()).replace(os.sep, "/") + "/"
    try:
        items = read_inventory(data, base)
    except ValueError as e:
        warn(f"inventory '{name}' ({location}) cannot be read: {e}")
        return {}
    urls: dict[str, str] = {}
    for item in items:
        if item.domain == "py":
            urls.setdefault(item.name, item.uri)
    return urls


def external_index(
    inventories: dict[str, str], root: Path, out: Path, warn: Warn
) -> dict[str, str]:
    """Every external name -> URL: configured inventories first, then the nbdev indexes."""
    urls: dict[str, str] = {}
    for name, location in inventories.items():
        for key, url in load_inventory(name, location, root, out, warn).items():
            urls.setdefault(key, url)
    indexes, problems = nbdev_indexes()
    for problem in problems:
        warn(problem)
    for entries in indexes.values():
        for key, url in entries:
            if isinstance(url, str) and url.startswith(("http://", "https://")):
                urls.setdefault(key, url)
    return urls
