"""Site paths and the links that point at them.

A *path* names a file of the site ("guide/my page.html", `Source.url`): it is what the
site is written with. An *href* is a path as a link: percent-encoded, so that every name a
file system allows (spaces, '#', '?', '%', ':', any script) reaches its file, and no name
can read as a scheme (`javascript:x.html`) or as a fragment or query. Every link docgen
generates to a file of the site goes through `href`; `path_of` turns one back.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

__all__ = ["href", "path_of"]

# What RFC 3986 allows unencoded in a fragment, minus '%' (so the id's own '%' survives).
_FRAGMENT_SAFE = "!$&'()*+,;=:@/?-._~"


def href(path: str, fragment: str = "") -> str:
    """The relative link to the site file `path` (relative to the same folder), and to
    the element `fragment` names on it.

    ':' is encoded with everything else but '/', so no first segment can look like a
    scheme, and the result is always a relative URL.
    """
    link = quote(path, safe="/")
    return f"{link}#{quote(fragment, safe=_FRAGMENT_SAFE)}" if fragment else link


def path_of(link: str) -> str:
    """The site path a relative `href` names (its query and fragment left off)."""
    return unquote(link.partition("#")[0].partition("?")[0])
