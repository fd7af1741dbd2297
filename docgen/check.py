"""`docgen check`: the link checker of a built site.

Offline, always: every `href`/`src`/`srcset` of every page must point at a file of the
site, every `#fragment` at an `id` of its page, every linked notebook must be valid, the
site's `objects.inv` must point at pages and anchors that exist, and every URL into a
known inventory (nbdev indexes, objects.inv files) must name a page and an anchor of it.
Online, with `--external`: every http(s) link is requested, politely (see `HttpOptions`).

The stages are plain functions: `parse_page` (HTML -> ids + links with line numbers),
`check_site` (links -> one `LinkResult` each), `format_report`; the network part is
`check_urls` and the cache, below the offline part.
"""

from __future__ import annotations

import argparse
import email.utils
import http.client
import json
import os
import posixpath
import re
import sys
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from html import unescape
from importlib.metadata import entry_points
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote, unquote, urljoin, urlsplit

from . import __version__
from .inventory import read_inventory

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
# engine itself, which is what makes the scan fast. Quoted values may contain '>' and '<'.
_QUOTED = r"\"[^\"]*+\"|'[^']*+'"
_WATCHED = r"(?i:id|name|href|src|srcset|poster|data|xlink:href)\s*+="
_SKIPPED = (  # most frequent first: text, end tags, tags without watched attributes
    r"[^<]++"
    r"|</[^>]*+>"
    rf"|<(?!(?i:{'|'.join(_RAW_TEXT)})[\s/>])[a-zA-Z][^\s/>]*+"
    rf"(?:\s++(?!{_WATCHED})(?:[^>\"'\s]++|{_QUOTED})*+)*+/?>"
    r"|<!--.*?(?:-->|\Z)"
    r"|<[!?][^>]*+>"
    r"|<(?![a-zA-Z/!?])"
)
_SCAN = re.compile(
    rf"(?:{_SKIPPED})*+(?:<([a-zA-Z][^\s/>]*+)((?:[^>\"']++|{_QUOTED})*+)>|(<)|\Z)", re.S
)
_ATTR = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
_RAW_END = {t: re.compile(rf"</{t}[\s/>]|\Z", re.I) for t in _RAW_TEXT}


def parse_page(html: str) -> ParsedPage:
    """The anchors (`id`s and `<a name>`s) of a page and its links, with line numbers."""
    ids: set[str] = set()
    links: list[Link] = []
    line, counted, pos, end = 1, 0, 0, len(html)
    scan = _SCAN.match
    while pos < end:
        m = scan(html, pos)
        pos = m.end()
        tag, attrs, stray = m.groups()
        if tag is None:
            if stray is None:  # the end
                break
            continue
        start = m.start(1)
        line += html.count("\n", counted, start)
        counted = start
        tag = tag.lower()
        for a in _ATTR.finditer(attrs):
            name, dq, sq, uq = a.groups()
            value = dq if dq is not None else sq if sq is not None else uq
            if value is None:
                continue
            name = name.lower()
            if "&" in value:
                value = unescape(value)
            if name == "id" or (name == "name" and tag == "a"):
                ids.add(value)
            elif name in _LINK_ATTRS or (name == "data" and tag == "object"):
                where = line + attrs.count("\n", 0, a.start()) if "\n" in attrs else line
                if name == "srcset":
                    for candidate in value.split(","):
                        url = candidate.strip().split(None, 1)[0] if candidate.strip() else ""
                        if url:
                            links.append(Link(url, where, tag, name))
                elif tag != "base":
                    links.append(Link(value.strip(), where, tag, name))
        if tag in _RAW_TEXT:
            pos = _RAW_END[tag].search(html, pos).end()  # type: ignore[union-attr]
    return ParsedPage(frozenset(ids), links)


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class LinkResult:
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
    warnings = []
    if nbdev:
        for ep in entry_points(group="nbdev"):
            try:
                syms = ep.load()["syms"]
                urls = [url for module in syms.values() for url in module.values()]
            except Exception as e:  # a broken third-party index must not stop the check
                warnings.append(f"nbdev index '{ep.name}' ({ep.value}) can't be loaded: {e}")
                continue
            found += _inventory_from_urls(ep.name, urls)
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
            pages = {p: old.pages.get(p, frozenset()) | inv.pages.get(p, frozenset())
                     for p in {*old.pages, *inv.pages}}
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
        return "broken", "inventory-page", (
            f"{page} is not a page of the {inv.name} inventory ({len(inv.pages)} pages)"
        )
    if fragment and fragment not in anchors and unquote(fragment) not in anchors:
        return "broken", "inventory-anchor", (
            f"{page} has no anchor #{fragment} in the {inv.name} inventory"
        )
    return "working", "inventory", f"found in the {inv.name} inventory"


# ---------------------------------------------------------------------- offline check

_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
_NOT_CHECKED = {"mailto", "javascript", "data", "tel"}


def _notebook_problem(path: Path) -> str | None:
    from nbformat.validator import get_validator

    try:
        nb = json.loads(path.read_bytes())
    except (OSError, ValueError) as e:
        return f"not valid JSON ({e})"
    if not isinstance(nb, dict) or nb.get("nbformat") != 4:
        return "not an nbformat 4 notebook"
    if not isinstance(nb.get("cells"), list):
        return "has no list of cells"
    validator = get_validator(version=4, version_minor=nb.get("nbformat_minor"))
    error = next(iter(validator.iter_errors(nb)), None) if validator else None
    return f"does not validate: {error.message}" if error else None


class _SiteChecker:
    """Checks one site's internal links, caching each verdict per (folder, url)."""

    def __init__(self, site: Path, files: set[str], dirs: set[str],
                 pages: dict[str, ParsedPage], inventories: Sequence[Inventory]):
        self.site, self.files, self.dirs, self.pages = site, files, dirs, pages
        self.inventories = inventories
        self.verdicts: dict[tuple[str, str], tuple[str, str, str]] = {}
        self.notebooks: dict[str, str | None] = {}

    def check(self, page: str, url: str) -> tuple[str, str, str]:
        """(status, kind, info) of `url` on `page`; external links are left 'unchecked'."""
        if url.startswith("#"):
            return self._anchor(page, url[1:], "this page")
        if url == "" or url.startswith("?"):
            return self._anchor(page, url.partition("#")[2], "this page")
        folder = page.rpartition("/")[0]
        key = (folder, url)
        verdict = self.verdicts.get(key)
        if verdict is None:
            verdict = self.verdicts[key] = self._check(folder, url)
        return verdict

    def _anchor(self, target: str, fragment: str, where: str) -> tuple[str, str, str]:
        if target not in self.pages:  # objects.inv
            return self._check("", "index.html#" + fragment)
        ids = self.pages[target].ids
        if (not fragment or fragment in ids or fragment.lower() == "top"
                or unquote(fragment) in ids or fragment.startswith(":~:")):
            return "working", "", ""
        return "broken", "missing-anchor", f"{where} has no anchor #{fragment}"

    def _check(self, folder: str, url: str) -> tuple[str, str, str]:
        scheme = _SCHEME.match(url)
        if scheme or url.startswith("//"):
            name = scheme.group(1).lower() if scheme else "https"
            if name in _NOT_CHECKED:
                return "unchecked", "", f"{name}: links are not checked"
            if name not in ("http", "https"):
                return "unchecked", "", f"{name}: links are not checked"
            full = "https:" + url if url.startswith("//") else url
            found = check_in_inventory(full, self.inventories)
            return found or ("unchecked", "external", "external (use --external to check it)")
        path, _, fragment = url.partition("#")
        path = unquote(path.partition("?")[0])
        joined = path.lstrip("/") if path.startswith("/") else posixpath.join(folder, path)
        target = posixpath.normpath(joined) if joined else "."
        if target == ".." or target.startswith("../"):
            return "broken", "outside-site", "leaves the site's root folder"
        if target == ".":
            target = ""
        if path.endswith("/") or target in self.dirs or target == "":
            target = posixpath.join(target, "index.html")
        if target not in self.files:
            kind = "missing-page" if target.endswith((".html", ".htm")) else "missing-file"
            return "broken", kind, f"{target} does not exist"
        if target in self.pages:
            return self._anchor(target, fragment, target)
        if target.endswith(".ipynb"):
            if target not in self.notebooks:
                self.notebooks[target] = _notebook_problem(self.site / target)
            problem = self.notebooks[target]
            if problem:
                return "broken", "invalid-notebook", f"{target} is not a valid notebook: {problem}"
        return "working", "", ""


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
    files, dirs = _list_site(site)
    pages = {}
    for rel in sorted(files):
        if rel.endswith((".html", ".htm")):
            html = (site / rel).read_bytes().decode("utf-8", "replace")
            pages[rel] = parse_page(html)
    known, warnings = load_inventories(inventories, nbdev)
    checker = _SiteChecker(site, files, dirs, pages, _merge_by_base(known))
    ignored = [re.compile(p) for p in ignore]

    results: list[LinkResult] = []
    for rel, page in pages.items():
        for link in page.links:
            url = link.url
            if ignored and any(p.search(url) for p in ignored):
                results.append(LinkResult(rel, link.line, "ignored", 0, url, ""))
                continue
            status, kind, info = checker.check(rel, url)
            results.append(LinkResult(rel, link.line, status, 0, url, info, kind))
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
        status, kind, info = checker.check("objects.inv", item.uri)
        if info and status == "broken":
            info = f"{item.domain}:{item.role} {item.name}: {info}"
        results.append(LinkResult("objects.inv", number, status, 0, item.uri, info, kind))
    return results


# ------------------------------------------------------------------------ online check


@dataclass(frozen=True)
class HttpOptions:
    """How `--external` requests links."""

    timeout: float = 10.0  # seconds, per request
    workers: int = 8  # requests at once, in all
    per_host: int = 2  # requests at once, per host
    max_redirects: int = 10
    max_wait: float = 60.0  # seconds of Retry-After / back-off one URL may wait in all
    retries: int = 5  # attempts after a 429 (or rate-limit 403) before giving up
    cache: Path | None = Path(".docgen_cache/linkcheck.json")
    cache_age: float = 24.0  # hours a cached success stays valid
    user_agent: str = f"docgen-linkcheck/{__version__}"


class HttpResult(NamedTuple):
    status: str  # working | redirected | broken
    code: int
    info: str
    kind: str = ""


class _HostGate:
    """When each host may be asked again, after one of its answers said 'slow down'."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.not_before: dict[str, float] = {}

    def delay(self, host: str) -> float:
        with self.lock:
            return max(0.0, self.not_before.get(host, 0.0) - time.monotonic())

    def hold(self, host: str, seconds: float) -> None:
        with self.lock:
            until = time.monotonic() + seconds
            self.not_before[host] = max(until, self.not_before.get(host, 0.0))


def _request(method: str, url: str, options: HttpOptions) -> http.client.HTTPResponse:
    parts = urlsplit(url)
    host = (parts.hostname or "").encode("idna").decode("ascii")
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(host, parts.port, timeout=options.timeout)
    target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=~")
    if parts.query:
        target += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=~?")
    try:
        conn.request(method, target, headers={"User-Agent": options.user_agent, "Accept": "*/*"})
        response = conn.getresponse()
    finally:
        conn.close()  # the response keeps what it read; we never need the body
    return response


def _is_rate_limit(code: int, headers: http.client.HTTPMessage) -> bool:
    if code == 429:
        return True
    if code in (403, 503):
        return headers.get("X-RateLimit-Remaining", "").strip() == "0" or (
            "Retry-After" in headers
        )
    return False


def _retry_after(headers: http.client.HTTPMessage) -> float | None:
    value = (headers.get("Retry-After") or "").strip()
    if value.isdigit():
        return float(value)
    if value:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())
    reset = (headers.get("X-RateLimit-Reset") or "").strip()
    if reset.isdigit():
        return max(0.0, float(reset) - time.time())
    return None


def check_url(url: str, options: HttpOptions, gate: _HostGate | None = None) -> HttpResult:
    """Request `url` (no fragment): HEAD, then GET if HEAD is refused; follow redirects;
    wait and retry on rate limits, at most `options.max_wait` seconds in all."""
    gate = gate or _HostGate()
    method, current, hops, first_code, waited, attempts = "HEAD", url, 0, 0, 0.0, 0
    while True:
        host = urlsplit(current).netloc.lower()
        pause = gate.delay(host)
        if pause:
            if waited + pause > options.max_wait:
                return HttpResult("broken", 429, f"{host} asks to wait {pause:.0f} s", "rate-limit")
            time.sleep(pause)
            waited += pause
        try:
            response = _request(method, current, options)
        except TimeoutError:
            return HttpResult("broken", 0, f"timed out after {options.timeout:g} s", "timeout")
        except ConnectionResetError as e:
            if method == "HEAD":
                method = "GET"
                continue
            return HttpResult("broken", 0, f"connection reset ({e})", "connection")
        except (OSError, http.client.HTTPException, UnicodeError, ValueError) as e:
            return HttpResult("broken", 0, f"{type(e).__name__}: {e}", "connection")
        code, headers = response.status, response.headers
        if method == "HEAD" and code in (405, 403, 501) and not _is_rate_limit(code, headers):
            method = "GET"
            continue
        if code in (301, 302, 303, 307, 308) and headers.get("Location"):
            hops += 1
            first_code = first_code or code
            if hops > options.max_redirects:
                return HttpResult("broken", code, f"more than {options.max_redirects} redirects",
                                  "redirects")
            current = urljoin(current, headers["Location"]).partition("#")[0]
            continue
        if _is_rate_limit(code, headers):
            attempts += 1
            delay = _retry_after(headers)
            delay = min(2.0 ** (attempts - 1), 60.0) if delay is None else delay
            if attempts > options.retries or waited + delay > options.max_wait:
                return HttpResult("broken", code, f"rate limited ({code} {response.reason}); "
                                  f"gave up after waiting {waited:.0f} s", "rate-limit")
            gate.hold(host, delay)
            continue
        if 200 <= code < 300:
            if hops:
                return HttpResult("redirected", first_code, current)
            return HttpResult("working", code, "")
        return HttpResult("broken", code, f"{code} {response.reason}", "http-error")


def check_urls(
    urls: Iterable[str], options: HttpOptions, done: Callable[[str, HttpResult], None] | None = None
) -> dict[str, HttpResult]:
    """`check_url` each URL, at most `options.workers` at once and `per_host` per host."""
    queues: dict[str, deque[str]] = defaultdict(deque)
    for url in dict.fromkeys(urls):
        queues[urlsplit(url).netloc.lower()].append(url)
    gate = _HostGate()
    busy: Counter[str] = Counter()
    running: dict[Future[HttpResult], tuple[str, str]] = {}
    results: dict[str, HttpResult] = {}
    with ThreadPoolExecutor(max_workers=options.workers) as pool:
        while queues or running:
            for host in list(queues):
                queue = queues[host]
                while queue and busy[host] < options.per_host and len(running) < options.workers:
                    url = queue.popleft()
                    running[pool.submit(check_url, url, options, gate)] = (host, url)
                    busy[host] += 1
                if not queue:
                    del queues[host]
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                host, url = running.pop(future)
                busy[host] -= 1
                results[url] = future.result()
                if done:
                    done(url, results[url])
    return results


def load_cache(path: Path, max_age_hours: float) -> tuple[dict[str, dict], list[str]]:
    """Successes checked less than `max_age_hours` ago, by URL; and warnings."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["entries"]
    except FileNotFoundError:
        return {}, []
    except (OSError, ValueError, KeyError, TypeError) as e:
        return {}, [f"link cache {path} can't be read ({e}); checking every link again"]
    oldest = time.time() - max_age_hours * 3600
    fresh = {}
    for url, entry in entries.items() if isinstance(entries, dict) else ():
        if (isinstance(entry, dict) and isinstance(entry.get("checked"), int | float)
                and entry["checked"] >= oldest and entry.get("status") in ("working", "redirected")
                and isinstance(entry.get("code"), int) and isinstance(entry.get("info"), str)):
            fresh[url] = entry
    return fresh, []


def save_cache(path: Path, entries: Mapping[str, dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"version": 1, "entries": dict(sorted(entries.items()))},
                              indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _check_online(
    results: list[LinkResult], options: HttpOptions, warnings: list[str],
    log: Callable[[str], None] | None,
) -> list[LinkResult]:
    def online(r: LinkResult) -> bool:
        # An inventory lists only some pages of a site; the server knows them all.
        return r.kind in ("external", "inventory", "inventory-page")

    def page_url(r: LinkResult) -> str:
        return ("https:" + r.uri if r.uri.startswith("//") else r.uri).partition("#")[0]

    wanted = {page_url(r) for r in results if online(r)}
    cached: dict[str, dict] = {}
    if options.cache:
        cached, problems = load_cache(options.cache, options.cache_age)
        warnings += problems
    todo = sorted(wanted - cached.keys())
    if log and todo:
        log(f"checking {len(todo)} external links ({len(wanted) - len(todo)} cached)")
    fetched = check_urls(todo, options)
    answers = {u: HttpResult(e["status"], e["code"], e["info"]) for u, e in cached.items()}
    answers.update(fetched)
    if options.cache:
        now = time.time()
        fresh = {u: {"checked": now, "status": a.status, "code": a.code, "info": a.info}
                 for u, a in fetched.items() if a.status in ("working", "redirected")}
        save_cache(options.cache, {**cached, **fresh})
    updated = []
    for r in results:
        if online(r):
            answer = answers[page_url(r)]
            if r.status == "working" and answer.status != "broken":
                r = replace(r, code=answer.code)  # keep "found in the inventory"
            else:
                r = replace(r, status=answer.status, code=answer.code, info=answer.info,
                            kind=answer.kind)
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
    lines.append(
        f"checked {report.pages} pages, {report.links} links in {report.seconds:.2f} s: "
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
    parser.add_argument("site", nargs="?", type=Path, default=Path("site"),
                        help="the built site's folder (default: site)")
    parser.add_argument("--external", action="store_true",
                        help="also request every http(s) link (the network is not used otherwise)")
    parser.add_argument("--ignore", action="append", default=[], metavar="REGEX",
                        help="skip links this regex is found in (repeatable)")
    parser.add_argument("--inventory", action="append", default=[], metavar="BASE_URL=FILE",
                        help="an objects.inv whose pages and anchors URLs under BASE_URL must "
                        "name (repeatable; installed nbdev indexes are always known)")
    parser.add_argument("--json", type=Path, metavar="FILE",
                        help="write one JSON record per checked link (as Sphinx's output.json)")
    parser.add_argument("--workers", type=int, default=d.workers,
                        help=f"external requests at once (default: {d.workers})")
    parser.add_argument("--per-host", type=int, default=d.per_host,
                        help=f"external requests at once to one host (default: {d.per_host})")
    parser.add_argument("--timeout", type=float, default=d.timeout, metavar="SECONDS",
                        help=f"time limit of one request (default: {d.timeout:g})")
    parser.add_argument("--max-wait", type=float, default=d.max_wait, metavar="SECONDS",
                        help="most time one URL may wait for rate limits to lift "
                        f"(default: {d.max_wait:g})")
    parser.add_argument("--cache", type=Path, default=d.cache, metavar="FILE",
                        help=f"remembered successful external checks (default: {d.cache})")
    parser.add_argument("--cache-age", type=float, default=d.cache_age, metavar="HOURS",
                        help=f"how long a remembered success holds (default: {d.cache_age:g})")


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
    options = HttpOptions(timeout=args.timeout, workers=args.workers, per_host=args.per_host,
                          max_wait=args.max_wait, cache=args.cache, cache_age=args.cache_age)
    return options, inventories


def run(args: argparse.Namespace) -> int:
    """`docgen check`: 0 when every link works, 1 when some are broken, 2 on bad usage."""
    site = Path(args.site)
    if not site.is_dir():
        print(f"error: {site} is not a folder; build the site first (docgen build)",
              file=sys.stderr)
        return 2
    try:
        options, inventories = _options(args)
        report = check_site(site, inventories=inventories, external=args.external,
                            ignore=args.ignore, http=options,
                            log=lambda m: print(m, file=sys.stderr))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(format_report(report))
    if args.json:
        write_json_report(report, args.json)
    return 1 if report.broken else 0


if __name__ == "__main__":
    _parser = argparse.ArgumentParser(prog="python -m docgen.check")
    add_arguments(_parser)
    sys.exit(run(_parser.parse_args()))
