"""docgen.check: the link checker, offline on a small site, online against a local server."""

from __future__ import annotations

import argparse
import email.message
import email.utils
import json
import threading
import time
from collections import Counter
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docgen.api.inventory import InventoryItem, write_inventory
from docgen.commands.check import add_arguments, run
from docgen.commands.main import main
from docgen.linkcheck.offline import check_site
from docgen.linkcheck.online import HttpOptions, _retry_after
from docgen.linkcheck.report import format_report
from docgen.linkcheck.scan import parse_page

CONV2D = "https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html"

# Each page is a list of lines, so that a test can say on which line a link is.
INDEX = [
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8"><title>Home <a href="t.html"></title>',
    '<link rel="stylesheet" href="_static/style.css">',
    '<link rel="stylesheet" href="_static/missing.css">',
    '<script src="_static/app.js"></script>',
    '<script src="_static/missing.js"></script>',
    "<script>const tpl = '<a href=\"in-script.html\">'; if (a < b) {}</script>",
    "<style>a::after { content: '<a href=\"in-style.html\">' }</style>",
    "</head><body>",
    '<!-- <a href="in-comment.html">commented out</a> -->',
    '<h1 id="intro">Intro <a class="anchor" href="#intro">¶</a></h1>',
    '<p><a href="#missing">a missing anchor on this page</a></p>',
    '<p><a href="api/core.html">core</a> <a href="api/core.html#foo">foo</a>',
    '<a href="api/core.html#nope">a missing anchor on another page</a></p>',
    '<p><a href="api/">a folder</a> <a href="./">this folder</a> <a href="nope.html">gone</a>',
    '<img src="_images/a.png" alt="a" srcset="_images/a.png 1x, _images/a.png 2x">',
    '<img src="_images/missing.png" alt="missing">',
    '<a href="index.ipynb" download>this notebook</a> <a href="missing.ipynb">missing</a>',
    '<a href="bad.ipynb">not a notebook</a>',
    '<a href="../../outside.html">outside</a>',
    f'<a href="{CONV2D}#torch.nn.Conv2d">Conv2d</a>',
    f'<a href="{CONV2D}#torch.nn.Conv3000">wrong anchor</a>',
    '<a href="https://pytorch.org/docs/stable/no_such_page.html#torch.nn.Conv2d">wrong page</a>',
    '<a href="https://docs.python.org/3/library/os.html#os.getcwd">getcwd</a>',
    '<a href="https://pytorch.org/docs/stable/">the root of the docs</a>',
    '<a href="https://example.com/">elsewhere</a> <a href="//example.org/x">elsewhere</a>',
    '<a href="mailto:team@example.com">mail</a> <a href="javascript:void(0)">js</a>',
    '<img src="data:image/png;base64,iVBORw0KGgo=" alt="inline">',
    '<code>&lt;a href="escaped.html"&gt;</code> <a title="a > b" href="api/core.html#a%20b">',
    '<a href="/api/core.html">root-relative</a> <a href="api/core.html#legacy">a name</a>',
    '<a href="">this page</a> <a href="?q=1#intro">query</a> <a href="#top">top</a>',
    '<a hidden href="api/../api/core.html?x=1">dots</a>',
    "</body></html>",
]
CORE = [
    "<!DOCTYPE html>",
    '<html><head><link rel="stylesheet" href="../_static/style.css"></head><body>',
    '<h1 id="core">core</h1> <a href="../index.html#intro">home</a>',
    '<h2 id="foo">foo</h2> <h2 id="a b">spaces</h2>',
    '<a name="legacy"></a> <a href="../api/index.html">api</a>',
    "</body></html>",
]
NOT_FOUND = [
    '<html><head><link rel="stylesheet" href="/_static/style.css"></head><body>',
    '<a href="/index.html#intro">home</a> <img src="/_images/a.png" alt="">',
    "</body></html>",
]

# (page, line, link, kind) of every broken link of the site above; nothing else.
EXPECTED = {
    ("index.html", 4, "_static/missing.css", "missing-file"),
    ("index.html", 6, "_static/missing.js", "missing-file"),
    ("index.html", 12, "#missing", "missing-anchor"),
    ("index.html", 14, "api/core.html#nope", "missing-anchor"),
    ("index.html", 15, "nope.html", "missing-page"),
    ("index.html", 17, "_images/missing.png", "missing-file"),
    ("index.html", 18, "missing.ipynb", "missing-file"),
    ("index.html", 19, "bad.ipynb", "invalid-notebook"),
    ("index.html", 20, "../../outside.html", "outside-site"),
    ("index.html", 22, f"{CONV2D}#torch.nn.Conv3000", "inventory-anchor"),
    (
        "index.html",
        23,
        "https://pytorch.org/docs/stable/no_such_page.html#torch.nn.Conv2d",
        "inventory-page",
    ),
    ("objects.inv", 2, "api/core.html#gone", "missing-anchor"),
}


def line_of(lines: list[str], text: str) -> int:
    (number,) = [n for n, line in enumerate(lines, 1) if text in line]
    return number


def write_site(root: Path) -> Path:
    (root / "api").mkdir(parents=True)
    (root / "_static").mkdir()
    (root / "_images").mkdir()
    (root / "index.html").write_text("\n".join(INDEX), encoding="utf-8")
    (root / "api" / "core.html").write_text("\n".join(CORE))
    (root / "api" / "index.html").write_text('<h1 id="api">API</h1><a href="core.html">core</a>')
    (root / "404.html").write_text("\n".join(NOT_FOUND))
    (root / "_static" / "style.css").write_text("body {}")
    (root / "_static" / "app.js").write_text("")
    (root / "_images" / "a.png").write_bytes(b"\x89PNG")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    (root / "index.ipynb").write_text(nbformat.writes(nb))
    (root / "bad.ipynb").write_text('{"nbformat": 3, "worksheets": []}')
    items = [
        InventoryItem("core.foo", "py", "function", 1, "api/core.html#foo", "foo"),
        InventoryItem("core.gone", "py", "function", 1, "api/core.html#gone", "gone"),
        InventoryItem("index", "std", "doc", -1, "index.html", "Home"),
    ]
    (root / "objects.inv").write_bytes(write_inventory("demo", "1.0", items))
    return root


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_site(tmp_path_factory.mktemp("check") / "site")


@pytest.fixture(scope="module")
def report(site: Path):
    return check_site(site)


def test_fixture_lines_are_where_expected():
    assert line_of(INDEX, "_static/missing.css") == 4
    assert line_of(INDEX, "Conv3000") == 22
    assert line_of(INDEX, "no_such_page") == 23


def test_exactly_the_broken_links_are_reported(report):
    found = {(r.filename, r.lineno, r.uri, r.kind) for r in report.broken}
    assert found == EXPECTED


def test_good_links_are_working(report):
    working = {(r.filename, r.uri) for r in report.results if r.status == "working"}
    for link in [
        "_static/style.css",
        "_static/app.js",
        "#intro",
        "api/core.html",
        "api/core.html#foo",
        "api/",
        "./",
        "_images/a.png",
        "index.ipynb",
        f"{CONV2D}#torch.nn.Conv2d",
        "https://docs.python.org/3/library/os.html#os.getcwd",
        "https://pytorch.org/docs/stable/",
        "api/core.html#a%20b",
        "/api/core.html",
        "api/core.html#legacy",
        "",
        "?q=1#intro",
        "#top",
        "api/../api/core.html?x=1",
    ]:
        assert ("index.html", link) in working, link
    assert ("api/core.html", "../index.html#intro") in working
    assert ("404.html", "/_static/style.css") in working
    assert ("404.html", "/index.html#intro") in working
    assert ("objects.inv", "api/core.html#foo") in working


def test_what_is_not_a_link_is_not_checked(report):
    uris = {r.uri for r in report.results}
    for fake in ["t.html", "in-script.html", "in-style.html", "in-comment.html", "escaped.html"]:
        assert fake not in uris
    # the srcset's two candidates and the img's src
    assert [r.uri for r in report.results if r.lineno == 16] == ["_images/a.png"] * 3


def test_other_links_are_unchecked_offline(report):
    unchecked = {r.uri: r.info for r in report.results if r.status == "unchecked"}
    assert set(unchecked) == {
        "https://example.com/",
        "//example.org/x",
        "mailto:team@example.com",
        "javascript:void(0)",
        "data:image/png;base64,iVBORw0KGgo=",
    }
    assert "--external" in unchecked["https://example.com/"]


def test_reasons_say_what_is_missing(report):
    info = {r.uri: r.info for r in report.broken}
    assert info["#missing"] == "this page has no anchor #missing"
    assert info["api/core.html#nope"] == "api/core.html has no anchor #nope"
    assert info["nope.html"] == "nope.html does not exist"
    assert info["../../outside.html"] == "leaves the site's root folder"
    assert "not an nbformat 4 notebook" in info["bad.ipynb"]
    assert info[f"{CONV2D}#torch.nn.Conv3000"] == (
        "no anchor #torch.nn.Conv3000 on generated/torch.nn.Conv2d.html in the nbdev_pytorch "
        "inventory; did you mean #torch.nn.Conv2d?"
    )
    assert info["api/core.html#gone"].startswith("py:function core.gone: ")


def test_ignore_patterns(site: Path):
    report = check_site(site, ignore=[r"missing\.", "^https://pytorch"])
    ignored = {r.uri for r in report.results if r.status == "ignored"}
    assert "_static/missing.css" in ignored and f"{CONV2D}#torch.nn.Conv2d" in ignored
    assert len(report.broken) == len(EXPECTED) - 6


def test_objects_inv_passed_in_is_a_known_inventory(tmp_path: Path):
    inv = write_inventory(
        "other",
        "2",
        [
            InventoryItem("other.f", "py", "function", 1, "api.html#other.f", "f"),
            InventoryItem("other", "std", "doc", -1, "index.html", "Other"),
        ],
    )
    (tmp_path / "index.html").write_text(
        '<a href="https://other.org/docs/api.html#other.f">ok</a>\n'
        '<a href="https://other.org/docs/api.html#other.g">bad anchor</a>\n'
        '<a href="https://other.org/docs/index.html">ok</a>\n'
        '<a href="https://other.org/docs/nope.html">bad page</a>\n'
        '<a href="https://other.org/blog/">not in the inventory</a>\n'
    )
    report = check_site(tmp_path, inventories={"https://other.org/docs": inv}, nbdev=False)
    statuses = [(r.lineno, r.status, r.kind) for r in report.results]
    assert statuses == [
        (1, "working", "inventory"),
        (2, "broken", "inventory-anchor"),
        (3, "working", "inventory"),
        (4, "broken", "inventory-page"),
        (5, "unchecked", "external"),
    ]


def test_broken_objects_inv_and_404_links(tmp_path: Path):
    (tmp_path / "404.html").write_text('<link rel="stylesheet" href="/_static/gone.css">')
    (tmp_path / "objects.inv").write_bytes(b"<html>not an inventory</html>")
    report = check_site(tmp_path, nbdev=False)
    assert {(r.filename, r.lineno, r.kind) for r in report.broken} == {
        ("404.html", 1, "missing-file"),
        ("objects.inv", 0, "bad-inventory"),
    }


# ---------------------------------------------------------------------------- parsing


def test_parse_page_ids_links_and_lines():
    page = parse_page(
        '<A HREF="up.html" ID=Top>x</A>\n'
        '<span class="x" title="a > b"\n  href="multi.html">t</span>\n'
        "<p title=\"<a href='q.html'>\" id='p1'>x < y <a href=u.html?x=1&amp;y=2#f>u</a>\n"
        '<textarea><a href="in-textarea.html"></textarea><object data="d.svg"></object>\n'
        '<div data-x="1" id="a&amp;b"></div><a name="old"></a><meta name="not-an-anchor">\n'
        '<img src=i.png/><a href="unterminated.html'
    )
    assert [(link.url, link.line) for link in page.links] == [
        ("up.html", 1),
        ("multi.html", 2),
        ("u.html?x=1&y=2#f", 4),
        ("d.svg", 5),
        ("i.png/", 7),
    ]
    assert page.ids == {"Top", "p1", "a&b", "old"}


class ReferenceParser(HTMLParser):
    """What Python's own HTML parser finds, to compare `parse_page` with."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, int]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (name == "name" and tag == "a"):
                self.ids.add(value)
            elif name in ("href", "src", "poster") or (name == "data" and tag == "object"):
                self.links.append((value.strip(), self.getpos()[0]))

    handle_startendtag = handle_starttag


text = st.text(st.sampled_from("ab <>&\n\"'=/-!#"), max_size=12).map(
    lambda t: t.replace("<", "&lt;").replace(">", "&gt;")
)
value = st.lists(
    st.sampled_from(list("ab <>=/#\"' -") + ["&amp;", "&lt;", "&#x41;", "%20"]), max_size=8
).map("".join)


@st.composite
def attribute(draw) -> str:
    name = draw(
        st.sampled_from(
            [
                "href",
                "HREF",
                "src",
                "id",
                "ID",
                "name",
                "class",
                "title",
                "data",
                "data-x",
                "idx",
                "hidden",
            ]
        )
    )
    v = draw(value)
    quoting = draw(st.sampled_from(['"', "'", ""]))
    if name == "hidden":
        return name
    if quoting == "":
        v = "".join(c for c in v if c not in " \"'=<>`") or "x"
    else:
        v = v.replace(quoting, "")
    return f"{name}={quoting}{v}{quoting}"


@st.composite
def element(draw) -> str:
    tag = draw(st.sampled_from(["a", "A", "span", "img", "object", "div", "p"]))
    attrs = draw(st.lists(attribute(), max_size=4, unique_by=lambda a: a.split("=")[0].lower()))
    inner = draw(st.sampled_from(["", "text", "\n"]))
    return f"<{tag}{''.join(' ' + a for a in attrs)}>{inner}</{tag}>"


@st.composite
def document(draw) -> str:
    parts = draw(
        st.lists(
            st.one_of(
                element(),
                text,
                element().map(lambda e: f"<!-- {e} -->"),
                element().map(lambda e: f"<script>var s = '{e}';\n</script>"),
                element().map(lambda e: f"<style>/* {e} */</style>"),
            ),
            max_size=12,
        )
    )
    return "".join(parts)


@settings(max_examples=300, deadline=None)
@given(document())
def test_parse_page_finds_what_html_parser_finds(html: str):
    reference = ReferenceParser()
    reference.feed(html)
    reference.close()
    page = parse_page(html)
    assert [(link.url, link.line) for link in page.links] == reference.links
    assert page.ids == reference.ids


# ------------------------------------------------------------------------ online


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: Counter[tuple[str, str]] = Counter()
        self.times: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        self.active: Counter[str] = Counter()
        self.most_active: Counter[str] = Counter()

    def handle_error(self, request, client_address) -> None:
        pass  # a client that timed out closed its end; that is the point of /slow

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, format, *args) -> None:
        pass

    def reply(self, code: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self) -> None:
        self.answer("HEAD")

    def do_GET(self) -> None:
        self.answer("GET")

    def answer(self, method: str) -> None:
        path = self.path
        server = self.server
        host = self.headers["Host"].split(":")[0]
        with server.lock:
            server.requests[method, path] += 1
            server.times.setdefault(path, []).append(time.monotonic())
            count = sum(n for (_, p), n in server.requests.items() if p == path)
            server.active[host] += 1
            server.most_active[host] = max(server.most_active[host], server.active[host])
            server.active["all"] += 1
            server.most_active["all"] = max(server.most_active["all"], server.active["all"])
        try:
            self.route(method, path, count)
        finally:
            with server.lock:
                server.active[host] -= 1
                server.active["all"] -= 1

    def route(self, method: str, path: str, count: int) -> None:
        if path == "/ok":
            self.reply(200)
        elif path == "/missing":
            self.reply(404)
        elif path == "/error":
            self.reply(500)
        elif path in ("/r1", "/r2", "/r3"):
            hops = {"/r1": (301, "/r2"), "/r2": (302, "/r3"), "/r3": (307, "/ok")}
            code, location = hops[path]
            self.reply(code, {"Location": location})
        elif path == "/limited":
            self.reply(429, {"Retry-After": "1"}) if count == 1 else self.reply(200)
        elif path == "/limited403":
            headers = {"X-RateLimit-Remaining": "0", "Retry-After": "1"}
            self.reply(403, headers) if count == 1 else self.reply(200)
        elif path == "/nohead":
            self.reply(405 if method == "HEAD" else 200)
        elif path == "/reset":
            if method == "HEAD":
                self.close_connection = True  # no answer at all: the client sees a reset
            else:
                self.reply(200)
        elif path == "/toolong":
            self.reply(429, {"Retry-After": "3600"})
        elif path == "/loop":
            self.reply(302, {"Location": "/loop"})
        elif path == "/slow":
            time.sleep(1.5)
            self.reply(200)
        elif path.startswith("/busy"):
            time.sleep(0.15)
            self.reply(200)
        else:
            self.reply(404)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    httpd = Server()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


ONLINE_PATHS = [
    "/ok",
    "/missing",
    "/error",
    "/r1",
    "/limited",
    "/limited403",
    "/nohead",
    "/reset",
    "/slow",
    "/toolong",
    "/loop",
]


def online_site(root: Path, base: str) -> Path:
    root.mkdir()
    links = "\n".join(f'<a href="{base}{p}">{p}</a>' for p in ONLINE_PATHS)
    # the same URL twice, and once with a fragment: one request for the three
    (root / "index.html").write_text(
        f'{links}\n<a href="{base}/ok">again</a>\n<a href="{base}/ok#part">part</a>\n'
    )
    return root


def http_options(tmp_path: Path, **kwargs) -> HttpOptions:
    return HttpOptions(timeout=0.5, max_wait=5, cache=tmp_path / "cache.json", **kwargs)


def test_external_checks(server: Server, tmp_path: Path):
    site = online_site(tmp_path / "site", server.base)
    report = check_site(site, external=True, nbdev=False, http=http_options(tmp_path))
    by_uri = {r.uri: r for r in report.results}
    base = server.base

    def result(path: str) -> tuple[str, int, str]:
        r = by_uri[base + path]
        return r.status, r.code, r.kind

    assert result("/ok") == ("working", 200, "")
    assert result("/missing") == ("broken", 404, "http-error")
    assert result("/error") == ("broken", 500, "http-error")
    assert result("/r1") == ("redirected", 301, "")
    assert by_uri[base + "/r1"].info == base + "/ok"
    assert result("/limited") == ("working", 200, "")
    assert result("/limited403") == ("working", 200, "")
    assert result("/nohead") == ("working", 200, "")
    assert result("/reset") == ("working", 200, "")
    assert result("/slow") == ("broken", 0, "timeout")
    assert by_uri[base + "/slow"].info == "timed out after 0.5 s"
    assert result("/toolong") == ("broken", 429, "rate-limit")
    assert by_uri[base + "/toolong"].info == (
        "rate limited (429 Too Many Requests): asked to wait 3600 s, over the 5 s limit"
    )
    assert result("/loop") == ("broken", 302, "redirects")

    requests = server.requests
    assert requests["HEAD", "/ok"] == 2  # /ok itself, and the end of the redirect chain
    assert requests["HEAD", "/limited"] == 2
    assert server.times["/limited"][1] - server.times["/limited"][0] >= 1.0
    assert requests["HEAD", "/limited403"] == 2 and requests["GET", "/limited403"] == 0
    assert (requests["HEAD", "/nohead"], requests["GET", "/nohead"]) == (1, 1)
    assert (requests["HEAD", "/reset"], requests["GET", "/reset"]) == (1, 1)
    assert [requests["HEAD", p] for p in ("/r1", "/r2", "/r3")] == [1, 1, 1]
    assert requests["HEAD", "/toolong"] == 1  # no waiting for what can't be waited out
    assert requests["HEAD", "/loop"] == 11

    lines = format_report(report).splitlines()
    assert lines[:-1] == [
        f"index.html:2: {base}/missing — 404 Not Found",
        f"index.html:3: {base}/error — 500 Internal Server Error",
        f"index.html:9: {base}/slow — timed out after 0.5 s",
        f"index.html:10: {base}/toolong — " + by_uri[base + "/toolong"].info,
        f"index.html:11: {base}/loop — more than 10 redirects",
    ]
    assert lines[-1].startswith("checked 1 page, 13 links in ")
    assert lines[-1].endswith("s: 5 broken, 1 redirected")


def test_cache_skips_recent_successes_and_rechecks_expired(server: Server, tmp_path: Path):
    site = online_site(tmp_path / "site", server.base)
    paths = ["/ok", "/missing", "/r1", "/nohead"]
    (site / "index.html").write_text("".join(f'<a href="{server.base}{p}">x</a>' for p in paths))
    options = http_options(tmp_path)
    check_site(site, external=True, nbdev=False, http=options)
    first = Counter(server.requests)
    cache = json.loads(options.cache.read_text())["entries"]
    assert set(cache) == {server.base + p for p in ("/ok", "/r1", "/nohead")}

    again = check_site(site, external=True, nbdev=False, http=options)
    new = server.requests - first
    assert dict(new) == {("HEAD", "/missing"): 1}  # failures are never cached
    assert {r.uri.removeprefix(server.base): r.status for r in again.results} == {
        "/ok": "working",
        "/missing": "broken",
        "/r1": "redirected",
        "/nohead": "working",
    }

    cache[server.base + "/ok"]["checked"] -= 25 * 3600  # older than --cache-age 24
    options.cache.write_text(json.dumps({"version": 1, "entries": cache}))
    before = Counter(server.requests)
    check_site(site, external=True, nbdev=False, http=options)
    assert dict(server.requests - before) == {("HEAD", "/ok"): 1, ("HEAD", "/missing"): 1}


def test_concurrency_is_limited_overall_and_per_host(server: Server, tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    port = server.server_address[1]
    hosts = ["127.0.0.1", "localhost"]
    links = [f'<a href="http://{h}:{port}/busy{i}">x</a>' for h in hosts for i in range(6)]
    (site / "index.html").write_text("\n".join(links))
    options = HttpOptions(timeout=5, workers=3, per_host=2, cache=None)
    report = check_site(site, external=True, nbdev=False, http=options)
    assert not report.broken
    assert server.most_active["127.0.0.1"] == 2
    assert server.most_active["all"] == 3


def test_inventory_page_misses_are_asked_online(server: Server, tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    inv = write_inventory("local", "1", [InventoryItem("x", "py", "function", 1, "a.html#x", "x")])
    (site / "index.html").write_text(
        f'<a href="{server.base}/ok">listed nowhere</a>\n'
        f'<a href="{server.base}/a.html#y">wrong anchor</a>'
    )
    kwargs = {"inventories": {server.base: inv}, "nbdev": False}
    offline = check_site(site, **kwargs)
    assert [r.kind for r in offline.results] == ["inventory-page", "inventory-anchor"]
    online = check_site(site, external=True, http=http_options(tmp_path), **kwargs)
    assert [(r.status, r.code) for r in online.results] == [("working", 200), ("broken", 0)]
    assert server.requests == Counter({("HEAD", "/ok"): 1})


def test_retry_after_as_seconds_date_or_rate_limit_reset():
    def headers(**values: str) -> email.message.Message:
        message = email.message.Message()
        for name, value in values.items():
            message[name.replace("_", "-")] = value
        return message

    assert _retry_after(headers(Retry_After="7")) == 7
    soon = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= _retry_after(headers(Retry_After=soon)) <= 30  # type: ignore[operator]
    assert _retry_after(headers(Retry_After="Thu, 01 Jan 1970 00:00:00 GMT")) == 0
    reset = str(int(time.time()) + 60)
    assert 58 <= _retry_after(headers(X_RateLimit_Reset=reset)) <= 60  # type: ignore[operator]
    assert _retry_after(headers(Retry_After="soon")) is None
    assert _retry_after(headers()) is None


# -------------------------------------------------------------------------------- CLI


def cli_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_run_exit_codes(site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["check", str(tmp_path / "nowhere")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert main(["check", str(site), "--ignore", "("]) == 2
    assert "--ignore" in capsys.readouterr().err
    assert main(["check", str(site), "--workers", "0"]) == 2
    good = tmp_path / "good"
    good.mkdir()
    (good / "index.html").write_text('<h1 id="a">A</h1><a href="#a">a</a>')
    assert run(cli_args(str(good))) == 0
    assert capsys.readouterr().out.startswith("checked 1 page, 1 link in ")
    assert run(cli_args(str(site))) == 1


def test_run_report_and_json(site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "linkcheck.json"
    assert run(cli_args(str(site), "--json", str(out))) == 1
    lines = capsys.readouterr().out.splitlines()
    problems, summary = lines[:-1], lines[-1]
    assert problems[0] == "index.html:4: _static/missing.css — _static/missing.css does not exist"
    assert problems[-1].startswith("objects.inv:2: api/core.html#gone — py:function core.gone")
    keys = [(p.split(":")[0], int(p.split(":")[1])) for p in problems]
    assert keys == sorted(keys) and len(problems) == len(EXPECTED)
    assert "12 broken" in summary and "5 unchecked" in summary

    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert set(records[0]) == {"filename", "lineno", "status", "code", "uri", "info", "kind"}
    assert {
        "filename": "index.html",
        "lineno": 15,
        "status": "broken",
        "code": 0,
        "uri": "nope.html",
        "info": "nope.html does not exist",
        "kind": "missing-page",
    } in records
    assert {r["status"] for r in records} == {"working", "broken", "unchecked"}
    assert len(records) == check_site(site).links


def test_json_target_that_cannot_be_written_is_refused_before_checking(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("keep")
    cases = {
        tmp_path: "is a folder",
        tmp_path / "missing" / "out.json": f"its folder {tmp_path / 'missing'} does not exist",
        a_file / "out.json": f"{a_file} is not a folder",
    }
    for target, message in cases.items():
        assert main(["check", str(site), "--json", str(target)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""  # refused before the check ran
        assert captured.err.startswith(f"error: --json {target}: {message}")
    assert a_file.read_text() == "keep" and not (tmp_path / "missing").exists()
