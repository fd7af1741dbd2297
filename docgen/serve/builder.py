"""The rebuild loop of `docgen serve`: build, wait for an edit, build again.

Every build gets the same in-memory `BuildSession` and the config read again (an edit to it
applies at once; a broken one is a failure like any other). A failure of any kind is told on
the terminal and on the open pages in the words `docgen build` uses, and the last good site
stays served; only Ctrl-C (or SIGTERM, SIGHUP) ends the loop.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import watchfiles

from docgen.config import CACHE_DIR, Config, load_config
from docgen.errors import BuildFailed, DocgenError, UsageError
from docgen.serve.live import LiveSite
from docgen.serve.sitefiles import SiteWriter
from docgen.serve.watch import file_signature, is_edit, watched_folders
from docgen.session.keys import file_digest
from docgen.session.session import BuildSession

if TYPE_CHECKING:
    from docgen.execute.executor import Executor
    from docgen.execute.plan import Machine
    from docgen.serve.kernels import KeptZygotes

Log = Callable[[str], None]
_UNSEEN = object()


def failure_text(e: BaseException) -> str:
    """A failure in the words the CLI prints for it (see commands/main.py)."""
    from docgen.commands.main import os_problem

    if isinstance(e, BuildFailed):
        count = len(e.problems)
        head = f"The build failed: {count} problem{'s' if count > 1 else ''}."
        return "\n\n".join([head, *e.problems])
    if isinstance(e, (DocgenError, UsageError)):
        return f"error: {e}"
    if isinstance(e, OSError):
        return f"error: {os_problem(e)}"
    return f"docgen: internal error: {type(e).__name__}: {e}"


def forget_modules(packages: list[str]) -> None:
    """Remove `packages` and their submodules from `sys.modules`, so the next import reads
    their files again; never docgen's own (this process runs on them)."""
    mine = __name__.split(".")[0]
    roots = [p for p in packages if p.split(".")[0] != mine]
    for name in list(sys.modules):
        if any(name == root or name.startswith(root + ".") for root in roots):
            del sys.modules[name]
    if roots:
        importlib.invalidate_caches()


def check_pages(config: Config) -> None:
    """A `UsageError` at start for a PAGE (`config.only`) naming no notebook."""
    if not config.only or not config.nbs.is_dir():
        return
    from docgen.execute.plan import forced_notebooks
    from docgen.notebooks.discover import discover_notebooks
    from docgen.site.outdir import excluded_folders

    sources = discover_notebooks(
        config.nbs, config.nav, exclude=excluded_folders(config), private=config.nbdev
    )
    forced_notebooks(config.only, sources, "PAGE")


class Builder:
    """Builds the site into `overrides['out']` again whenever an author's edit lands."""

    def __init__(self, config_file: Path | None, overrides: dict[str, Any], log: Log) -> None:
        self.config_file = config_file
        self.overrides = overrides
        self.log = log
        self.session = BuildSession()
        self.write = SiteWriter()
        self._contents: dict[str, str | None] = {}  # changed file -> its digest then
        self.config = self._load()  # a broken config at start: the command cannot run
        check_pages(self.config)
        self.live = LiveSite(self.config.out)
        self._has_gpu: bool | None = None
        self._sources: dict[str, str] | None = None  # package -> digest of its source
        self.zygotes: KeptZygotes | None = None  # warm between builds: serve/kernels.py

    def _load(self, force: list[str] | None = None) -> Config:
        return load_config(self.config_file, overrides={**self.overrides, "force": force})

    def has_gpu(self) -> bool:
        if self._has_gpu is None:  # asked once: nvidia-smi takes a while
            from docgen.execute.gpus import detect_gpus

            self._has_gpu = bool(detect_gpus(os.environ))
        return self._has_gpu

    def build(self, force: list[str] | None = None) -> None:
        """One build (running the notebooks of the pages `force` names, whatever the cache
        says); its failure is recorded, never raised (Ctrl-C is)."""
        from docgen.execute.progress import PlainProgress
        from docgen.pipeline import build

        self.live.building()
        try:
            self.config = self._load(force)
            self._forget_edited_packages()
            progress = PlainProgress(self.log, self.config.root)
            machine, executor = self._executor()
            report = build(
                self.config,
                log=self.log,
                progress=progress,
                machine=machine,
                session=self.session,
                write=self.write,
                executor=executor,
            )
        except KeyboardInterrupt:
            raise
        except Exception as e:  # a broken notebook or config must not stop the server
            message = failure_text(e)
            self.log(message)
            self.live.failed(message)
            return
        runnable = set()
        if self.config.execute and self.has_gpu():  # GPU notebooks run on request only
            from docgen.execute.plan import needs_gpu

            runnable = {
                page.url
                for page in report.pages
                if not page.source.generated and needs_gpu(page.notebook)
            }
        changed = self.live.built(
            [p for p in self.write.changed if p.endswith(".html")], runnable
        )
        for warning in report.warnings:
            self.log(f"warning: {warning}")
        self.log(
            f"built {len(report.pages)} pages in {report.seconds:.2f} s: rendered "
            f"{len(report.rendered)}, executed {report.executed}; {len(changed)} changed"
        )

    def _executor(self) -> tuple[Machine | None, Executor | None]:
        """The local pool `docgen build` would use, its kernels forked from kept zygotes."""
        if not self.config.execute:
            return None, None
        from docgen.execute.stage import detect_machine, local_pool
        from docgen.serve.kernels import KeptZygotes

        if self.zygotes is None:
            self.zygotes = KeptZygotes()
        machine = detect_machine(self.config)
        return machine, local_pool(self.config, machine, self.zygotes)

    def close(self) -> None:
        """Stop the kept zygotes (and any kernel of theirs)."""
        if self.zygotes is not None:
            self.zygotes.close()

    def _forget_edited_packages(self) -> None:
        """Drop the documented packages' modules from this process when their source
        changed: the API pages and the names in pages are read from them, and importing
        them again would otherwise find the modules imported before the edit."""
        from docgen.execute.cache import source_digest

        sources = {p: source_digest(p) for p in self.config.packages}
        if self._sources is not None:
            edited = [p for p in sources if sources[p] != self._sources.get(p)]
            forget_modules(edited)
        self._sources = sources

    def ignored(self) -> list[Path]:
        """Folders whose changes docgen makes itself, never edits."""
        folders = [self.config.out.parent, self.config.root / CACHE_DIR]
        try:  # the folder `docgen build` writes, which a build of the same project may fill
            others = {k: v for k, v in self.overrides.items() if k != "out"}
            folders.append(load_config(self.config_file, overrides=others).out)
        except (UsageError, DocgenError, OSError):
            pass  # a broken config: the build says so
        return folders

    def run(self, debounce_ms: int, step_ms: int, config_poll_ms: int) -> None:
        """Build, then rebuild after each burst of edits, until interrupted.

        One watcher lives across builds, so a save made while a build runs is seen when it
        ends; it is made again only when the config moves the watched folders. It starts
        before the first build (its first quiet period, `config_poll_ms`, is waited out).
        A page's run button (see `LiveSite.request_run`) is heard at the next quiet period."""
        pending = True
        while True:
            folders = watched_folders(self.config)
            changes = self._changes(folders, debounce_ms, step_ms, config_poll_ms)
            next(changes)  # the watcher runs from here on
            while True:
                runs = self.live.take_run_requests()
                if pending or runs:
                    self.build(runs)
                if watched_folders(self.config) != folders:
                    break  # the config moved the notebooks: watch the new folders
                pending = next(changes)

    def _changes(
        self, folders: list[Path], debounce_ms: int, step_ms: int, config_poll_ms: int
    ) -> Iterator[bool]:
        """True for each burst of edits (a config edit included), False on a quiet period."""
        ignored = self.ignored()
        config_file = self.config.config_file
        signature = file_signature(config_file)
        if not folders:  # no notebooks folder: only a config edit can bring one
            while True:
                time.sleep(config_poll_ms / 1000)
                now = file_signature(config_file)
                yield now != signature
                signature = now

        def edit(change: watchfiles.Change, path: str) -> bool:
            return is_edit(Path(path), folders, ignored)

        for changes in watchfiles.watch(
            *folders,
            watch_filter=edit,
            debounce=debounce_ms,
            step=step_ms,
            rust_timeout=config_poll_ms,
            yield_on_timeout=True,
        ):
            now = file_signature(config_file)
            yield bool(self._rewritten(changes)) or now != signature
            signature = now

    def _rewritten(self, changes: set[tuple[watchfiles.Change, str]]) -> set[str]:
        """The changed files whose content differs from when they last changed.

        A file written again with the same bytes is no edit: a notebook that writes a file
        into its folder and fails (so the cache does not keep it) would otherwise rebuild
        for ever, each run rewriting the file."""
        different = set()
        for _, path in changes:
            content = file_digest(Path(path))  # None: deleted
            if self._contents.get(path, _UNSEEN) != content:
                self._contents[path] = content
                different.add(path)
        return different
