"""An nbdev project's own `_modidx.py`: where nbdev's site documents each of its names,
mapped onto this site's pages.

nbdev writes `_modidx.py` beside the package (`nbdev-export`): its `syms` map every
function, class and method a notebook exports to `page.html#anchor` on nbdev's site, the
page being the exporting notebook's path, lower-cased, numeric prefix dropped. Names that
introspection alone misses (private helpers, methods) or would place on a generated API
page find their notebook's page through it. The file is read with `ast`, never imported.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

from docgen.config import Config
from docgen.model import Source

_NBDEV_PREFIX = re.compile(r"^\d+[a-zA-Z0-9]*_")


def nbdev_page(rel: PurePosixPath) -> str:
    """The page nbdev's site makes of the notebook `rel` (nbdev's `nbpath2html`)."""
    name = _NBDEV_PREFIX.sub("", rel.name.lower())
    return (rel.parent / name).with_suffix(".html").as_posix()


def modidx_file(package: str, root: Path) -> Path | None:
    """The package's `_modidx.py`: beside it in the project, else where it is installed."""
    local = root / package / "_modidx.py"
    if local.is_file():
        return local
    try:
        spec = importlib.util.find_spec(package)  # finds, never runs, a top-level package
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        found = Path(folder) / "_modidx.py"
        if found.is_file():
            return found
    return None


def read_modidx(path: Path) -> dict[str, dict[str, str]]:
    """module -> {name -> "page.html#anchor"} from the `syms` of an nbdev `_modidx.py` (the
    file's `d = {...}`); empty for a file that is not one. nbdev writes URL strings or,
    since nbdev 2, `(url, source path)` pairs."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "d" for t in node.targets
        ):
            try:
                data = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                return {}
            return _entries(data)
    return {}


def _entries(data: object) -> dict[str, dict[str, str]]:
    syms = data.get("syms") if isinstance(data, dict) else None
    modules: dict[str, dict[str, str]] = {}
    for module, names in syms.items() if isinstance(syms, dict) else []:
        if not isinstance(module, str) or not isinstance(names, dict):
            continue
        entries = modules.setdefault(module, {})
        for name, value in names.items():
            url = value[0] if isinstance(value, list | tuple) and value else value
            if isinstance(name, str) and isinstance(url, str):
                entries[name] = url
    return modules


def flat(modules: dict[str, dict[str, str]]) -> dict[str, str]:
    """Every name of a `read_modidx` result -> its URL."""
    return {name: url for names in modules.values() for name, url in names.items()}


def own_urls(
    entries: dict[str, str], sources: Iterable[Source], documented: dict[str, str]
) -> dict[str, str]:
    """name -> "page.html#anchor" on this site (from its root) for each `_modidx.py` name
    whose page is one of this site's: the entry a `show_doc` made for it, else that of the
    class it belongs to on the same page, else the top of the page (nbdev's site gives no
    anchor to names it shows no entry for either)."""
    pages = {nbdev_page(s.rel): s.url for s in sources}
    urls: dict[str, str] = {}
    for name, url in entries.items():
        page = pages.get(url.partition("#")[0])
        if page is None:
            continue
        parts = name.split(".")
        homes = (documented.get(".".join(parts[:i])) for i in range(len(parts), 1, -1))
        urls[name] = next((h for h in homes if h and h.partition("#")[0] == page), page)
    return urls


def short_names(modules: dict[str, dict[str, str]]) -> dict[str, list[str]]:
    """Short name (`func`, `Class.method`) -> the full names it stands for, as nbdev's
    backticks know them: a `_modidx.py` name without its module."""
    short: dict[str, list[str]] = {}
    for module, names in modules.items():
        for name in names:
            if name.startswith(module + "."):
                short.setdefault(name[len(module) + 1 :], []).append(name)
    return short


def project_modidx(
    config: Config, pages: list[tuple[Source, Any]], documented: dict[str, str]
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(`own_urls`, `short_names`) of an nbdev project's `_modidx.py`, each module's own
    name placed on the page of the notebook that exports it; empty for any other project."""
    if not config.nbdev or not config.packages:
        return {}, {}
    from docgen.api.nbdev_entries import module_pages

    package = config.packages[0]
    path = modidx_file(package, config.root)
    modules = read_modidx(path) if path is not None else {}
    urls = own_urls(flat(modules), [s for s, _ in pages], documented)
    urls.update(module_pages([(s.url, nb) for s, nb in pages], package))
    return urls, short_names(modules)
