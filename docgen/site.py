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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import quote

import jinja2
import nbformat

from . import __version__
from .ansi import valid_strings
from .config import Config
from .errors import DocgenError
from .notebooks import SITE_MARKER, Source, cell_options, strip_prefix
from .outdir import MARKER_TEXT, check_replaceable, join_site_files, reason, swap_in
from .outputs import render_outputs
from .remote import remote_warnings
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
from .theme import TemplateLoader, render_template
from .urls import href

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
    errors: list[str] = field(default_factory=list)  # problems that fail the build

    @property
    def url(self) -> str:
        """The page's file in the site; links to it use `href`."""
        return self.source.url

    @property
    def notebook_url(self) -> str:
        return self.source.url[: -len(".html")] + ".ipynb"

    @property
    def href(self) -> str:
        """The link to the page from the site root (see urls.py)."""
        return href(self.url)

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
    default = TemplateLoader(templates_dir())
    loaders: list[jinja2.BaseLoader] = []
    if user_templates is not None:
        loaders.append(TemplateLoader(user_templates))
    loaders += [default, jinja2.PrefixLoader({"default": default})]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "jinja2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # `{{ root }}{{ page.url | href }}`: a site path as a link, whatever its file's name.
    env.filters["href"] = href
    return env


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


def image_roots(config: Config) -> tuple[Path, ...]:
    """Folders images may come from: the notebooks, and the project root when a config file
    says where that is (without one the root is only where docgen runs, maybe the home)."""
    return (config.nbs, config.root) if config.config_file is not None else (config.nbs,)


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
        image_roots=image_roots(config),
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

    def loads_nothing(fragment: str) -> str:
        ctx.warnings.extend(remote_warnings(fragment, ctx.where(), config.allow_remote))
        return fragment

    cells = []
    for index, cell in enumerate(nb.cells):
        ctx.cell_index = index
        options = cell_options(cell)
        if not options.show_cell:
            continue
        if cell.cell_type == "markdown":
            ctx.attachments = cell.get("attachments", {})
            body = loads_nothing(md.render(cell.source, ctx))
            cells.append(f'<div class="cell markdown-cell">{body}</div>')
        elif cell.cell_type == "code":
            code = (
                render_code_input(cell.source, lexer, options, code_link if link_code else None)
                if options.show_input
                else ""
            )
            out = ""
            if options.show_output and cell.get("outputs"):
                out = loads_nothing(
                    render_outputs(cell.outputs, ctx, md, config.max_output_chars)
                )
                if out and options.collapse_output:
                    out = f"<details><summary>Show output</summary>{out}</details>"
            if code or out:
                outputs = f'<div class="cell-outputs">{out}</div>' if out else ""
                cells.append(f'<div class="cell code-cell">{code}{outputs}</div>')
        elif cell.cell_type == "raw":
            mime = cell.get("metadata", {}).get("format", "")
            if mime in ("text/html", "html"):
                cells.append(f'<div class="cell raw-cell">{loads_nothing(cell.source)}</div>')
    return Page(
        source=source,
        title=page_title(ctx.headings, source),
        body="\n".join(cells),
        headings=ctx.headings,
        images=ctx.images,
        notebook=nb,
        warnings=ctx.warnings,
        errors=ctx.errors,
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
    return (
        f"https://colab.research.google.com/github/{owner}/{name}/blob/"
        f"{quote(branch, safe='/')}/{quote(path, safe='/')}"
    )


def _repo_path(config: Config, source: Source) -> str:
    try:
        return source.path.relative_to(config.root).as_posix()
    except ValueError:
        return source.rel.as_posix()


def assemble_site(
    pages: list[Page], config: Config, generated: Mapping[str, bytes] | None = None
) -> dict[str, bytes]:
    """Every file of the site, by path relative to its root.

    Each page's own files (its HTML, notebook copy and images) are joined with the files
    docgen generates (404 page, assets, search index, and `generated`): a page file that a
    generated one would replace is an error naming both (see `join_site_files`).
    """
    env = template_environment(config.templates)
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
        )
        owner = f"the API page {page.url}" if page.source.generated else str(page.source.path)
        files[page.url] = html.encode()
        owners[page.url] = f"the page of {owner}"
        # Validated when read; nbformat.writes would validate the whole notebook again.
        files[page.notebook_url] = nbformat.v4.writes(page.notebook).encode() + b"\n"
        owners[page.notebook_url] = f"the notebook copy of {owner}"
        files.update(page.images)
        owners.update((path, f"an image of {owner}") for path in page.images)
    theme: dict[str, bytes] = {}
    root_404 = (re.sub(r"^https?://[^/]+", "", config.site_url.rstrip("/")) or "") + "/"
    theme["404.html"] = render_template(
        env,
        "404.html.jinja2",
        "the page 404.html",
        site_title=config.title,
        nav=nav,
        root=root_404,
        version=__version__,
    ).encode()
    statics = [templates_dir() / "static"]
    if config.templates is not None and (config.templates / "static").is_dir():
        statics.append(config.templates / "static")  # a user's file replaces the theme's
    for static in statics:
        for path in sorted(static.rglob("*")):
            if path.is_file():
                theme[f"{STATIC_DIR}/{path.relative_to(static).as_posix()}"] = path.read_bytes()
    theme[f"{STATIC_DIR}/pygments.css"] = pygments_css().encode()
    theme.update(search_files(pages))
    theme[".nojekyll"] = b""
    theme.update(generated or {})
    return join_site_files(files, owners, theme)


def write_site_atomically(out: Path, files: Mapping[str, bytes]) -> None:
    """Write `files` (and the marker) into a fresh folder beside `out`, then swap it in.

    Until the swap the previous site is untouched; if anything fails the new folder is
    removed, `out` stays byte for byte as it was, and a `DocgenError` names the path.
    """
    out = out.resolve()
    check_replaceable(out)
    tmp = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
        # The marker first: a build killed while writing leaves a folder the next one can
        # tell is docgen's (see outdir.remove_swap_leftovers).
        (tmp / SITE_MARKER).write_bytes(MARKER_TEXT)
        for rel, data in files.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        os.chmod(tmp, 0o755)
    except BaseException as e:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError):
            raise DocgenError(
                f"cannot write the site beside {out}: {reason(e)}; the previous site is unchanged"
            ) from e
        raise
    swap_in(tmp, out)
