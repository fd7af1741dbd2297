"""`BuildSession`: what a build keeps for the next one, so a rebuild redoes only what changed.

It holds, each under a key of everything its value depends on:
- the project's API (found by importing its packages) and its version, keyed by the
  packages' sources and docgen's stamp (keys.py);
- the external name index (nbdev indexes, objects.inv files), keyed by the inventories'
  files and the installed nbdev entry points;
- the generated API pages, keyed by the API and the symbols other pages document;
- each page's rendered body (not the page wrapped in the theme: the navigation changes
  whenever a title does, the body does not), keyed by the page's notebook as executed,
  the symbol index, the notebooks of the site, the options that shape a body and docgen's
  stamp; the image files the page read are checked again before it is reused;
- each page's highlighted code cells, keyed by their source, lexer and link context;
- the digests of notebook files known to be valid (see notebooks/read.py).

In memory only, for the builds of one process (a preview server): each page wrapped in the
theme, reused while its body's key, its neighbours and the sidebar (every page's title and
path) are unchanged; each page's search words; the compiled templates; objects.inv and
symbols.json; the generated API pages as read from the store.

A page's body depends on other pages only through the symbol index (where `show_doc`
placed each name) and the list of notebooks (links to `x.ipynb`): links to another page's
heading are written as they are, without looking at that page. So a prose edit, even one
that renames a heading, renders only the edited page.

`docgen build` makes one beside the execution cache (`.docgen_cache/session/`) and uses it
once; a long-lived process (a preview server) keeps one and passes it to every build.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, MutableSet
from importlib.metadata import entry_points
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import jinja2

from docgen.api.external import (
    INVENTORY_MAX_AGE_S,
    cached_inventory,
    external_index,
)
from docgen.api.introspect import ProjectApi, Symbol
from docgen.config import CACHE_DIR, Config
from docgen.execute.cache import source_digest
from docgen.model import Heading, Page, Source
from docgen.notebooks.node import from_dict
from docgen.session.keys import digest, docgen_stamp, file_digest
from docgen.session.store import SessionStore, Warn
from docgen.site.assemble import notebook_file
from docgen.site.downloads import export_scripts
from docgen.site.search import SearchMemo, Section, page_sections
from docgen.site.theme import template_environment

if TYPE_CHECKING:
    from pygments.lexer import Lexer

    from docgen.render.context import Resolver

SESSION_DIR = f"{CACHE_DIR}/session"

Highlight = Callable[[str, "Lexer", "Resolver | None"], str]


class BuildSession:
    """What builds of one site can reuse; pass the same one to `build` again and again."""

    def __init__(self, folder: Path | None = None, stamp: str | None = None) -> None:
        """`folder`: where entries persist (None: in memory only); `stamp`: what about
        docgen shapes its output (default: `keys.docgen_stamp()`)."""
        self.store = SessionStore(folder)
        self._stamp = stamp
        self._validated: set[str] | None = None
        self._notebook_files: dict[str, bytes] = {}  # page URL -> its notebook copy
        self._sections: dict[str, list[Section]] = {}  # body digest -> its search sections
        self._page_keys: dict[str, str] = {}  # page URL -> the key of its body, this build
        self._wrapped: dict[str, tuple[str, bytes]] = {}  # page URL -> (key, its HTML)
        self.search_memo: SearchMemo = {}  # see search.index_data
        self._environments: dict[str, jinja2.Environment] = {}  # templates folder -> its own
        self._api_pages: tuple[str, list[tuple[Source, Any]]] | None = None  # (key, pages)
        self._symbol_files: tuple[str, dict[str, bytes]] | None = None  # (key, files)

    @classmethod
    def beside_cache(cls, config: Config) -> BuildSession:
        """The session kept on disk beside the project's execution cache."""
        return cls(config.root / SESSION_DIR)

    @property
    def stamp(self) -> str:
        if self._stamp is None:
            self._stamp = docgen_stamp()
        return self._stamp

    # --- notebooks known to be valid -------------------------------------------------

    def validated(self, warn: Warn) -> MutableSet[str]:
        if self._validated is None:
            stored = self.store.load("notebooks", "validated", warn)
            self._validated = (
                {d for d in stored if isinstance(d, str)} if isinstance(stored, list) else set()
            )
        return self._validated

    def keep_validated(self, warn: Warn) -> None:
        if self._validated is not None:
            self.store.save("notebooks", "validated", sorted(self._validated), warn)

    # --- the project's API and the external index -------------------------------------

    def project_api(self, config: Config, warn: Warn) -> tuple[ProjectApi, str, str]:
        """(the project's API, its version, the key of both): imported only when changed."""
        key = digest(
            {
                "stamp": self.stamp,
                "packages": config.packages,
                "sources": {p: source_digest(p) for p in config.packages},
            }
        )
        entry = self.store.load("api", "project", warn)
        if isinstance(entry, dict) and entry.get("key") == key:
            try:
                return _api_from_data(entry["api"]), str(entry["version"]), key
            except (KeyError, TypeError) as e:
                warn(f"ignored a stale build-session entry for the project's API ({e!r})")
        from docgen.api.introspect import discover_api
        from docgen.site.publish import project_version

        api = discover_api(config.packages)
        version = project_version(config.packages)
        value = {"key": key, "api": dataclasses.asdict(api), "version": version}
        self.store.save("api", "project", value, warn)
        return api, version, key

    def external_index(
        self, config: Config, index_warn: Warn, warn: Warn
    ) -> tuple[dict[str, str], str]:
        """(every external name -> URL, its key); its warnings replayed through `index_warn`."""
        key = digest({"stamp": self.stamp, **_external_inputs(config)})
        entry = self.store.load("api", "external", warn)
        if isinstance(entry, dict) and entry.get("key") == key:
            urls, warnings = entry.get("urls"), entry.get("warnings")
            if isinstance(urls, dict) and isinstance(warnings, list):
                for warning in warnings:
                    index_warn(str(warning))
                return urls, key
        found: list[str] = []
        urls = external_index(config.inventories, config.root, config.out, found.append)
        for warning in found:
            index_warn(warning)
        self.store.save("api", "external", {"key": key, "urls": urls, "warnings": found}, warn)
        return urls, key

    def api_pages(
        self,
        make: Callable[[], list[tuple[Source, Any]]],
        key: str,
        warn: Warn,
    ) -> list[tuple[Source, Any]]:
        """The generated API pages `make` returns, reused while `key` holds."""
        if self._api_pages is not None and self._api_pages[0] == key:
            return self._api_pages[1]  # read from the store once per process, not per build
        pages = self._stored_api_pages(make, key, warn)
        self._api_pages = (key, pages)
        return pages

    def _stored_api_pages(
        self,
        make: Callable[[], list[tuple[Source, Any]]],
        key: str,
        warn: Warn,
    ) -> list[tuple[Source, Any]]:
        entry = self.store.load("api", "pages", warn)
        if isinstance(entry, dict) and entry.get("key") == key:
            try:
                return [(_source_from_data(s), from_dict(nb)) for s, nb in entry["pages"]]
            except (KeyError, TypeError, ValueError) as e:
                warn(f"ignored a stale build-session entry for the API pages ({e!r})")
        pages = make()
        data = [[_source_data(s), nb] for s, nb in pages]
        self.store.save("api", "pages", {"key": key, "pages": data}, warn)
        return pages

    # --- rendered pages ----------------------------------------------------------------

    def page(self, source: Source, key: str, notebook: Any, warn: Warn) -> Page | None:
        """The page rendered earlier under `key`, if the files it read are unchanged.

        Its `notebook` is the one given, as read; the copy written into the site (made from
        it with text repaired, see `render.ansi.valid_strings`) is the one kept."""
        self._page_keys[source.url] = key
        entry = self.store.load("pages", _name(source.url), warn)
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None
        try:
            for path, sha in entry["files"].items():
                if file_digest(Path(path)) != sha:
                    return None  # an image file the page shows changed, appeared or went
            images = {}
            for site_path, sha in entry["images"].items():
                data = self.store.load_blob(sha)
                if data is None:
                    raise ValueError(f"its image {site_path} is missing")
                images[site_path] = data
            copy = self.store.load_blob(str(entry["notebook"]))
            if copy is None:
                raise ValueError("its notebook copy is missing")
            sections = [Section(*map(str, fields)) for fields in entry["sections"]]
            self._notebook_files[source.url] = copy
            self._sections[_body_digest(str(entry["body"]))] = sections
            return Page(
                source=source,
                title=str(entry["title"]),
                body=str(entry["body"]),
                headings=[Heading(int(lv), str(a), str(t)) for lv, a, t in entry["headings"]],
                images=images,
                notebook=notebook,
                warnings=[str(w) for w in entry["warnings"]],
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            warn(f"ignored a stale build-session entry for {source.url} ({e}); rendering it")
            return None

    def keep_page(self, page: Page, key: str, warn: Warn) -> None:
        """Keep a page just rendered, with its notebook copy and search sections."""
        images = {path: self._keep_blob(data, warn) for path, data in page.images.items()}
        copy = notebook_file(page)
        sections = page_sections(page.body)
        self._notebook_files[page.url] = copy
        self._sections[_body_digest(page.body)] = sections
        entry = {
            "key": key,
            "url": page.url,
            "title": page.title,
            "body": page.body,
            "headings": [[h.level, h.anchor, h.text] for h in page.headings],
            "images": images,
            "warnings": page.warnings,
            "files": page.read_files,
            "notebook": self._keep_blob(copy, warn),
            "sections": [dataclasses.astuple(s) for s in sections],
        }
        self.store.save("pages", _name(page.url), entry, warn)

    def _keep_blob(self, data: bytes, warn: Warn) -> str:
        sha = hashlib.sha256(data).hexdigest()
        self.store.save_blob(sha, data, warn)
        return sha

    def wrapped_page(self, page: Page, around: str, wrap: Callable[[], bytes]) -> bytes:
        """The page's HTML (see `assemble.Wrapped`): kept in memory from the last build
        while its body's key (see `page`) and `around` are unchanged, else what `wrap` returns."""
        body_key = self._page_keys.get(page.url)
        if body_key is None:
            return wrap()
        key = digest([body_key, around])
        kept = self._wrapped.get(page.url)
        if kept is not None and kept[0] == key:
            return kept[1]
        html = wrap()
        self._wrapped[page.url] = (key, html)
        return html

    def symbol_files(self, key: str, make: Callable[[], dict[str, bytes]]) -> dict[str, bytes]:
        """objects.inv, symbols.json and `_embed/` (see `publish.site_symbol_files`), made
        again only when `key` (the symbol index, and every page's URL, title, headings and
        body) changed."""
        if self._symbol_files is None or self._symbol_files[0] != key:
            self._symbol_files = (key, make())
        return dict(self._symbol_files[1])

    def template_environment(self, templates: Path | None) -> jinja2.Environment:
        """The theme's templates, and those of the folder `templates`, compiled once (Jinja
        compiles a template again when its file changes)."""
        env = self._environments.get(str(templates))
        if env is None:
            env = self._environments[str(templates)] = template_environment(templates)
        return env

    def notebook_file(self, page: Page) -> bytes:
        """The page's notebook copy (see `assemble.notebook_file`), as kept for it."""
        return self._notebook_files.get(page.url) or notebook_file(page)

    def script_files(self, cleans: list[bytes], warn: Warn) -> list[bytes]:
        """Clean notebooks' `.py` files (see `downloads.export_scripts`), kept by each
        notebook's bytes: only the changed ones are exported."""
        names = [
            hashlib.sha256(f"script\0{self.stamp}\0".encode() + clean).hexdigest()
            for clean in cleans
        ]
        found = [self.store.load_blob(name) for name in names]
        missing = [i for i, script in enumerate(found) if script is None]
        # In memory only: the session of a long-lived process, which keeps nbconvert loaded.
        scripts = export_scripts([cleans[i] for i in missing], in_process=self.store.folder is None)
        for i, script in zip(missing, scripts, strict=True):
            self.store.save_blob(names[i], script, warn)
            found[i] = script
        return [script for script in found if script is not None]

    def sections_of(self, body: str) -> list[Section]:
        """A page body's search sections (see `search.page_sections`), as kept for it."""
        sections = self._sections.get(_body_digest(body))
        return sections if sections is not None else page_sections(body)

    # --- highlighted code --------------------------------------------------------------

    def highlighter(
        self, url: str, context: str, highlight: Highlight, warn: Warn
    ) -> tuple[Highlight, Callable[[], None]]:
        """(`highlight` answered from the cells kept for this page under `context`, a
        function that keeps what this render highlighted)."""
        entry = self.store.load("code", _name(url), warn)
        kept: dict[str, str] = {}
        if isinstance(entry, dict) and entry.get("context") == context:
            cells = entry.get("cells")
            kept = cells if isinstance(cells, dict) else {}
        used: dict[str, str] = {}

        def cached(source: str, lexer: Lexer, link: Resolver | None) -> str:
            key = digest([source, lexer.name, link is not None])
            html = kept.get(key)
            if not isinstance(html, str):
                html = highlight(source, lexer, link)
            used[key] = html
            return html

        def keep() -> None:
            if used != kept:
                self.store.save("code", _name(url), {"context": context, "cells": used}, warn)

        return cached, keep


def _body_digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def _name(url: str) -> str:
    return digest(url)[:32]


def _external_inputs(config: Config) -> dict[str, Any]:
    """What the external index is made from: the inventory files and the nbdev indexes."""
    files: dict[str, Any] = {}
    for name, location in config.inventories.items():
        cached = cached_inventory(name, location, config.root)
        if cached is not None:
            url, path = cached
            age = time.time() - path.stat().st_mtime if path.is_file() else None
            # A stale copy is refreshed when the index is made: make it again each build.
            fresh = age is not None and age <= INVENTORY_MAX_AGE_S
            files[name] = [url, file_digest(path) if fresh else "stale"]
        else:
            path = (config.root / location).resolve()
            inv = path / "objects.inv" if path.is_dir() else path
            files[name] = [str(inv), file_digest(inv)]
    nbdev = sorted(
        [ep.name, ep.value, ep.dist.name if ep.dist else "", ep.dist.version if ep.dist else ""]
        for ep in entry_points(group="nbdev")
    )
    return {"inventories": files, "root": str(config.root), "out": str(config.out), "nbdev": nbdev}


def _source_data(source: Source) -> list[Any]:
    return [str(source.path), source.rel.as_posix(), source.url, source.generated]


def _source_from_data(data: list[Any]) -> Source:
    path, rel, url, generated = data
    return Source(Path(path), PurePosixPath(rel), str(url), bool(generated))


def _api_from_data(data: dict[str, Any]) -> ProjectApi:
    return ProjectApi(
        packages=list(data["packages"]),
        symbols={name: Symbol(**fields) for name, fields in data["symbols"].items()},
        aliases=dict(data["aliases"]),
        warnings=list(data["warnings"]),
    )
