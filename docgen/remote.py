"""Requests a page would make to other hosts, which the site promises not to make.

`remote_requests` lists what an HTML fragment loads by itself from another host: images,
scripts, stylesheets, frames, media, and CSS url() and @import. It reads the HTML with
html.parser, as a browser would tokenize it. Links a reader may follow (`<a href>`) are not
requests. `remote_warnings` words them for the build, minus the hosts the author accepts
in `allow_remote`.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import NamedTuple
from urllib.parse import urlsplit

__all__ = ["Request", "host_allowed", "remote_requests", "remote_warnings"]

# tag -> its attributes whose URL the browser loads along with the page.
_LOADED = {
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "script": ("src",),
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
    {"stylesheet", "preload", "prefetch", "modulepreload", "manifest", "preconnect",
     "dns-prefetch", "prerender"}
)
_REMOTE_SCHEMES = frozenset({"http", "https", "ftp", "ws", "wss"})
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)|@import\s+(['"])(.*?)\3""", re.I | re.S)
# Nothing can load from another host without one of these: the cheap test before parsing.
_MAYBE_REMOTE = re.compile(r"(?i)(?:https?|ftp|wss?):|[/\\]{2}")
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


class _RequestFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Request] = []
        self._in_style = False

    def _add(self, what: str, url: str) -> None:
        host = remote_host(url)
        if host is not None:
            self.found.append(Request(what, url.strip(), host))

    def _css(self, what: str, css: str) -> None:
        for m in _CSS_URL.finditer(css):
            self._add(what, m.group(2) if m.group(2) is not None else m.group(4) or "")

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
        self._in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._in_style = False

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self._css("<style>", data)


def remote_requests(html: str) -> list[Request]:
    """What `html` loads from other hosts when a browser shows it, in document order."""
    if not _MAYBE_REMOTE.search(html):
        return []
    finder = _RequestFinder()
    finder.feed(html)
    finder.close()
    return finder.found


def host_allowed(host: str, allow: list[str]) -> bool:
    """Whether `allow` (host names, or `*.example.org` for its subdomains) accepts `host`."""
    for pattern in allow:
        pattern = pattern.lower()
        if host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:])):
            return True
    return False


def remote_warnings(html: str, where: str, allow: list[str]) -> list[str]:
    """One warning per request `html` makes to a host that `allow` does not accept."""
    return [
        f"{where}: {r.what} loads {r.url} from {r.host or 'another host'}, but the site "
        "makes no network requests: copy the file into the project, or accept the host "
        "with allow_remote in [tool.docgen]"
        for r in remote_requests(html)
        if not host_allowed(r.host, allow)
    ]
