"""Pages, navigation and the written site.

`render_page` turns one executed notebook into a `Page` (plain data); `assemble_site`
lays every page, image, notebook copy and asset out as a {path: bytes} mapping; and
`write_site_atomically` is the only function here that touches the disk.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import jinja2
import nbformat

from . import __version__
from .ansi import valid_strings
from .config import Config
from .notebooks import Source, cell_options, strip_prefix
from .outputs import render_outputs
from .render import (
    Heading,
    MarkdownRenderer,
    PageContext,
    Resolver,
    code_lexer,
    pygments_css,
    render_code_input,
)
from .search import search_files

STATIC_DIR = "_static"


@dataclass(frozen=True)
class Page:
    """One rendered notebook: its HTML body and everything the site needs around it."""

    source: Source
    title: str
    body: str
    headings: list[Heading]
    images: dict[str, bytes]
    notebook: nbformat.NotebookNode
    warnings: list[str] = field(default_factory=list)
    provenance: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.source.url

    @property
    def notebook_url(self) -> str:
        return self.source.url[: -len(".html")] + ".ipynb"

    @property
    def toc(self) -> list[Heading]:
        """Headings for the on-page table of contents: below the title, two levels deep."""
        title = _title_heading(self.headings)
        rest = [h for h in self.headings if h is not title]
        top = min((h.level for h in rest), default=2)
        return [h for h in rest if h.level <= top + 1]


@dataclass(frozen=True)
class NavSection:
    title: str
    pages: list[tuple[str, str]]  # (title, url)


def templates_dir() -> Path:
    """The default theme: inside the package when installed, beside it in a checkout."""
    here = Path(__file__).parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "page.html.jinja2").is_file():
            return candidate
    raise FileNotFoundError(f"docgen's default templates are missing (looked beside {here})")


def template_environment(user_templates: Path | None) -> jinja2.Environment:
    """User templates first, so one can `{% extends "default/page.html.jinja2" %}`."""
    default = jinja2.FileSystemLoader(templates_dir())
    loaders: list[jinja2.BaseLoader] = []
    if user_templates is not None:
        loaders.append(jinja2.FileSystemLoader(user_templates))
    loaders += [default, jinja2.PrefixLoader({"default": default})]
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "jinja2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _title_heading(headings: list[Heading]) -> Heading | None:
    """The heading that names a page: its first h1, else its first heading."""
    return next((h for h in headings if h.level == 1), None) or next(iter(headings), None)


def _label(name: str) -> str:
    """A file or folder name as a title: '01_data_loading' -> 'Data loading'."""
    return strip_prefix(name).replace("_", " ").capitalize()


def _root_of(url: str) -> str:
    """The relative path from the page at `url` to the site root: "" or "../" per folder."""
    return "../" * (len(PurePosixPath(url).parts) - 1)


def page_title(headings: list[Heading], source: Source) -> str:
    title = _title_heading(headings)
    return title.text if title is not None else _label(source.rel.stem)


def render_page(
    source: Source,
    nb: nbformat.NotebookNode,
    md: MarkdownRenderer,
    config: Config,
    page_links: dict[str, str],
    resolve: Resolver | None = None,
    link_code: Resolver | None = None,
    mime_renderers: dict[str, Callable] | None = None,
) -> Page:
    """One executed notebook as a page body (HTML of its visible cells).

    `resolve` links backticked names, `link_code` names in code cells (see links.py), and
    `mime_renderers` render output types the build knows better (show_doc's, apidocs.py).
    """
    nb = valid_strings(nb)  # the page and the notebook copy must both be writable as UTF-8
    ctx = PageContext(
        source=str(source.path),
        nb_dir=source.path.parent,
        root=_root_of(source.url),
        page_links=page_links,
        folder=source.rel.parent.as_posix(),
        resolve=resolve,
        link_code=link_code,
        mime_renderers=dict(mime_renderers or {}),
    )
    lexer = code_lexer(nb.metadata)

    def code_link(name: str) -> str | None:
        url = link_code(name) if link_code is not None else None
        return ctx.link_href(url) if url else None

    cells = []
    for index, cell in enumerate(nb.cells):
        ctx.cell_index = index
        options = cell_options(cell)
        if not options.show_cell:
            continue
        if cell.cell_type == "markdown":
            ctx.attachments = cell.get("attachments", {})
            body = md.render(cell.source, ctx)
            cells.append(f'<div class="cell markdown-cell">{body}</div>')
        elif cell.cell_type == "code":
            code = (
                render_code_input(cell.source, lexer, options, code_link if link_code else None)
                if options.show_input
                else ""
            )
            out = ""
            if options.show_output and cell.get("outputs"):
                out = render_outputs(cell.outputs, ctx, md, config.max_output_chars)
                if out and options.collapse_output:
                    out = f"<details><summary>Show output</summary>{out}</details>"
            if code or out:
                outputs = f'<div class="cell-outputs">{out}</div>' if out else ""
                cells.append(f'<div class="cell code-cell">{code}{outputs}</div>')
        elif cell.cell_type == "raw":
            mime = cell.get("metadata", {}).get("format", "")
            if mime in ("text/html", "html"):
                cells.append(f'<div class="cell raw-cell">{cell.source}</div>')
    return Page(
        source=source,
        title=page_title(ctx.headings, source),
        body="\n".join(cells),
        headings=ctx.headings,
        images=ctx.images,
        notebook=nb,
        warnings=ctx.warnings,
    )


def navigation(pages: list[Page]) -> list[NavSection]:
    """Sidebar sections: top-level pages first, then one section per folder, in site order."""
    sections: dict[str, list[tuple[str, str]]] = {}
    titles: dict[str, str] = {}
    for page in pages:
        key = page.source.section
        sections.setdefault(key, []).append((page.title, page.url))
        if key and page.source.rel.stem == "index":
            titles[key] = page.title
    return [
        NavSection(titles.get(key) or " / ".join(_label(p) for p in key.split("/")), items)
        for key, items in sections.items()
    ]


def colab_url(repo: str, branch: str, path: str) -> str:
    m = re.match(r"https?://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?$", repo)
    if not m:
        return ""
    owner, name = m.groups()
    return f"https://colab.research.google.com/github/{owner}/{name}/blob/{branch}/{path}"


def _repo_path(config: Config, source: Source) -> str:
    try:
        return source.path.relative_to(config.root).as_posix()
    except ValueError:
        return source.rel.as_posix()


def assemble_site(pages: list[Page], config: Config) -> dict[str, bytes]:
    """Every file of the site, by path relative to its root."""
    env = template_environment(config.templates)
    page_template = env.get_template("page.html.jinja2")
    nav = navigation(pages)
    files: dict[str, bytes] = {}
    for i, page in enumerate(pages):
        html = page_template.render(
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
        )
        files[page.url] = html.encode()
        # Validated when read; nbformat.writes would validate the whole notebook again.
        files[page.notebook_url] = nbformat.v4.writes(page.notebook).encode() + b"\n"
        files.update(page.images)
    root_404 = (re.sub(r"^https?://[^/]+", "", config.site_url.rstrip("/")) or "") + "/"
    files["404.html"] = (
        env.get_template("404.html.jinja2")
        .render(site_title=config.title, nav=nav, root=root_404, version=__version__)
        .encode()
    )
    statics = [templates_dir() / "static"]
    if config.templates is not None and (config.templates / "static").is_dir():
        statics.append(config.templates / "static")  # a user's file replaces the theme's
    for static in statics:
        for path in sorted(static.rglob("*")):
            if path.is_file():
                files[f"{STATIC_DIR}/{path.relative_to(static).as_posix()}"] = path.read_bytes()
    files[f"{STATIC_DIR}/pygments.css"] = pygments_css().encode()
    files.update(search_files(pages))
    files[".nojekyll"] = b""
    return files


def write_site_atomically(out: Path, files: dict[str, bytes]) -> None:
    """Write `files` into a fresh folder beside `out`, then swap it in.

    Until the final rename the previous site is untouched; if anything fails the new
    folder is removed and `out` stays byte-for-byte as it was.
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        for rel, data in files.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        os.chmod(tmp, 0o755)
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            old.rmdir()
            out.rename(old)
        try:
            tmp.rename(out)
        except BaseException:
            if old is not None:
                old.rename(out)
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
