"""Checking a built site without the network: pages, anchors, assets, notebook copies,
`objects.inv`, and links into known inventories.
"""

from __future__ import annotations

import html
import json
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from docgen.api.inventory import read_inventory
from docgen.errors import UsageError
from docgen.linkcheck.inventories import (
    Inventory,
    _did_you_mean,
    _merge_by_base,
    check_in_inventory,
    load_inventories,
)
from docgen.linkcheck.online import HttpOptions, check_urls_cached
from docgen.linkcheck.report import CheckReport, LinkResult
from docgen.linkcheck.scan import ParsedPage, parse_page
from docgen.site.embeds import EMBED_DIR, fragment_urls
from docgen.site.meta import public_base

_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")


def _notebook_problem(path: Path) -> str | None:
    # The structure a notebook reader needs, not the full nbformat schema: validating
    # that (nbformat.validate) costs more than checking the page that links the notebook.
    try:
        nb = json.loads(path.read_bytes())
    except (OSError, ValueError) as e:
        return f"not valid JSON ({e})"
    if not isinstance(nb, dict) or nb.get("nbformat") != 4:
        return "not an nbformat 4 notebook"
    cells = nb.get("cells")
    if not isinstance(cells, list) or not isinstance(nb.get("metadata"), dict):
        return "has no list of cells or no metadata"
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") not in _CELL_TYPES:
            return f"cell {number} has no valid cell_type"
        if not isinstance(cell.get("source"), str | list):
            return f"cell {number} has no source"
        if cell["cell_type"] == "code" and not isinstance(cell.get("outputs"), list):
            return f"code cell {number} has no list of outputs"
    return None


_CELL_TYPES = {"code", "markdown", "raw"}


Verdict = tuple[str, str, str]  # status, kind, info


_EXTERNAL: Verdict = ("unchecked", "external", "")  # a marker: resolved per full URL


class _SiteChecker:
    """Checks links of one site; resolves each (folder, path) once, then looks up anchors."""

    def __init__(
        self,
        site: Path,
        files: set[str],
        dirs: set[str],
        pages: dict[str, ParsedPage],
        inventories: Sequence[Inventory],
        site_url: str = "",
        repo_links: Callable[[str], Verdict | None] | None = None,
    ):
        self.site, self.files, self.dirs, self.pages = site, files, dirs, pages
        # Links into the site's public address (canonical links, a 404 page's absolute
        # paths) are checked against the files here, not as other sites' links.
        base = public_base(site_url)
        self.site_prefixes = (base, urlsplit(base).path or "/") if site_url else ()
        self.inventories = inventories
        self.repo_links = repo_links
        self.targets: dict[tuple[str, str], str | Verdict] = {}
        self.external: dict[str, Verdict] = {}

    def check(self, page: str, url: str) -> Verdict:
        """(status, kind, info) of `url` on `page`; other sites' links stay 'unchecked'."""
        path, _, fragment = url.partition("#")
        if not path or path[0] == "?":
            target: str | Verdict = page
        else:
            key = (page.rpartition("/")[0], path)
            target = self.targets.get(key) or self.targets.setdefault(key, self._resolve(*key))
        if target is _EXTERNAL:
            verdict = self.external.get(url)
            if verdict is None:
                verdict = self.external[url] = self._external(url)
            return verdict
        if type(target) is not str:
            return target  # type: ignore[return-value]
        parsed = self.pages.get(target)
        if parsed is None:
            return _WORKING
        ids = parsed.ids
        if (
            not fragment
            or fragment in ids
            or unquote(fragment) in ids
            or fragment.lower() == "top"
            or fragment.startswith(":~:")
        ):
            return _WORKING
        where = "this page" if target == page else target
        hint = _did_you_mean(fragment, ids, "#")
        return "broken", "missing-anchor", f"{where} has no anchor #{fragment}{hint}"

    def _external(self, url: str) -> Verdict:
        scheme = _SCHEME.match(url)
        name = scheme.group(1).lower() if scheme else "https"
        if name not in ("http", "https"):
            return "unchecked", "", f"{name}: links are not checked"
        if self.repo_links is not None:
            verdict = self.repo_links(url)
            if verdict is not None:
                return verdict
        found = check_in_inventory("https:" + url if url[:2] == "//" else url, self.inventories)
        return found or ("unchecked", "external", "external (use --external to check it)")

    def _resolve(self, folder: str, path: str) -> str | Verdict:
        """The site file `path` means, seen from `folder`; or why it can't be."""
        for prefix in self.site_prefixes:
            if path.startswith(prefix) or path + "/" == prefix:
                path = "/" + path[len(prefix) :]
                break
        if _SCHEME.match(path) or path.startswith("//"):
            return _EXTERNAL
        path = unquote(path.partition("?")[0])
        # posixpath.normpath, minus what a URL can't mean, and telling when `..` escapes.
        # An absolute path is taken from the site's root (404.html uses those).
        parts = [] if path.startswith("/") or not folder else folder.split("/")
        for segment in path.split("/"):
            if segment == "..":
                if not parts:
                    return "broken", "outside-site", "leaves the site's root folder"
                parts.pop()
            elif segment and segment != ".":
                parts.append(segment)
        target = "/".join(parts)
        if (
            path.endswith(("/", "/.", "/.."))
            or path in (".", "..")
            or not target
            or (target in self.dirs)
        ):
            target = f"{target}/index.html" if target else "index.html"
        if target not in self.files:
            kind = "missing-page" if target.endswith((".html", ".htm")) else "missing-file"
            return "broken", kind, f"{target} does not exist"
        if target.endswith(".ipynb"):
            problem = _notebook_problem(self.site / target)
            if problem:
                return "broken", "invalid-notebook", f"{target} is not a valid notebook: {problem}"
        return target


_WORKING: Verdict = ("working", "", "")


def _list_site(site: Path) -> tuple[set[str], set[str]]:
    files: set[str] = set()
    dirs: set[str] = set()
    root = str(site)
    for folder, subdirs, names in os.walk(root):
        rel = os.path.relpath(folder, root).replace(os.sep, "/")
        prefix = "" if rel == "." else rel + "/"
        dirs.update(prefix + d for d in subdirs)
        files.update(prefix + n for n in names)
    return files, dirs


def _compile_ignores(patterns: Sequence[str]) -> list[re.Pattern[str]]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as e:
            raise UsageError(f"--ignore {pattern!r} is not a valid regex: {e}") from e
    return compiled


def check_site(
    site: Path,
    *,
    inventories: Mapping[str, Path | bytes] | None = None,
    external: bool = False,
    nbdev: bool = True,
    ignore: Sequence[str] = (),
    http: HttpOptions | None = None,
    log: Callable[[str], None] | None = None,
    site_url: str = "",
    repo_links: Callable[[str], Verdict | None] | None = None,
) -> CheckReport:
    """Check every link of the built site in `site`; see the module docstring.

    `site_url` is the site's public address: links into it are checked against `site`.
    `repo_links` gives the verdict on Colab and Binder links (see repolinks.py).
    `inventories` maps base URLs to objects.inv data; `nbdev` adds the installed nbdev
    indexes; `ignore` are regexes searched in each link; `external` requests every
    http(s) link, with `http`'s options.
    """
    started = time.perf_counter()
    site = Path(site)
    if not site.is_dir():
        raise UsageError(f"{site} is not a folder; build the site first (docgen build)")
    files, dirs = _list_site(site)
    pages = {}
    results: list[LinkResult] = []
    for rel in sorted(files):
        if rel.endswith((".html", ".htm")):
            try:
                with open(os.path.join(site, rel), "rb") as f:
                    html = f.read().decode("utf-8", "replace")
            except OSError as e:
                results.append(
                    LinkResult(rel, 0, "broken", 0, "", f"can't be read: {e}", "unreadable")
                )
                continue
            pages[rel] = parse_page(html)
    known, warnings = load_inventories(inventories, nbdev)
    checker = _SiteChecker(site, files, dirs, pages, _merge_by_base(known), site_url, repo_links)
    ignored = _compile_ignores(ignore)

    add, check = results.append, checker.check
    for rel, page in pages.items():
        for url, line, _, _ in page.links:
            if ignored and any(p.search(url) for p in ignored):
                add(LinkResult(rel, line, "ignored", 0, url, "", ""))
                continue
            status, kind, info = check(rel, url)
            add(LinkResult(rel, line, status, 0, url, info, kind))
    results += _check_objects_inv(site, files, checker)
    results += _check_embeds(site, files, checker)
    if external:
        results = _check_online(results, http or HttpOptions(), warnings, log)
    results.sort(key=lambda r: (r.filename, r.lineno))
    return CheckReport(results, len(pages), time.perf_counter() - started, warnings)


def _check_objects_inv(site: Path, files: set[str], checker: _SiteChecker) -> list[LinkResult]:
    if "objects.inv" not in files:
        return []
    try:
        items = read_inventory((site / "objects.inv").read_bytes())
    except (OSError, ValueError) as e:
        return [LinkResult("objects.inv", 0, "broken", 0, "objects.inv", str(e), "bad-inventory")]
    results = []
    for number, item in enumerate(items, 1):
        # Entries' uris are relative to the site's root, as if on its index page.
        uri = item.uri if item.uri[:1] not in ("", "#", "?") else "index.html" + item.uri
        status, kind, info = checker.check("index.html", uri)
        if info and status == "broken":
            info = f"{item.domain}:{item.role} {item.name}: {info}"
        results.append(LinkResult("objects.inv", number, status, 0, item.uri, info, kind))
    return results


def _check_embeds(site: Path, files: set[str], checker: _SiteChecker) -> list[LinkResult]:
    """The embed files (`_embed/*.json`): readable, and their page, images and links found
    in the site. Their URLs are relative to the site's root, as if on its index page."""
    results = []
    for rel in sorted(f for f in files if f.startswith(f"{EMBED_DIR}/") and f.endswith(".json")):
        try:
            data = json.loads((site / rel).read_text(encoding="utf-8"))
            urls = [data["page"]["url"]]
            for fragment in [*data["sections"], *data["cells"]]:
                urls += fragment_urls(fragment["html"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            info = f"not an embed file docgen can read ({type(e).__name__}: {e})"
            results.append(LinkResult(rel, 0, "broken", 0, rel, info, "bad-embed"))
            continue
        for uri in dict.fromkeys(urls):
            if uri[:1] == "#":
                continue
            status, kind, info = checker.check("index.html", html.unescape(uri))
            results.append(LinkResult(rel, 0, status, 0, uri, info, kind))
    return results


def _check_online(
    results: list[LinkResult],
    options: HttpOptions,
    warnings: list[str],
    log: Callable[[str], None] | None,
) -> list[LinkResult]:
    def online(r: LinkResult) -> bool:
        # An inventory lists only some pages of a site; the server knows them all.
        return r.kind in ("external", "inventory", "inventory-page")

    def page_url(r: LinkResult) -> str:
        return ("https:" + r.uri if r.uri.startswith("//") else r.uri).partition("#")[0]

    wanted = {page_url(r) for r in results if online(r)}
    answers, problems = check_urls_cached(wanted, options, log)
    warnings += problems
    updated = []
    for r in results:
        if online(r):
            answer = answers[page_url(r)]
            r = r._replace(
                status=answer.status, code=answer.code, info=answer.info, kind=answer.kind
            )
        updated.append(r)
    return updated
