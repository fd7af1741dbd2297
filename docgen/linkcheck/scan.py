"""Reading a built page's links, ids and assets, faster than a full HTML parser."""

from __future__ import annotations

import re
from html import unescape
from typing import NamedTuple


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
