"""One executed notebook to a `Page`: the HTML of its visible cells, its headings and images."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from docgen.config import Config
from docgen.model import Heading, Page, Source, _title_heading
from docgen.notebooks.cells import alt_text, cell_label, cell_options, parse_directives
from docgen.notebooks.discover import strip_prefix
from docgen.notebooks.nbdev import split_title_cell
from docgen.render.ansi import valid_strings
from docgen.render.code import Highlight, code_lexer, highlight_code, render_code_input
from docgen.render.context import PageContext, Resolver
from docgen.render.frontend import widget_models
from docgen.render.markdown import MarkdownRenderer
from docgen.render.outputs import render_outputs
from docgen.render.remote import remote_warnings

if TYPE_CHECKING:
    import nbformat


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
    highlight: Highlight = highlight_code,
) -> Page:
    """One executed notebook as a page body (HTML of its visible cells).

    `resolve` links backticked names, `link_code` names in code cells (see links.py), and
    `mime_renderers` render output types the build knows better (show_doc's, apidocs.py);
    `highlight` highlights code (a build session passes one that remembers).
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
        widget_models=widget_models(nb.metadata),
    )
    lexer = code_lexer(nb.metadata)

    def code_link(name: str) -> str | None:
        url = link_code(name) if link_code is not None else None
        return ctx.link_href(url) if url else None

    def loads_nothing(fragment: str) -> str:
        ctx.warnings.extend(remote_warnings(fragment, ctx.where(), config.allow_remote))
        return fragment

    cells = []
    labels: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        ctx.cell_index = index
        options = cell_options(cell)
        if not options.show_cell:
            continue
        label = cell_label(cell)
        # A labelled cell is an anchor of its page (and what other sites embed it by).
        cell_id = f' id="{html.escape(label)}"' if label and label not in labels else ""
        if label in labels:
            ctx.warnings.append(
                f"{source.path}: cell {index + 1} repeats the tag 'label:{label}' of cell "
                f"{labels[label] + 1}; the first keeps the name: rename the other"
            )
        elif label:
            labels[label] = index
        if cell.cell_type == "markdown":
            # nbdev 3 puts directives on markdown cells too (`#| export`): never a heading.
            _, text = parse_directives(cell.source)
            if not text.strip():
                continue
            ctx.attachments = cell.get("attachments", {})
            title_cell = split_title_cell(text) if config.nbdev and not ctx.headings else None
            if title_cell is not None:  # the description is the page's subtitle
                title, description, rest = title_cell
                body = md.render(title, ctx)
                body += f'<div class="page-description">{md.render(description, ctx)}</div>'
                body = loads_nothing(body + (md.render(rest, ctx) if rest.strip() else ""))
            else:
                body = loads_nothing(md.render(text, ctx))
            cells.append(f'<div class="cell markdown-cell"{cell_id}>{body}</div>')
        elif cell.cell_type == "code":
            code = (
                render_code_input(
                    cell.source, lexer, options, code_link if link_code else None, highlight
                )
                if options.show_input
                else ""
            )
            out = ""
            ctx.cell_alt = alt_text(cell)
            if options.show_output and cell.get("outputs"):
                out = loads_nothing(render_outputs(cell.outputs, ctx, md, config.max_output_chars))
                if out and options.collapse_output:
                    out = f"<details><summary>Show output</summary>{out}</details>"
            if code or out:
                outputs = f'<div class="cell-outputs">{out}</div>' if out else ""
                cells.append(f'<div class="cell code-cell"{cell_id}>{code}{outputs}</div>')
        elif cell.cell_type == "raw":
            mime = cell.get("metadata", {}).get("format", "")
            if mime in ("text/html", "html"):
                cells.append(
                    f'<div class="cell raw-cell"{cell_id}>{loads_nothing(cell.source)}</div>'
                )
    anchors = {h.anchor for h in ctx.headings}
    ctx.warnings.extend(
        f"{source.path}: cell {index + 1}'s tag 'label:{label}' is also a heading's anchor; "
        "rename the label, as links and embeds by that name find the heading"
        for label, index in labels.items()
        if label in anchors
    )
    return Page(
        source=source,
        title=page_title(ctx.headings, source),
        body="\n".join(cells),
        headings=ctx.headings,
        images=ctx.images,
        notebook=nb,
        warnings=ctx.warnings,
        errors=ctx.errors,
        read_files=ctx.read_files,
    )
