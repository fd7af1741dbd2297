"""The zygotes of `docgen serve`, kept from one rebuild to the next.

A rebuild after a code edit runs one notebook; starting its zygote (importing ipykernel and
the preload modules, launcher.py) would cost more than most notebooks take to run. So the
server keeps the zygotes warm between builds, and each re-execution forks a fresh kernel
from one. A zygote is replaced, never reused, when what it imported may be out of date:
- `preload` or `fork_kernels` changed in the config;
- a notebook's first cell imports a module it has not imported (the new zygote imports
  those of every notebook run so far);
- a file one of its modules was read from changed since it started: a project's package
  edited while serving must not reach the notebooks as it was before, nor a package
  upgraded in the environment;
- it died or could not start (the next build tries again).
Builds run in the main thread, which starts the zygotes: a zygote dies with the thread that
started it (PR_SET_PDEATHSIG), so a pool thread would not do.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence

from docgen.execute.launcher import Zygotes

# File times come from a coarser clock than time.time(): an edit made as the zygote
# starts is taken as made after, which costs at most one needless restart.
CLOCK_SLACK_S = 0.05


class KeptZygotes:
    """Hands the pool of each build the zygotes of the last, or new ones when those are stale."""

    def __init__(self) -> None:
        self.current: Zygotes | None = None
        self.since = 0.0  # when the current ones were made: a file changed after is newer
        self.first_cells: list[str] = []  # every first-cell import asked for so far

    def __call__(
        self,
        preload: Sequence[str],
        first_cells: Sequence[str],
        warn: Callable[[str], None],
        enabled: bool,
    ) -> Zygotes:
        new = [m for m in first_cells if m not in self.first_cells]
        self.first_cells += new
        current = self.current
        if current is not None and (
            new
            or current.preload != list(preload)
            or current.enabled != enabled
            or stale(current, self.since)
        ):
            self.close()
            current = None
        if current is None:
            self.since = time.time() - CLOCK_SLACK_S
            current = self.current = Zygotes(preload, self.first_cells, warn, enabled)
        current.warn = warn  # this build's listener hears why kernels start without one
        current.warned = False
        return current

    def close(self) -> None:
        """Close the zygotes, killing any kernel of theirs still running."""
        if self.current is not None:
            self.current.close()
            self.current = None


def stale(zygotes: Zygotes, since: float) -> bool:
    """Whether a zygote of `zygotes` failed, died, or imported a file changed after `since`."""
    for started in zygotes.started.values():
        if not started.done():
            return True
        zygote = started.result()
        if zygote is None or zygote.dead or zygote.process.poll() is not None:
            return True
        for file in (zygote.ready or {}).get("files", []):
            try:
                if os.stat(file).st_ctime > since:
                    return True
            except OSError:  # removed, or moved away
                return True
    return False
