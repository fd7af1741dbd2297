"""Finding what a TARGET names in a built docgen site: its embed file, fetched once and cached.

TARGET is `SITE/page.html#anchor`: SITE is a URL or a local folder of a built docgen site,
or a name the host configured (`docgen_sites` in Sphinx's conf.py, `sites` of the MkDocs
plugin). A URL's embed file and images are kept in a cache folder, so a later build works
offline; a local site is read where it is.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

from docgen.errors import DocgenError
from docgen.notebooks.discover import SITE_MARKER
from docgen.site.embeds import EMBED_DIR, EMBED_FORMAT
from docgen.site.urls import href

Fetch = Callable[[str], bytes]
_FRAGMENT = "!$&'()*+,;=:@/?-._~"  # what a URL's fragment may hold unencoded


class EmbedError(DocgenError):
    """A TARGET that names nothing that can be embedded."""


@dataclass(frozen=True)
class Fragment:
    """One embedded section or labelled cell, and what the host needs to show it."""

    html: str  # URLs relative to the site's root (see site/embeds.py)
    title: str  # the section's heading, or the cell's label
    page_title: str
    page_url: str  # absolute: where the backlink goes (with the anchor)
    project: str
    version: str
    site_base: str  # absolute URL (or file URI) of the site's root, ending in "/"
    images: dict[str, bytes] = field(default_factory=dict)  # site path -> bytes
    source: str = ""  # the embed file read: a URL, or a path on this machine


def _is_url(text: str) -> bool:
    return urlsplit(text).scheme in ("http", "https")


def _download(url: str, timeout: float = 10.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (http(s) only)
        return bytes(response.read())


def split_target(target: str, sites: Mapping[str, str], sites_root: Path) -> tuple[str, str, str]:
    """(SITE, page path, anchor) of a TARGET; a name of `sites` is replaced by its SITE (a
    folder relative to `sites_root`, where the host's config is). Without a name, SITE is
    "" and the page path still holds it (see `locate`)."""
    where, _, anchor = target.strip().partition("#")
    head, _, rest = where.partition("/")
    if head in sites:
        site = str(sites[head])
        if not _is_url(site):
            site = str((sites_root / site).resolve())
        return site.rstrip("/") + "/", rest, anchor
    return "", where, anchor


def _local_site(path: Path) -> tuple[Path, str] | None:
    """(site folder, page path) for a path into a local docgen site: the nearest folder
    above the page holding the site marker."""
    for folder in path.parents:
        if (folder / SITE_MARKER).is_file():
            return folder, path.relative_to(folder).as_posix()
    return None


def _embed_name(page: str) -> str:
    page = unquote(page)
    if not page.endswith(".html"):
        raise EmbedError(f"'{page}' is not a page of a docgen site (pages end in .html)")
    return f"{EMBED_DIR}/{page[: -len('.html')]}.json"


@dataclass
class SiteReader:
    """Reads a site's files: a local folder directly, a URL through the cache folder."""

    cache: Path
    fetch: Fetch = _download
    offline_note: list[str] = field(default_factory=list)

    def _cached(self, base: str, path: str) -> Path:
        key = hashlib.sha256(base.encode()).hexdigest()[:16]
        return self.cache / key / PurePosixPath(path)

    def is_cached(self, base: str, path: str) -> bool:
        return self._cached(base, path).is_file()

    def read(self, base: str, path: str) -> bytes | None:
        """The site file `path` of the site at `base` (URL or folder); None when missing."""
        parts = PurePosixPath(path).parts
        if not parts or path.startswith("/") or "\\" in path or ".." in parts:
            # Paths come from the site's embed file: never a file outside the site or cache.
            raise EmbedError(f"the site at {base} names the file {path!r}, which is not in it")
        if not _is_url(base):
            file = Path(base) / path
            try:
                return file.read_bytes() if file.is_file() else None
            except OSError as e:
                raise EmbedError(f"{file} cannot be read: {e.strerror or e}") from e
        cached = self._cached(base, path)
        url = urljoin(base, href(path))  # site paths may hold spaces, '#', '%'...
        try:
            data = self.fetch(url)
        except ValueError as e:  # a URL urllib refuses (http.client.InvalidURL)
            raise EmbedError(f"cannot download {url}: {e}") from e
        except OSError as e:  # urllib's URLError and HTTPError are OSErrors
            if cached.is_file():
                self.offline_note.append(f"{url}: {e}; using the cached copy")
                return cached.read_bytes()
            if getattr(e, "code", None) == 404:
                return None
            raise EmbedError(
                f"cannot download {url} ({e}) and no copy is cached in "
                f"{self.cache}; build once with the network, or point at a local copy of the site"
            ) from e
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(data)
        return data


def locate(site: str, page: str, reader: SiteReader, relative_to: Path) -> tuple[str, str]:
    """(site base, page path within it). Without a configured SITE, the site is found from
    the path: a local folder by its marker file, a URL by the first of its folders, deepest
    first, that has the page's embed file."""
    if site:
        return site, page
    if _is_url(page):
        parts = urlsplit(page)
        folders = PurePosixPath(parts.path).parent.parts
        root = f"{parts.scheme}://{parts.netloc}"
        candidates = []
        for depth in range(len(folders), 0, -1):
            base = root + "/".join(folders[:depth]).replace("//", "/").rstrip("/") + "/"
            candidates.append((base, parts.path[len(urlsplit(base).path) :]))
        # A site read before is found in the cache, so this works offline too.
        for base, rel in candidates:
            if reader.is_cached(base, _embed_name(rel)):
                return base, rel
        for base, rel in candidates:
            if reader.read(base, _embed_name(rel)) is not None:
                return base, rel
        raise EmbedError(f"{page} is not a page of a docgen site (no {EMBED_DIR}/ file found)")
    path = (relative_to / page).resolve()
    found = _local_site(path)
    if found is None:
        raise EmbedError(
            f"{path} is not in a built docgen site (no folder above it holds {SITE_MARKER}); "
            "build the site first (docgen build), or give its URL"
        )
    folder, rel = found
    return str(folder) + "/", rel


def _site_base(base: str, data: Mapping[str, Any]) -> str:
    """Where links into the site go: its public address when it has one."""
    if _is_url(base):
        return base
    return str(data.get("site_url") or Path(base).as_uri() + "/")


def load_fragment(
    target: str,
    sites: Mapping[str, str],
    reader: SiteReader,
    relative_to: Path,
    sites_root: Path,
) -> Fragment:
    """The section or labelled cell TARGET names, with its images; a local path in TARGET
    is relative to `relative_to` (the page's folder), one in `sites` to `sites_root`.
    Raises `EmbedError` saying what is wrong, and for an unknown anchor, which ones exist."""
    site, page, anchor = split_target(target, sites, sites_root)
    base, page = locate(site, page, reader, relative_to)
    raw = reader.read(base, _embed_name(page))
    if raw is None:
        raise EmbedError(
            f"{target}: {urljoin(base, _embed_name(page))} does not exist; is {page} a page of "
            "that docgen site (and was the site built by a docgen that publishes _embed/)?"
        )
    try:
        data = json.loads(raw)
        fragments = {s["anchor"]: (s["title"], s) for s in data["sections"]}
        for cell in data["cells"]:
            fragments.setdefault(cell["label"], (cell["label"], cell))
    except (ValueError, KeyError, TypeError) as e:
        raise EmbedError(f"{target}: the embed file of {page} cannot be read ({e})") from e
    if data.get("docgen_embed", 0) > EMBED_FORMAT:
        raise EmbedError(f"{target}: the site was built by a newer docgen; upgrade docgen")
    if not anchor:
        anchor = next(iter(fragments), "")
    if anchor not in fragments:
        known = ", ".join(fragments) or "none"
        raise EmbedError(
            f"{target}: {page} has no section or labelled cell '{anchor}'; its anchors are: {known}"
        )
    title, chosen = fragments[anchor]
    images = {}
    for path in chosen.get("images", []):
        image = reader.read(base, path)
        if image is None:
            raise EmbedError(f"{target}: the image {path} is missing from the site")
        images[path] = image
    site_base = _site_base(base, data)
    return Fragment(
        html=chosen["html"],
        title=title,
        page_title=data["page"]["title"],
        page_url=f"{urljoin(site_base, data['page']['url'])}#{quote(anchor, safe=_FRAGMENT)}",
        project=data["project"],
        version=data.get("version", ""),
        site_base=site_base,
        images=images,
        source=urljoin(base, _embed_name(page))
        if _is_url(base)
        else str(Path(base, _embed_name(page))),
    )
