"""`PageContext`: what rendering one page needs to know and what it finds out.

Headings, image files and warnings are collected here, so writing files stays a
separate step.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from markdown.extensions.toc import slugify

from docgen.model import Heading
from docgen.site.urls import href

IMAGE_DIR = "_images"


_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


Resolver = Callable[[str], "str | None"]


@dataclass
class PageContext:
    """What rendering one page needs to know and what it finds out."""

    source: str  # the notebook, as named in messages
    nb_dir: Path  # folder the notebook's relative image paths start from
    root: str  # relative path from the page to the site root: "" or "../"
    # Image files may only come from inside these folders (the project's root, and the
    # notebooks folder when it lies elsewhere): a page must not publish /proc/self/environ
    # or ~/.ssh. Empty: no file is read at all.
    image_roots: tuple[Path, ...] = ()
    # Every notebook of the docs, by path relative to the notebooks folder -> its page url;
    # and this notebook's folder in the same terms, where its links to notebooks start.
    page_links: dict[str, str] = field(default_factory=dict)
    folder: str = ""
    resolve: Resolver | None = None  # backticked name -> url, or None
    link_code: Resolver | None = None  # dotted name in a code cell -> url, or None
    # Output mime types rendered by the build rather than as stored (show_doc's description):
    # mime -> render(data, ctx, markdown renderer) -> HTML, or None to use the stored forms.
    mime_renderers: dict[str, Callable] = field(default_factory=dict)
    headings: list[Heading] = field(default_factory=list)
    images: dict[str, bytes] = field(default_factory=dict)  # site path -> file content
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # problems that fail the build
    read_files: dict[str, str | None] = field(default_factory=dict)  # path -> sha256 or None
    used_ids: set[str] = field(default_factory=set)
    cell_index: int = 0
    cell_alt: str | None = None  # the alt text the code cell gives its images (cells.alt_text)
    attachments: dict = field(default_factory=dict)
    widget_models: dict[str, str] = field(default_factory=dict)  # model id -> widget name

    def where(self) -> str:
        return f"{self.source}, cell {self.cell_index + 1}"

    def href(self, site_path: str) -> str:
        """The link from this page to the site file `site_path` (see urls.py)."""
        return self.root + href(site_path)

    def link_href(self, url: str) -> str:
        """A link relative to the site root (already encoded) as seen from this page;
        absolute URLs as they are."""
        return url if _SCHEME.match(url) else self.root + url

    def add_image(self, data: bytes, mime: str) -> str:
        """Store image bytes under a content-hashed name; returns the src for this page."""
        ext = {"image/svg+xml": ".svg", "image/jpeg": ".jpg"}.get(mime) or (
            mimetypes.guess_extension(mime) or ".bin"
        )
        name = f"{IMAGE_DIR}/{hashlib.sha256(data).hexdigest()[:20]}{ext}"
        self.images[name] = data
        return self.href(name)

    def add_notebook_image(self, data: object, mime: str) -> str | None:
        """`add_image` for an image as a notebook stores it; None, and a warning, if it is bad."""
        try:
            return self.add_image(decode_notebook_image(data, mime), mime)
        except ValueError as e:
            self.warnings.append(f"{self.where()}: {e}; the image is not shown")
            return None

    def unique_id(self, text: str) -> str:
        """A new anchor for a heading's text: its slug, made unique on the page."""
        return self.claim_id(slugify(text, "-") or "section")

    def claim_id(self, base: str) -> str:
        """`base`, else `base-1`, `base-2`, ...: the first this page has not used, now used."""
        anchor, n = base, 1
        while anchor in self.used_ids:
            anchor = f"{base}-{n}"
            n += 1
        self.used_ids.add(anchor)
        return anchor


def decode_notebook_image(data: object, mime: str) -> bytes:
    """An image's bytes from a notebook's base64 (or SVG's text), as a string or list of lines;
    `ValueError` saying what is wrong when they cannot be had."""
    if isinstance(data, list) and all(isinstance(line, str) for line in data):
        data = "".join(data)
    if not isinstance(data, str):
        raise ValueError(f"{mime} image is {type(data).__name__} data, not text")
    if mime == "image/svg+xml":
        return data.encode("utf-8", "replace")
    try:
        return base64.b64decode("".join(data.split()), validate=True)  # lines are allowed
    except ValueError as e:  # binascii.Error
        raise ValueError(f"{mime} image is not valid base64 ({e})") from e
