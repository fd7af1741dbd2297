"""Every file of the site as a {path: bytes} mapping: pages, notebook copies, images,
the theme's static files, search, 404 page.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import jinja2

from docgen import __version__
from docgen.config import Config
from docgen.errors import BuildFailed
from docgen.execute.plan import needs_gpu
from docgen.model import Page
from docgen.notebooks.node import dumps_v4
from docgen.render.code import dark_pygments_css, pygments_css
from docgen.render.page import _root_of
from docgen.session.keys import digest
from docgen.site.branding import branding_context, branding_files
from docgen.site.downloads import download_names, export_scripts, page_downloads
from docgen.site.meta import description, public_base, sitemap
from docgen.site.nav import navigation
from docgen.site.openlinks import OpenTarget, binder_url, colab_url
from docgen.site.outdir import join_site_files
from docgen.site.search import SearchMemo, SectionsOf, search_files
from docgen.site.theme import render_template, template_environment, templates_dir

STATIC_DIR = "_static"

# (page, the digest of everything around its body that its HTML depends on, a function that
# renders it) -> its HTML: a build session answers from the page wrapped in an earlier build.
Wrapped = Callable[[Page, str, Callable[[], bytes]], bytes]


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
    wrapped: Wrapped | None = None,
    search_memo: SearchMemo | None = None,
    env: jinja2.Environment | None = None,
    targets: Mapping[str, OpenTarget] | None = None,
    scripts: Callable[[list[bytes]], list[bytes]] = export_scripts,
) -> dict[str, bytes]:
    """Every file of the site, by path relative to its root.

    Each page's own files (its HTML, notebook copy and images) are joined with the files
    docgen generates (404 page, assets, search index, and `generated`): a page file that a
    generated one would replace is an error naming both (see `join_site_files`).
    `notebook_files`, `sections_of` (the search index's) and `scripts` (clean notebooks'
    `.py` files) may answer from a build session, and so may `wrapped` (each page's HTML) and
    `search_memo` (see `search.index_data`); `env`, one made by
    `template_environment(config.templates)` earlier, keeps the templates it compiled (and
    compiles again those whose file changed). `targets` are the Colab and Binder links' ref
    and path of each page that has them (see openlinks.py), by page URL.
    """
    env = env or template_environment(config.templates)
    env.globals["theme"] = branding_context(config)
    nav = navigation(pages)
    # Every page's sidebar lists every page: what it shows, and what surrounds every page,
    # is one digest; a page is wrapped again only when it, its neighbours or this changed.
    around = digest(
        [
            [[s.title, s.pages] for s in nav],
            config.title,
            env.globals["theme"],
            config.repo,
            config.branch,
            config.site_url,
            __version__,
            template_stamp(config.templates),
        ]
    )
    files: dict[str, bytes] = {}
    owners: dict[str, str] = {}
    clashes: list[str] = []

    def add(name: str, data: bytes, whose: str) -> None:
        image = "an image"  # pages may show the same image, which is one file
        if name in owners and not (whose.startswith(image) and owners[name].startswith(image)):
            clashes.append(f"{whose} would be {name}, as would {owners[name]}; rename one")
        files[name] = data
        owners[name] = whose

    cleans: list[tuple[str, str, bytes]] = []  # (script path, owner, clean notebook)
    for i, page in enumerate(pages):
        prev = pages[i - 1] if i > 0 else None
        next_ = pages[i + 1] if i + 1 < len(pages) else None
        target = (targets or {}).get(page.url)
        gpu = bool(needs_gpu(page.notebook))
        names = download_names(page.url)
        open_menu = {
            **names,
            "colab": colab_url(config.repo, target.ref, target.path) if target else "",
            "binder": binder_url(config.repo, target.ref, target.path) if target else "",
            "gpu": gpu,
        }

        def wrap(
            page: Page = page,
            prev: Page | None = prev,
            next_: Page | None = next_,
            open_menu: dict[str, object] = open_menu,
        ) -> bytes:
            return render_template(
                env,
                "page.html.jinja2",
                f"the page {page.url}",
                site_title=config.title,
                page=page,
                nav=nav,
                root=_root_of(page.url),
                prev=prev,
                next=next_,
                colab=open_menu["colab"],
                open=open_menu,
                version=__version__,
                site_url=public_base(config.site_url),
                description=description(page.body),
            ).encode()

        if wrapped is None:
            html = wrap()
        else:
            neighbours = [[p.url, p.title] if p else None for p in (prev, next_)]
            key = digest(
                [around, neighbours, page.provenance, page.warnings, page.title, open_menu]
            )
            html = wrapped(page, key, wrap)
        owner = f"the API page {page.url}" if page.source.generated else str(page.source.path)
        add(page.url, html, f"the page of {owner}")
        downloads = page_downloads(
            page.url, page.notebook, notebook_files(page), config.open_setup, gpu
        )
        add(names["notebook"], downloads[names["notebook"]], f"the notebook copy of {owner}")
        add(names["clean"], downloads[names["clean"]], f"the clean notebook of {owner}")
        cleans.append((names["script"], owner, downloads[names["clean"]]))
        for name, data in page.images.items():
            add(name, data, f"an image of {owner}")
    made = scripts([clean for _, _, clean in cleans])
    for (name, owner, _), script in zip(cleans, made, strict=True):
        add(name, script, f"the Python script of {owner}")
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
    theme.update(search_files(pages, sections_of, search_memo))
    theme[".nojekyll"] = b""
    if config.site_url:
        theme["sitemap.xml"] = sitemap([page.url for page in pages], config.site_url)
    theme.update(generated or {})
    if clashes:
        raise BuildFailed(clashes)
    return join_site_files(files, owners, theme)


def template_stamp(user_templates: Path | None) -> list[list[object]]:
    """What says a template file changed: each file's path, size and modification time."""
    stamp: list[list[object]] = []
    for folder in (templates_dir(), user_templates):
        if folder is None or not folder.is_dir():
            continue
        for root, _, names in os.walk(folder):
            for name in sorted(names):
                try:
                    st = os.stat(os.path.join(root, name))
                except OSError:
                    continue
                stamp.append([os.path.join(root, name), st.st_size, st.st_mtime_ns])
    return stamp
