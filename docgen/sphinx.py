"""The Sphinx extension: `extensions = ["docgen.sphinx"]` in conf.py, then

    .. docgen-embed:: SITE/page.html#anchor

shows a section (or labelled cell) of a built docgen site, with its images copied into
the Sphinx output and a link back; `docgen_sites = {"name": SITE}` names sites, so
`name/page.html#anchor` works too. And

    .. docgen-notebook:: path/to/notebook.ipynb

executes a notebook through docgen's executor and cache (`.docgen_cache/` beside conf.py)
and shows it, its backticked names linked through the project's intersphinx inventories.

Sphinx is imported only here: it is not a dependency of docgen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.osutil import relative_uri

from docgen import __version__
from docgen.embed.fetch import Fragment, SiteReader, load_fragment
from docgen.embed.notebook import notebook_config, page_fragment, render_notebook
from docgen.embed.wrap import image_name, wrap_fragment
from docgen.errors import DocgenError, UsageError
from docgen.site.embeds import embed_stylesheet

logger = logging.getLogger(__name__)
STATIC = "docgen"  # the folder in the output's _static/ with the stylesheet and images
CSS = "docgen-embed.css"


def _work(app: Sphinx) -> Path:
    """Where the extension keeps its files: the cache of fetched sites, and the static
    folder Sphinx copies into `_static/` (images and the stylesheet)."""
    configured = app.config.docgen_cache
    return Path(app.confdir, configured) if configured else Path(app.doctreedir, "docgen")


def _static(app: Sphinx) -> Path:
    return _work(app) / "static"


class _FragmentDirective(SphinxDirective):
    def show(self, fragment: Fragment) -> list[nodes.Node]:
        folder = _static(self.env.app) / STATIC / "images"
        folder.mkdir(parents=True, exist_ok=True)
        for path, data in fragment.images.items():
            file = folder / image_name(path)
            if not file.is_file():
                file.write_bytes(data)
        builder = self.env.app.builder
        page = builder.get_target_uri(self.env.docname) if builder else ""
        images_at = relative_uri(page, f"_static/{STATIC}/images/")
        html = wrap_fragment(fragment, images_at if images_at.endswith("/") else images_at + "/")
        shown: list[nodes.Node] = [nodes.raw("", html, format="html")]
        if fragment.page_url:  # other builders (LaTeX, text) get the link back
            link = nodes.paragraph()
            link += nodes.Text(f"{fragment.title}: from ")
            link += nodes.reference("", fragment.page_title, refuri=fragment.page_url)
            link += nodes.Text(f" in {fragment.project} documentation")
            other = addnodes.only(expr="not html")
            other += link
            shown.append(other)
        return shown

    def problem(self, message: str) -> list[nodes.Node]:
        logger.warning(message, location=(self.env.docname, self.lineno), type="docgen")
        return []


class EmbedDirective(_FragmentDirective):
    """`.. docgen-embed:: TARGET`: a section or labelled cell of a docgen site."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        app = self.env.app
        reader = SiteReader(_work(app) / "sites")
        source_dir = Path(self.env.doc2path(self.env.docname)).parent
        try:
            fragment = load_fragment(
                self.arguments[0],
                dict(app.config.docgen_sites),
                reader,
                source_dir,
                Path(app.confdir),
            )
        except (DocgenError, UsageError) as e:
            return self.problem(f"docgen-embed: {e}")
        for note in reader.offline_note:
            logger.info(f"docgen-embed: {note}", location=(self.env.docname, self.lineno))
        if urlsplit(fragment.source).scheme:
            # Sphinx cannot see a remote site change: such a page is read again each build.
            _remote_docs(self.env).add(self.env.docname)
        else:  # a rebuilt local site makes Sphinx read the page again
            self.env.note_dependency(fragment.source)
        return self.show(fragment)


def _intersphinx_names(app: Sphinx) -> dict[str, str]:
    """Every Python object of the project's intersphinx inventories: name -> URL."""
    urls: dict[str, str] = {}
    inventory = getattr(app.env, "intersphinx_inventory", {}) or {}
    for objtype, items in inventory.items():
        if not objtype.startswith("py:"):
            continue
        for name, item in items.items():
            uri = getattr(item, "uri", None)
            if uri is None:  # Sphinx before 8.2: (project, version, uri, display name)
                uri = item[2]
            urls.setdefault(name, uri)
    return urls


class NotebookDirective(_FragmentDirective):
    """`.. docgen-notebook:: PATH`: a local notebook, executed and rendered by docgen."""

    required_arguments = 1
    option_spec = {"no-execute": directives.flag}

    def run(self) -> list[nodes.Node]:
        app = self.env.app
        _, absolute = self.env.relfn2path(self.arguments[0])
        path = Path(absolute)
        if not path.is_file():
            return self.problem(f"docgen-notebook: {path} does not exist")
        self.env.note_dependency(str(path))
        config = notebook_config(
            Path(app.confdir),
            nbs=path.parent,
            out=Path(app.outdir),
            execute="no-execute" not in self.options,
        )

        def warn(message: str) -> None:
            logger.warning(f"docgen-notebook: {message}", location=(self.env.docname, self.lineno))

        try:
            page = render_notebook(path, config, _intersphinx_names(app), warn)
        except (DocgenError, UsageError) as e:
            return self.problem(f"docgen-notebook: {e}")
        return self.show(page_fragment(page))


def _remote_docs(env: BuildEnvironment) -> set[str]:
    """The pages that embed from a URL (kept in the environment between builds)."""
    if not hasattr(env, "docgen_remote_docs"):
        env.docgen_remote_docs = set()  # type: ignore[attr-defined]
    return env.docgen_remote_docs  # type: ignore[attr-defined,no-any-return]


def _outdated(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    return sorted(_remote_docs(env) - removed)


def _purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    _remote_docs(env).discard(docname)


def _merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    _remote_docs(env).update(_remote_docs(other) & docnames)


def _add_static(app: Sphinx) -> None:
    static = _static(app)
    (static / STATIC).mkdir(parents=True, exist_ok=True)
    (static / STATIC / CSS).write_text(embed_stylesheet(), encoding="utf-8")
    app.config.html_static_path = [*app.config.html_static_path, str(static)]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("docgen_sites", {}, "env", types=(dict,))
    app.add_config_value("docgen_cache", "", "env", types=(str,))
    app.add_directive("docgen-embed", EmbedDirective)
    app.add_directive("docgen-notebook", NotebookDirective)
    app.add_css_file(f"{STATIC}/{CSS}")
    app.connect("builder-inited", _add_static)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
