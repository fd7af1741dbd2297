"""What search engines and link previews read: a page's description, and sitemap.xml."""

from __future__ import annotations

import re
from collections.abc import Sequence
from xml.sax.saxutils import escape

from docgen.runtime.entry import html_text
from docgen.site.urls import href

_PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p>", re.S)
DESCRIPTION_CHARS = 200


def description(body: str) -> str:
    """The text of the page's first paragraph that has any, shortened at a word to about
    DESCRIPTION_CHARS characters; "" for a page without one."""
    for match in _PARAGRAPH.finditer(body):
        text = " ".join(html_text(match.group(1)).split())
        if not text:
            continue
        if len(text) > DESCRIPTION_CHARS:
            text = text[:DESCRIPTION_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"
        return text
    return ""


def public_base(site_url: str) -> str:
    """`site_url` as the base of the pages' addresses ("" when it is not set)."""
    return site_url.rstrip("/") + "/" if site_url else ""


def sitemap(urls: Sequence[str], site_url: str) -> bytes:
    """sitemap.xml listing every page (site paths) at its public address."""
    base = public_base(site_url)
    entries = "".join(f"  <url><loc>{escape(base + href(url))}</loc></url>\n" for url in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{entries}</urlset>\n"
    ).encode()
