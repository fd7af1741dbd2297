"""Requests a page would make to other hosts, which the site promises not to make.

`remote_requests` lists what an HTML fragment loads by itself from another host: images,
scripts, stylesheets, frames, media, and CSS url() and @import. It reads the HTML with
html.parser, as a browser would tokenize it. Links a reader may follow (`<a href>`) are not
requests. A `<base href>` is reported too: it re-points every relative image and link of
the page. `remote_warnings` words them for the build, minus the hosts the author accepts
in `allow_remote`.

The parser decodes character references in attribute values, as browsers do, so
`&#x68;ttps:` is `https:`; CSS escapes (`\2f`) are decoded before url() is read, and the
HTML of an `<iframe srcdoc>` is read the same way.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from typing import NamedTuple
from urllib.parse import urlsplit

__all__ = ["BASE", "Request", "host_allowed", "remote_requests", "remote_warnings"]

# tag -> its attributes whose URL the browser loads along with the page.
_LOADED = {
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "script": ("src", "href", "xlink:href"),  # href, xlink:href: SVG
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "input": ("src",),
    "image": ("href", "xlink:href"),  # SVG
    "use": ("href", "xlink:href"),
    "feimage": ("href", "xlink:href"),
}
# `<link rel=...>` values that fetch (any `*icon` does too); `canonical`, `author`... don't.
_FETCHING_RELS = frozenset(
    {
        "stylesheet",
        "preload",
        "prefetch",
        "modulepreload",
        "manifest",
        "preconnect",
        "dns-prefetch",
        "prerender",
    }
)
_REMOTE_SCHEMES = frozenset({"http", "https", "ftp", "ws", "wss"})
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)|@import\s*(['"])(.*?)\3""", re.I | re.S)
_CSS_IMAGE_SET = re.compile(r"image-set\(([^)]*)\)", re.I)  # strings there are URLs too
_CSS_STRING = re.compile(r"""(['"])(.*?)\1""", re.S)
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n\r\f]?|(.))", re.S)
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.S)
_REFRESH_URL = re.compile(r"""url\s*=\s*(['"]?)(.*?)\1\s*$""", re.I | re.S)
_MAX_SRCDOC_DEPTH = 16  # an `<iframe srcdoc>` within a srcdoc ... read this deep
BASE = "<base href>"  # not a load by itself, but it re-points every relative URL
_URL_NOISE = re.compile(r"[\t\n\r]")  # browsers drop these anywhere in a URL
_C0_AND_SPACE = "".join(map(chr, range(0x21)))  # ... and strip these from its ends


class Request(NamedTuple):
    what: str  # how the page asks for it: "<img src>", "<style> url()", ...
    url: str
    host: str  # "" when the URL names none that can be read


def remote_host(url: str) -> str | None:
    """The host `url` loads from when it is not a file of the site; else None."""
    # Browsers read '\\' as '/' in web URLs: `\\\\host/x` is `//host/x`.
    url = _URL_NOISE.sub("", url).strip(_C0_AND_SPACE).replace("\\", "/")
    if url.startswith("//"):
        url = "https:" + url
    try:
        parts = urlsplit(url)
        if parts.scheme.lower() not in _REMOTE_SCHEMES:
            return None
        return (parts.hostname or "").lower()
    except ValueError:  # a malformed authority ("http://[x") is still a request attempt
        return ""


def _css_unescape(css: str) -> str:
    """CSS text with its escapes decoded, as the browser reads it: `\\2f` is '/'."""

    def char(m: re.Match[str]) -> str:
        if m.group(1) is None:
            return m.group(2)
        code = int(m.group(1), 16)
        return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"

    return _CSS_ESCAPE.sub(char, css)


def _css_urls(css: str) -> list[str]:
    """The URLs that `css` (a stylesheet or a style attribute) loads."""
    css = _CSS_COMMENT.sub("", _css_unescape(css))
    urls = [
        m.group(2) if m.group(2) is not None else m.group(4) or "" for m in _CSS_URL.finditer(css)
    ]
    for m in _CSS_IMAGE_SET.finditer(css):
        urls += [s.group(2) for s in _CSS_STRING.finditer(m.group(1))]
    return urls


class _RequestFinder(HTMLParser):
    def __init__(self, depth: int = 0) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Request] = []
        self._in_style = False
        self._depth = depth

    def _add(self, what: str, url: str) -> None:
        host = remote_host(url)
        if host is not None:
            self.found.append(Request(what, url.strip(), host))

    def _css(self, what: str, css: str) -> None:
        for url in _css_urls(css):
            self._add(what, url)

    def _srcdoc(self, html: str) -> None:
        if self._depth >= _MAX_SRCDOC_DEPTH:
            self.found.append(Request("<iframe srcdoc>", "(nested too deep to read)", ""))
            return
        for r in _find(html, self._depth + 1):
            self.found.append(r._replace(what=f"<iframe srcdoc> {r.what}"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value for name, value in attrs if value}
        for name in _LOADED.get(tag, ()):
            value = values.get(name)
            if value is None:
                continue
            if name == "srcset":
                for candidate in value.split(","):
                    url = candidate.strip().split(None, 1)[0] if candidate.strip() else ""
                    self._add(f"<{tag} srcset>", url)
            else:
                self._add(f"<{tag} {name}>", value)
        if tag == "link" and "href" in values:
            rels = set(values.get("rel", "").lower().split())
            if rels & _FETCHING_RELS or any(r.endswith("icon") for r in rels):
                self._add(f"<link rel={values.get('rel', '')}>", values["href"])
        if "background" in values:
            self._add(f"<{tag} background>", values["background"])
        if "style" in values:
            self._css(f"<{tag} style>", values["style"])
        if tag == "base" and "href" in values:
            href = values["href"]
            self.found.append(Request(BASE, href.strip(), remote_host(href) or ""))
        if tag == "iframe" and "srcdoc" in values:
            self._srcdoc(values["srcdoc"])
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            m = _REFRESH_URL.search(values.get("content", ""))
            if m:
                self._add("<meta http-equiv=refresh>", m.group(2))
        self._in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._in_style = False

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            # Inside SVG a <style>'s character references are decoded; html.parser reads
            # every <style> as raw text, so both readings are looked at.
            self._css("<style>", data)
            if unescape(data) != data:
                self._css("<style>", unescape(data))


def _find(html: str, depth: int) -> list[Request]:
    # Without a '<' there is no tag, so nothing is loaded; any other pre-test on the raw
    # text would miss what character references or CSS escapes spell.
    if "<" not in html:
        return []
    finder = _RequestFinder(depth)
    finder.feed(html)
    finder.close()
    return list(dict.fromkeys(finder.found))


def remote_requests(html: str) -> list[Request]:
    """What `html` loads from other hosts when a browser shows it, in document order, and
    any `<base href>` (`what` is `BASE`)."""
    return _find(html, 0)


def host_allowed(host: str, allow: list[str]) -> bool:
    """Whether `allow` (host names, or `*.example.org` for its subdomains) accepts `host`."""
    for pattern in allow:
        pattern = pattern.lower()
        if host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:])):
            return True
    return False


def remote_warnings(html: str, where: str, allow: list[str]) -> list[str]:
    """One warning per request `html` makes to a host that `allow` does not accept, and one
    per `<base href>`."""
    return [
        f"{where}: {r.what} {r.url} re-points every relative image and link of the page "
        "(to another host, or away from the site's own files): remove the <base> element"
        if r.what.endswith(BASE)
        else f"{where}: {r.what} loads {r.url} from {r.host or 'another host'}, but the site "
        "makes no network requests: copy the file into the project, or accept the host "
        "with allow_remote in [tool.docgen]"
        for r in remote_requests(html)
        if r.what.endswith(BASE) or not host_allowed(r.host, allow)
    ]
