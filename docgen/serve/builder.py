"""The rebuild loop of `docgen serve`: build, wait for an edit, build again.

Every build gets the same in-memory `BuildSession` and the config read again (an edit to it
applies at once; a broken one is a failure like any other). A failure of any kind is told on
the terminal and on the open pages in the words `docgen build` uses, and the last good site
stays served; only Ctrl-C (or SIGTERM, SIGHUP) ends the loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import watchfiles

from docgen.config import CACHE_DIR, Config, load_config
from docgen.errors import BuildFailed, DocgenError, UsageError
from docgen.serve.live import LiveSite
from docgen.serve.sitefiles import SiteWriter
from docgen.serve.watch import file_signature, is_edit, watched_folders
from docgen.session.keys import file_digest
from docgen.session.session import BuildSession

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
        self.live = LiveSite(self.config.out)

    def _load(self) -> Config:
        return load_config(self.config_file, overrides=self.overrides)

    def build(self) -> None:
        """One build; its failure is recorded, never raised (Ctrl-C is)."""
        from docgen.execute.progress import PlainProgress
        from docgen.pipeline import build

        self.live.building()
        try:
            self.config = self._load()
            progress = PlainProgress(self.log, self.config.root)
            report = build(
                self.config,
                log=self.log,
                progress=progress,
                session=self.session,
                write=self.write,
            )
        except KeyboardInterrupt:
            raise
        except Exception as e:  # a broken notebook or config must not stop the server
            message = failure_text(e)
            self.log(message)
            self.live.failed(message)
            return
        changed = self.live.built([p for p in self.write.changed if p.endswith(".html")])
        for warning in report.warnings:
            self.log(f"warning: {warning}")
        self.log(
            f"built {len(report.pages)} pages in {report.seconds:.2f} s: rendered "
            f"{len(report.rendered)}, executed {report.executed}; {len(changed)} changed"
        )

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
        before the first build (its first quiet period, `config_poll_ms`, is waited out)."""
        pending = True
        while True:
            folders = watched_folders(self.config)
            changes = self._changes(folders, debounce_ms, step_ms, config_poll_ms)
            next(changes)  # the watcher runs from here on
            while True:
                if pending:
                    self.build()
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
