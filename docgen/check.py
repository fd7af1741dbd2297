"""`docgen check`: the link checker of a built site.

Offline, always: every `href`/`src`/`srcset` of every page must point at a file of the
site, every `#fragment` at an `id` of its page, every linked notebook must be valid, the
site's `objects.inv` must point at pages and anchors that exist, and every URL into a
known inventory (nbdev indexes, objects.inv files) must name a page and an anchor of it.
Online, with `--external`: every http(s) link is requested, politely (see `HttpOptions`).

The stages are plain functions: `parse_page` (HTML -> ids + links with line numbers),
`check_site` (links -> one `LinkResult` each), `format_report`; the network part
(requests, retries, per-host limits, the cache of successes) is `docgen.linkcheck_http`.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from .inventory import read_inventory
from .linkcheck_http import HttpOptions, check_url, check_urls, check_urls_cached
from .symbols import nbdev_indexes

__all__ = [
    "CheckReport",
    "HttpOptions",
    "Inventory",
    "LinkResult",
    "add_arguments",
    "check_site",
    "check_url",
    "check_urls",
    "format_report",
    "load_inventories",
    "parse_page",
    "run",
]

# ---------------------------------------------------------------------------- parsing


class Link(NamedTuple):
    url: str
    line: int
    tag: str
    attr: str


class ParsedPage(NamedTuple):
    ids: frozenset[str]
    links: list[Link]


_RAW_TEXT = ("script", "style", "textarea", "title", "xmp")
_LINK_ATTRS = {"href", "src", "srcset", "poster", "xlink:href"}
# One match per *interesting* tag (one that has an id, name or link attribute, or whose
# content is raw text); every other tag, comment and text run is skipped by the regex
# engine itself, which is what makes the scan fast. Attributes are tokenized as browsers
# do: a quote opens a value only after `=`, and quoted values may hold '>' and '<'.
_ATTRIBUTE = r"""[^\s/>][^\s/>=]*+(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s>]++))?"""
_WATCHED = r"(?i:id|name|href|src|srcset|poster|data|xlink:href)\s*+="
_NOT_RAW = rf"(?!(?i:{'|'.join(_RAW_TEXT)})[\s/>])"
_SKIPPED = (  # most frequent first: text, end tags, tags without watched attributes
    r"[^<]++"
    r"|</[^>]*+>"
    rf"|<{_NOT_RAW}[a-zA-Z][a-zA-Z0-9-]*+(?: class=\"[^\"]*+\")?>"  # <span class="n">, fast
    rf"|<{_NOT_RAW}[a-zA-Z][^\s/>]*+(?:[\s/]++|(?!{_WATCHED}){_ATTRIBUTE})*+>"
    r"|<!--.*?(?:-->|\Z)"
    r"|<[!?][^>]*+>"
    r"|<(?![a-zA-Z/!?])"
)
# A tag that never closes swallows the rest of the page, in browsers too: `(<)` ends the scan.
_SCAN = re.compile(
    rf"(?:{_SKIPPED})*+(?:<([a-zA-Z][^\s/>]*+)((?:[\s/]++|{_ATTRIBUTE})*+)>|(<)|\Z)", re.S
)
_ATTR = re.compile(r"""([^\s/>][^\s/>=]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?""")
_RAW_END = {t: re.compile(rf"</{t}[\s/>]|\Z", re.I) for t in _RAW_TEXT}


def parse_page(html: str) -> ParsedPage:
    """The anchors (`id`s and `<a name>`s) of a page and its links, each with the line
    its tag starts on (as html.parser's getpos() says)."""
    ids: set[str] = set()
    links: list[Link] = []
    line, counted, pos, end = 1, 0, 0, len(html)
    scan = _SCAN.match
    while pos < end:
        m = scan(html, pos)
        if m is None:  # pragma: no cover - never: the pattern ends in `(<)|\Z`
            break
        pos = m.end()
        tag, attrs, _ = m.groups()
        if tag is None:  # the end, or a tag that never closes
            break
        start = m.start(1)
        line += html.count("\n", counted, start)
        counted = start
        tag = tag.lower()
        for name, value in _ATTR.findall(attrs):
            if not value:
                continue
            if value[0] in "\"'":
                value = value[1:-1]
            name = name.lower()
            if "&" in value:
                value = unescape(value)
            if name == "id" or (name == "name" and tag == "a"):
                ids.add(value)
            elif name in _LINK_ATTRS or (name == "data" and tag == "object"):
                if name == "srcset":
                    for candidate in value.split(","):
                        url = candidate.strip().split(None, 1)[0] if candidate.strip() else ""
                        if url:
                            links.append(Link(url, line, tag, name))
                elif tag != "base":
                    links.append(Link(value.strip(), line, tag, name))
        if tag in _RAW_TEXT:
            pos = _RAW_END[tag].search(html, pos).end()  # type: ignore[union-attr]
    return ParsedPage(frozenset(ids), links)


# ---------------------------------------------------------------------------- results


class LinkResult(NamedTuple):
    """One checked link; the fields of Sphinx linkcheck's output.json, plus `kind`."""

    filename: str  # page (or objects.inv) relative to the site, '/'-separated
    lineno: int
    status: str  # working | broken | redirected | ignored | unchecked
    code: int  # HTTP status for external links, else 0
    uri: str
    info: str
    kind: str = ""  # why it is broken: missing-page, missing-anchor, http-error, ...


@dataclass
class CheckReport:
    """What `check_site` found: one result per link (sorted by page and line)."""

    results: list[LinkResult]
    pages: int
    seconds: float
    warnings: list[str] = field(default_factory=list)

    @property
    def broken(self) -> list[LinkResult]:
        return [r for r in self.results if r.status == "broken"]

    @property
    def links(self) -> int:
        return len(self.results)


# ------------------------------------------------------------------------ inventories


@dataclass(frozen=True)
class Inventory:
    """A known external site: its base URL and, for each page URL, the anchors it has."""

    name: str
    base: str
    pages: Mapping[str, frozenset[str]]


def _inventory_from_urls(name: str, urls: Iterable[str], base: str = "") -> list[Inventory]:
    by_site: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for url in urls:
        page, _, fragment = url.partition("#")
        parts = urlsplit(page)
        anchors = by_site[f"{parts.scheme}://{parts.netloc}/"][page]
        if fragment:
            anchors.add(fragment)
    if base:  # an objects.inv: its base URL is given
        pages = {p: frozenset(a) for site in by_site.values() for p, a in site.items()}
        return [Inventory(name, base if base.endswith("/") else base + "/", pages)]
    found = []
    for site, site_pages in by_site.items():
        prefix = os.path.commonprefix(list(site_pages))
        prefix = prefix[: prefix.rfind("/") + 1] if len(prefix) > len(site) else site
        frozen = {page: frozenset(anchors) for page, anchors in site_pages.items()}
        found.append(Inventory(name, prefix, frozen))
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
            found += _inventory_from_urls(name, (url for _, url in entries))
    for base, data in (inventories or {}).items():
        try:
            raw = data if isinstance(data, bytes) else Path(data).read_bytes()
            items = read_inventory(raw, base)
        except (OSError, ValueError) as e:
            raise ValueError(f"inventory for {base}: {e}") from e
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
            inv = Inventory(f"{old.name}+{inv.name}", inv.base, pages)
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


def _did_you_mean(word: str, options: Iterable[str], before: str = "") -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.75)
    return f"; did you mean {before}{close[0]}?" if close else ""


# ---------------------------------------------------------------------- offline check

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
    ):
        self.site, self.files, self.dirs, self.pages = site, files, dirs, pages
        self.inventories = inventories
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
        found = check_in_inventory("https:" + url if url[:2] == "//" else url, self.inventories)
        return found or ("unchecked", "external", "external (use --external to check it)")

    def _resolve(self, folder: str, path: str) -> str | Verdict:
        """The site file `path` means, seen from `folder`; or why it can't be."""
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


def check_site(
    site: Path,
    *,
    inventories: Mapping[str, Path | bytes] | None = None,
    external: bool = False,
    nbdev: bool = True,
    ignore: Sequence[str] = (),
    http: HttpOptions | None = None,
    log: Callable[[str], None] | None = None,
) -> CheckReport:
    """Check every link of the built site in `site`; see the module docstring.

    `inventories` maps base URLs to objects.inv data; `nbdev` adds the installed nbdev
    indexes; `ignore` are regexes searched in each link; `external` requests every
    http(s) link, with `http`'s options.
    """
    started = time.perf_counter()
    site = Path(site)
    if not site.is_dir():
        raise NotADirectoryError(f"{site} is not a folder")
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
    checker = _SiteChecker(site, files, dirs, pages, _merge_by_base(known))
    ignored = [re.compile(p) for p in ignore]

    add, check = results.append, checker.check
    for rel, page in pages.items():
        for url, line, _, _ in page.links:
            if ignored and any(p.search(url) for p in ignored):
                add(LinkResult(rel, line, "ignored", 0, url, "", ""))
                continue
            status, kind, info = check(rel, url)
            add(LinkResult(rel, line, status, 0, url, info, kind))
    results += _check_objects_inv(site, files, checker)
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


# ------------------------------------------------------------------------ online check


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


# ----------------------------------------------------------------------------- report


def format_report(report: CheckReport) -> str:
    """One line per broken link, `page:line: link — reason`, then a summary line."""
    lines = [f"{r.filename}:{r.lineno}: {r.uri} — {r.info}" for r in report.broken]
    counts = Counter(r.status for r in report.results)
    extra = "".join(
        f", {counts[s]} {s}" for s in ("redirected", "ignored", "unchecked") if counts[s]
    )
    pages, links = report.pages, report.links
    lines.append(
        f"checked {pages} page{'s' * (pages != 1)}, {links} link{'s' * (links != 1)} "
        f"in {report.seconds:.2f} s: "
        f"{counts['broken']} broken{extra}"
    )
    return "\n".join(lines)


def write_json_report(report: CheckReport, path: Path) -> None:
    """One JSON object per line per checked link, as Sphinx linkcheck's output.json."""
    fields = ("filename", "lineno", "status", "code", "uri", "info", "kind")
    with open(path, "w", encoding="utf-8") as f:
        for r in report.results:
            f.write(json.dumps({k: getattr(r, k) for k in fields}, ensure_ascii=False) + "\n")


# -------------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `docgen check`."""
    d = HttpOptions()
    parser.add_argument(
        "site",
        nargs="?",
        type=Path,
        default=Path("site"),
        help="the built site's folder (default: site)",
    )
    parser.add_argument(
        "--external",
        action="store_true",
        help="also request every http(s) link (the network is not used otherwise)",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="REGEX",
        help="skip links this regex is found in (repeatable)",
    )
    parser.add_argument(
        "--inventory",
        action="append",
        default=[],
        metavar="BASE_URL=FILE",
        help="the objects.inv of the docs at BASE_URL: links under it must name its pages "
        "and anchors (repeatable; the installed nbdev indexes are always known)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        metavar="FILE",
        help="write one JSON record per checked link (as Sphinx's output.json)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=d.cache,
        metavar="FILE",
        help=f"where successful external checks are remembered (default: {d.cache})",
    )
    parser.add_argument(
        "--no-cache", dest="cache", action="store_const", const=None, help="use no cache"
    )
    for flag, kind, default, metavar, text in [
        ("--workers", int, d.workers, "N", "external requests at once"),
        ("--per-host", int, d.per_host, "N", "external requests at once to one host"),
        ("--timeout", float, d.timeout, "SECONDS", "time limit of one request"),
        ("--max-wait", float, d.max_wait, "SECONDS", "most one URL waits for rate limits"),
        ("--cache-age", float, d.cache_age, "HOURS", "how long a remembered success holds"),
    ]:
        parser.add_argument(
            flag, type=kind, default=default, metavar=metavar, help=f"{text} (default: {default:g})"
        )


def _options(args: argparse.Namespace) -> tuple[HttpOptions, dict[str, Path]]:
    for name in ("workers", "per_host", "timeout"):
        if getattr(args, name) <= 0:
            option = "--" + name.replace("_", "-")
            raise ValueError(f"{option} must be positive, not {getattr(args, name)}")
    for name in ("max_wait", "cache_age"):
        if getattr(args, name) < 0:
            raise ValueError(f"--{name.replace('_', '-')} can't be negative")
    for pattern in args.ignore:
        try:
            re.compile(pattern)
        except re.error as e:
            raise ValueError(f"--ignore {pattern!r} is not a valid regex: {e}") from e
    inventories = {}
    for spec in args.inventory:
        base, sep, file = spec.partition("=")
        if not sep or not base or not file:
            raise ValueError(f"--inventory wants BASE_URL=FILE, not {spec!r}")
        inventories[base] = Path(file)
    options = HttpOptions(
        timeout=args.timeout,
        workers=args.workers,
        per_host=args.per_host,
        max_wait=args.max_wait,
        cache=args.cache,
        cache_age=args.cache_age,
    )
    return options, inventories


def _json_target_problem(path: Path) -> str | None:
    """Why the --json report could not be written to `path`, or None."""
    folder = path.parent
    if path.is_dir():
        return "is a folder; name a file in it, for example --json " + str(path / "linkcheck.json")
    if not folder.exists():
        return f"its folder {folder} does not exist; create it, or name a file elsewhere"
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return "is not writable"
    return None


def run(args: argparse.Namespace) -> int:
    """`docgen check`: 0 when every link works, 1 when some are broken, 2 on bad usage."""
    site = Path(args.site)
    if not site.is_dir():
        print(
            f"error: {site} is not a folder; build the site first (docgen build)", file=sys.stderr
        )
        return 2
    problem = _json_target_problem(args.json) if args.json else None
    if problem:  # known before the check, which may take minutes, rather than after it
        print(f"error: --json {args.json}: {problem}", file=sys.stderr)
        return 2
    try:
        options, inventories = _options(args)
        report = check_site(
            site,
            inventories=inventories,
            external=args.external,
            ignore=args.ignore,
            http=options,
            log=lambda m: print(m, file=sys.stderr),
        )
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(format_report(report))
    if args.json:
        try:
            write_json_report(report, args.json)
        except OSError as e:
            print(f"error: cannot write --json {args.json}: {e.strerror or e}", file=sys.stderr)
            return 2
    return 1 if report.broken else 0


if __name__ == "__main__":
    _parser = argparse.ArgumentParser(prog="python -m docgen.check")
    add_arguments(_parser)
    sys.exit(run(_parser.parse_args()))
