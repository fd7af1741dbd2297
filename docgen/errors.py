"""The two kinds of failure docgen reports, matching the CLI's exit codes."""

from __future__ import annotations

import signal

# The signals that stop a build the way Ctrl-C does: kernels and what they started end,
# and the previous site stays unless the swap had already happened.
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class DocgenError(Exception):
    """Something is wrong with the docs (exit code 1): a bad notebook, a failed cell."""

    exit_code = 1


class UsageError(Exception):
    """The command itself cannot run (exit code 2): a bad option, an unreadable config."""

    exit_code = 2


class BuildFailed(DocgenError):
    """One or more problems, each a readable block, found while building."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n\n".join(problems))


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, SIGTERM or SIGHUP stopped the build after every kernel was shut down.

    `done` says what had already happened, when the signal came during a step that cannot
    be undone (the swap of the new site); empty means the previous site is unchanged.
    """

    def __init__(self, signum: int, done: str = ""):
        self.signum = signum
        self.done = done
        super().__init__(f"interrupted by signal {signum}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum
