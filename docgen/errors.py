"""The two kinds of failure docgen reports, matching the CLI's exit codes."""

from __future__ import annotations


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
    """Ctrl-C, SIGTERM or SIGHUP stopped the build after every kernel was shut down."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"interrupted by signal {signum}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum
