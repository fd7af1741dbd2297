"""One notebook rendered for another site generator: executed through docgen's executor and
cache, its names linked through the inventories the host gives, as a fragment."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from docgen.api.index import SymbolIndex
from docgen.api.introspect import ProjectApi
from docgen.api.pages import render_linked_page
from docgen.config import Config
from docgen.embed.fetch import Fragment
from docgen.errors import BuildFailed
from docgen.model import Page, Source
from docgen.notebooks.read import read_notebook
from docgen.render.markdown import MarkdownRenderer

Log = Callable[[str], None]


def notebook_source(path: Path) -> Source:
    """The notebook as the only page of a site: `<stem>.html` at the root."""
    return Source(path=path, rel=PurePosixPath(path.name), url=f"{path.stem}.html")


def render_notebook(path: Path, config: Config, external: dict[str, str], warn: Log) -> Page:
    """The notebook at `path` executed (or taken from the cache under `config.root`) and
    rendered, with backticked names linked through `external` (name -> absolute URL).
    Raises `DocgenError` when it cannot be read or a cell fails; `warn` hears the rest."""
    source = notebook_source(path.resolve())
    nb = read_notebook(source.path, warn=warn)
    if config.execute:
        # Imported here: rendering stored outputs needs neither nbclient nor a kernel.
        from docgen.execute.stage import detect_machine, execute_stage

        machine = detect_machine(config)
        for message in machine.warnings:
            warn(message)
        nb = execute_stage([source], [nb], config, machine)[0].nb
    index = SymbolIndex.build(ProjectApi(packages=[], symbols={}, aliases={}), external)
    page = render_linked_page(
        source, nb, MarkdownRenderer(), config, {source.rel.as_posix(): source.url}, index
    )
    if page.errors:
        raise BuildFailed(page.errors)
    for message in page.warnings:
        warn(message)
    return page


def page_fragment(page: Page, project: str = "") -> Fragment:
    """A rendered page as a fragment of its own (no site to link back to). The page is at
    the root of its one-page site, so its URLs are already relative to that root, and its
    links to its own headings (`#x`) stay within the host page."""
    return Fragment(
        html=page.body,
        title=page.title,
        page_title=page.title,
        page_url="",
        project=project,
        version="",
        site_base="",
        images=dict(page.images),
    )


def notebook_config(root: Path, **options: object) -> Config:
    """The settings to render one notebook with, its execution cache under `root`."""
    return dataclasses.replace(Config(root=root), **options)  # type: ignore[arg-type]
