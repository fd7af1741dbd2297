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
