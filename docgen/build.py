"""`build()`: the whole pipeline, top to bottom. Each step is a function of plain data."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .config import Config
from .errors import BuildFailed, DocgenError
from .notebooks import Source, discover_notebooks, read_notebook
from .render import MarkdownRenderer
from .site import Page, assemble_site, render_page, write_site_atomically

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class BuildReport:
    """What a successful build did."""

    pages: list[Page]
    out: Path
    warnings: list[str] = field(default_factory=list)
    executed: int = 0
    seconds: float = 0.0


def read_notebooks(sources: list[Source]) -> list[nbformat.NotebookNode]:
    """Every notebook, or a `BuildFailed` listing every one that cannot be read."""
    notebooks, problems = [], []
    for source in sources:
        try:
            notebooks.append(read_notebook(source.path))
        except DocgenError as e:
            problems.append(str(e))
    if problems:
        raise BuildFailed(problems)
    return notebooks


def run_notebooks(
    sources: list[Source], notebooks: list[nbformat.NotebookNode], config: Config, log: Log
) -> list[nbformat.NotebookNode]:
    """Executed copies of the notebooks, or a `BuildFailed` listing every failure."""
    from .execute import ExecutionResult, execute_notebooks  # Jupyter's stack loads only to run


    def done(path: Path, result: ExecutionResult) -> None:
        status = "failed" if result.error else "ran"
        log(f"{status} {path.relative_to(config.root) if path.is_relative_to(config.root) else path}"
            f" in {result.duration:.1f} s")

    results = execute_notebooks(
        [(nb, s.path) for nb, s in zip(notebooks, sources)],
        timeout=config.timeout,
        workers=1,
        kernel_name=config.kernel_name,
        on_done=done,
    )
    problems = [r.error for r in results if r.error]
    if problems:
        raise BuildFailed(problems)
    return [r.nb for r in results if r.nb is not None]


def build(config: Config, log: Log = _stderr) -> BuildReport:
    """Execute the notebooks, render every page and swap the new site in.

    Raises `BuildFailed` (leaving any previous site untouched) when a notebook cannot be
    read or run, or, under `strict`, when there are warnings.
    """
    start = time.perf_counter()
    sources = discover_notebooks(config.nbs, config.nav)
    if not sources:
        raise DocgenError(f"no notebooks found in {config.nbs}")
    notebooks = read_notebooks(sources)
    if config.execute:
        notebooks = run_notebooks(sources, notebooks, config, log)

    md = MarkdownRenderer()
    page_links = {s.rel.as_posix(): s.url for s in sources}
    pages = [render_page(s, nb, md, config, page_links) for s, nb in zip(sources, notebooks)]
    warnings = [w for page in pages for w in page.warnings]
    if warnings and config.strict:
        raise BuildFailed([f"warning (--strict makes it an error): {w}" for w in warnings])

    write_site_atomically(config.out, assemble_site(pages, config))
    return BuildReport(
        pages=pages,
        out=config.out,
        warnings=warnings,
        executed=len(sources) if config.execute else 0,
        seconds=time.perf_counter() - start,
    )
