"""A fragment as the host page shows it: inside the scoped container, its images at the
host's copies, its links into the site made absolute, and always a link back."""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin

from docgen.embed.fetch import Fragment
from docgen.site.embeds import EMBED_CLASS, sub_urls
from docgen.site.urls import path_of

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
# The ids docgen gives headings and labelled cells: in a host page they could repeat the
# host's own (its links would land in the fragment), and the fragment's links no longer
# use them (they go to the site). Ids in outputs stay: an SVG refers to its own.
_DOCGEN_ID = re.compile(r'(<h[1-6]|<div class="cell [a-z]+-cell") id="[^"]*"')


def image_name(site_path: str) -> str:
    """The file name a host gives a site image: images are content-hashed, so one folder
    holds the images of every site embedded."""
    return site_path.rsplit("/", 1)[-1]


def backlink(fragment: Fragment) -> str:
    return (
        f'<p class="docgen-embed-source">From <a href="{html.escape(fragment.page_url)}">'
        f"{html.escape(fragment.page_title)}</a> in {html.escape(fragment.project)} "
        "documentation</p>"
    )


def wrap_fragment(fragment: Fragment, images_at: str) -> str:
    """The HTML to put in the host page; `images_at` is the link from that page to the
    folder where the host copied the images (as `image_name`), ending in "/"."""
    images = set(fragment.images)

    def rewrite(m: re.Match[str]) -> str:
        attr, quote, value = m.group(1), m.group(2)[0], m.group(2)[1:-1]
        if not value or _SCHEME.match(value) or value.startswith(("/", "#")):
            return m.group(0)
        if attr.lower() == "src" and path_of(html.unescape(value)) in images:
            new = images_at + image_name(path_of(html.unescape(value)))
        else:
            new = urljoin(fragment.site_base, html.unescape(value)) if fragment.site_base else value
        return f"{attr}={quote}{html.escape(new)}{quote}"

    body = sub_urls(fragment.html, rewrite)
    if fragment.page_url:  # from another site (a notebook of the host keeps its anchors)
        body = _DOCGEN_ID.sub(r"\1", body)
    project = f' data-docgen-project="{html.escape(fragment.project)}"' * bool(fragment.project)
    return (
        f'<div class="{EMBED_CLASS}"{project}>\n'
        f"{body}\n{backlink(fragment) if fragment.page_url else ''}\n</div>"
    )
