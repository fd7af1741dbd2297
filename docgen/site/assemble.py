"""Every file of the site as a {path: bytes} mapping: pages, notebook copies, images,
the theme's static files, search, 404 page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from urllib.parse import quote, urlsplit

from docgen import __version__
from docgen.config import Config
from docgen.model import Page, Source
from docgen.notebooks.node import dumps_v4
from docgen.render.code import dark_pygments_css, pygments_css
from docgen.render.page import _root_of
from docgen.site.branding import branding_context, branding_files
from docgen.site.meta import description, public_base, sitemap
from docgen.site.nav import navigation
from docgen.site.outdir import join_site_files
from docgen.site.search import SectionsOf, search_files
from docgen.site.theme import render_template, template_environment, templates_dir

STATIC_DIR = "_static"


def colab_url(repo: str, branch: str, path: str) -> str:
    m = re.match(r"https?://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?$", repo)
    if not m:
        return ""
    owner, name = m.groups()
    return (
        f"https://colab.research.google.com/github/{owner}/{name}/blob/"
        f"{quote(branch, safe='/')}/{quote(path, safe='/')}"
    )


def _repo_path(config: Config, source: Source) -> str:
    try:
        return source.path.relative_to(config.root).as_posix()
    except ValueError:
        return source.rel.as_posix()


def notebook_file(page: Page) -> bytes:
    """The notebook copy of a page, as written into the site."""
    # Validated when read; nbformat.writes would validate the whole notebook again.
    return dumps_v4(page.notebook).encode() + b"\n"


def assemble_site(
    pages: list[Page],
    config: Config,
    generated: Mapping[str, bytes] | None = None,
    notebook_files: Callable[[Page], bytes] = notebook_file,
    sections_of: SectionsOf | None = None,
) -> dict[str, bytes]:
    """Every file of the site, by path relative to its root.

    Each page's own files (its HTML, notebook copy and images) are joined with the files
    docgen generates (404 page, assets, search index, and `generated`): a page file that a
    generated one would replace is an error naming both (see `join_site_files`).
    `notebook_files` and `sections_of` (the search index's) may answer from a build session.
    """
    env = template_environment(config.templates)
    env.globals["theme"] = branding_context(config)
    nav = navigation(pages)
    files: dict[str, bytes] = {}
    owners: dict[str, str] = {}
    for i, page in enumerate(pages):
        html = render_template(
            env,
            "page.html.jinja2",
            f"the page {page.url}",
            site_title=config.title,
            page=page,
            nav=nav,
            root=_root_of(page.url),
            prev=pages[i - 1] if i > 0 else None,
            next=pages[i + 1] if i + 1 < len(pages) else None,
            colab=""
            if page.source.generated
            else colab_url(config.repo, config.branch, _repo_path(config, page.source)),
            version=__version__,
            site_url=public_base(config.site_url),
            description=description(page.body),
        )
        owner = f"the API page {page.url}" if page.source.generated else str(page.source.path)
        files[page.url] = html.encode()
        owners[page.url] = f"the page of {owner}"
        files[page.notebook_url] = notebook_files(page)
        owners[page.notebook_url] = f"the notebook copy of {owner}"
        files.update(page.images)
        owners.update((path, f"an image of {owner}") for path in page.images)
    theme: dict[str, bytes] = {}
    # Relative links, from the site's root; with site_url, the page's script bases them on
    # its path (see 404.html.jinja2).
    site_path = urlsplit(public_base(config.site_url)).path if config.site_url else ""
    theme["404.html"] = render_template(
        env,
        "404.html.jinja2",
        "the page 404.html",
        site_title=config.title,
        nav=nav,
        root="",
        site_path=site_path,
        version=__version__,
    ).encode()
    statics = [templates_dir() / "static"]
    if config.templates is not None and (config.templates / "static").is_dir():
        statics.append(config.templates / "static")  # a user's file replaces the theme's
    for static in statics:
        for path in sorted(static.rglob("*")):
            if path.is_file():
                theme[f"{STATIC_DIR}/{path.relative_to(static).as_posix()}"] = path.read_bytes()
    theme[f"{STATIC_DIR}/pygments.css"] = (pygments_css() + dark_pygments_css()).encode()
    theme.update(branding_files(config))
    theme.update(search_files(pages, sections_of))
    theme[".nojekyll"] = b""
    if config.site_url:
        theme["sitemap.xml"] = sitemap([page.url for page in pages], config.site_url)
    theme.update(generated or {})
    return join_site_files(files, owners, theme)
