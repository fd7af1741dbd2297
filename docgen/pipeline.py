"""`build()`: the whole pipeline, top to bottom. Each step is a function of plain data."""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, MutableSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docgen.api.index import SymbolIndex
from docgen.api.modidx import project_modidx
from docgen.api.nbdev_entries import with_export_entries
from docgen.api.pages import api_notebooks, documented_symbols
from docgen.api.resolve import Importer
from docgen.config import Config
from docgen.errors import BuildFailed, DocgenError, UsageError
from docgen.model import NotebookRun, Page, Source, Status
from docgen.notebooks.discover import discover_notebooks
from docgen.notebooks.nbdev import as_nbdev_test_runs
from docgen.notebooks.read import read_notebook
from docgen.session.keys import digest
from docgen.session.pages import render_pages
from docgen.session.session import BuildSession
from docgen.site.assemble import assemble_site
from docgen.site.openlinks import pinned_targets
from docgen.site.outdir import (
    check_cache_folder,
    check_output_folder,
    excluded_folders,
    remove_swap_leftovers,
    site_lock,
)
from docgen.site.provenance import page_provenance
from docgen.site.publish import site_symbol_files
from docgen.site.theme import check_user_templates
from docgen.site.timings import timing_files, timing_report, write_cached_timings
from docgen.site.write import write_site_atomically

if TYPE_CHECKING:
    import nbformat

    from docgen.execute.executor import Executor, Listener
    from docgen.execute.stage import Machine

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
    cached: int = 0
    seconds: float = 0.0
    rendered: list[str] = field(default_factory=list)  # URLs of the pages rendered, not reused


def read_notebooks(
    sources: list[Source],
    validated: MutableSet[str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> list[nbformat.NotebookNode]:
    """Every notebook, or a `BuildFailed` listing every one that cannot be read; `warn`
    hears of each one repaired on the way (see notebooks/read.py)."""
    notebooks, problems = [], []
    for source in sources:
        try:
            notebooks.append(read_notebook(source.path, validated, warn))
        except DocgenError as e:
            problems.append(str(e))
    if problems:
        raise BuildFailed(problems)
    return notebooks


def check_notebook_folder(config: Config) -> None:
    """A `UsageError` saying how to point docgen at the notebooks, when `nbs` is no folder."""
    nbs = config.as_written.get("nbs", config.nbs)
    if config.nbs.is_dir():
        return
    problem = "is a file, not a folder" if config.nbs.exists() else "does not exist"
    table = (
        f"[tool.docgen] of {config.config_file}"
        if config.config_file
        else "[tool.docgen] of pyproject.toml"
    )
    raise UsageError(
        f"notebook folder {nbs} {problem}; name the folder of your notebooks with --nbs, "
        f'or with `nbs = "..."` in {table}'
    )


def with_execution(page: Page, run: NotebookRun, config: Config) -> Page:
    """The page with where its outputs came from, and the execute stage's warnings."""
    provenance = page_provenance(run, config.run_line, config.run_line_packages)
    return dataclasses.replace(
        page, provenance=provenance, warnings=[*run.warnings, *page.warnings]
    )


def build(
    config: Config,
    log: Log = _stderr,
    progress: Listener | None = None,
    machine: Machine | None = None,
    wait: bool = True,
    session: BuildSession | None = None,
    write: Callable[[Path, dict[str, bytes]], None] = write_site_atomically,
    executor: Executor | None = None,
) -> BuildReport:
    """Execute the notebooks (or reuse the cache), render every page and swap the new site in.

    `progress` hears about each notebook (default: one line per notebook through `log`);
    `machine` replaces the detected GPUs and environment fingerprint. Raises `UsageError`
    before anything runs (or is written) when `out` may not be replaced (see outdir.py), or,
    with `wait=False`, when another build of the same site holds its lock. Raises `BuildFailed`
    (leaving any previous site untouched) when a notebook cannot be read or run, or, under
    `strict`, when there are warnings; `Interrupted` on Ctrl-C or SIGTERM.

    `session` keeps what the next build can reuse (see session/session.py); by default the
    one on disk beside the execution cache. Pass the same one to each build of a long-lived
    process; a new `BuildSession()` reuses nothing. `write` puts the site's files into `out`
    (a preview server writes only the files that changed). `executor` runs the notebooks the
    cache does not hold (default: the local pool).
    """
    check_output_folder(config)
    check_cache_folder(config)
    check_user_templates(config.templates)
    check_notebook_folder(config)  # before the lock, so a build that cannot run writes nothing
    with site_lock(config.out, wait=wait, log=log):
        remove_swap_leftovers(config.out)
        session = session if session is not None else BuildSession.beside_cache(config)
        return _build(config, log, progress, machine, session, write, executor)


def _build(
    config: Config,
    log: Log,
    progress: Listener | None,
    machine: Machine | None,
    session: BuildSession,
    write: Callable[[Path, dict[str, bytes]], None],
    executor: Executor | None = None,
) -> BuildReport:
    start = time.perf_counter()

    def warn(message: str) -> None:  # about the session only: the site is right regardless
        log(f"warning: {message}")

    sources = discover_notebooks(
        config.nbs,
        config.nav,
        exclude=excluded_folders(config),
        private=config.nbdev,
        home=config.home,
    )
    if not sources:
        raise DocgenError(f"no notebooks found in {config.nbs}")
    read_warnings: list[str] = []
    notebooks = read_notebooks(sources, session.validated(warn), read_warnings.append)
    session.keep_validated(warn)
    if config.nbdev:
        notebooks = [as_nbdev_test_runs(nb, config.skip_flags) for nb in notebooks]
    runs: list[NotebookRun] = []
    machine_warnings: tuple[str, ...] = ()
    if config.execute:
        # Imported here: a build that does not execute needs neither nbclient nor nbformat.
        from docgen.execute.progress import PlainProgress
        from docgen.execute.stage import detect_machine, execute_stage

        machine = machine or detect_machine(config)
        machine_warnings = machine.warnings
        runs = execute_stage(
            sources,
            notebooks,
            config,
            machine,
            progress or PlainProgress(log, config.root),
            executor,
        )
        notebooks = [run.nb for run in runs]
    execute_seconds = time.perf_counter() - start
    if config.nbdev and config.packages:
        notebooks = [
            with_export_entries(nb, config.packages[0], read_warnings.append, str(s.path))
            for s, nb in zip(sources, notebooks, strict=True)
        ]

    # Two passes: first what every page defines, then each page rendered with all of it.
    index_warnings: list[str] = []
    api, version, api_key = session.project_api(config, warn)
    external, external_key = session.external_index(config, index_warnings.append, warn)
    pairs = list(zip(sources, notebooks, strict=True))
    documented = documented_symbols(pairs)
    own, own_short = project_modidx(config, pairs, documented)
    index = SymbolIndex.build(api, external, own, own_short).place(documented)
    index_key = digest([api_key, external_key, documented, own])
    all_pages: list[tuple[Source, Any]] = list(zip(sources, notebooks, strict=True))
    taken = {s.url for s in sources}
    all_pages += session.api_pages(
        lambda: api_notebooks(index, documented, config.nbs, taken),
        digest([index_key, str(config.nbs), sorted(taken)]),
        warn,
    )
    importer = Importer()  # one per build: a module that fails to import is told once
    pages, rendered = render_pages(all_pages, config, index, index_key, session, warn, importer)
    errors = [e for page in pages for e in page.errors]
    if errors:  # an image from outside the project, ...: never a site that publishes it
        raise BuildFailed(errors)
    if runs:
        pages[: len(runs)] = [
            with_execution(page, run, config)
            for page, run in zip(pages[: len(runs)], runs, strict=True)
        ]
    warnings = [
        *config.deprecations,
        *read_warnings,
        *machine_warnings,
        *api.warnings,
        *index_warnings,
        *(w for page in pages for w in page.warnings),
    ]
    if warnings and config.strict:
        raise BuildFailed([f"warning (--strict makes it an error): {w}" for w in warnings])

    # `_embed/` holds each page's body in fragments: a prose edit changes it.
    listed = [
        [p.url, p.title, [[h.anchor, h.text] for h in p.headings], digest(p.body), sorted(p.images)]
        for p in pages
    ]
    generated = session.symbol_files(
        digest([index_key, config.title, version, config.site_url, listed]),
        lambda: site_symbol_files(pages, index, config, version),
    )
    report = None
    if runs:
        from docgen.execute.stage import worker_count

        report = timing_report(runs, worker_count(config), config.slow_cell, execute_seconds)
        if config.timings == "publish":
            generated.update(timing_files(report, pages, config))
    # A notebook not pinned to a commit is told, not counted: the site is right either way.
    targets = pinned_targets(config, [page.source for page in pages], warn)
    files = assemble_site(
        pages,
        config,
        generated,
        session.notebook_file,
        session.sections_of,
        session.wrapped_page,
        session.search_memo,
        session.template_environment(config.templates),
        targets,
        lambda cleans: session.script_files(cleans, warn),
    )
    write(config.out, files)
    # Only a build that executes keeps a report in the cache folder: one that only renders
    # leaves the project as it was.
    if report is not None and config.execute and config.timings != "publish":
        write_cached_timings(report, pages, config)
    statuses = [run.status for run in runs]
    return BuildReport(
        pages=pages,
        out=config.out,
        warnings=warnings,
        executed=statuses.count(Status.RAN),
        cached=statuses.count(Status.CACHED),
        seconds=time.perf_counter() - start,
        rendered=rendered,
    )
