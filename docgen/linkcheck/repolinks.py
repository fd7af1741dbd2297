"""Colab and Binder links checked offline: the file they open must be in the project's git
repository, in the tree at the link's ref (see site/openlinks.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from docgen.site.git import git_checkout, tree_paths
from docgen.site.openlinks import github_repo, parse_repo_link

Verdict = tuple[str, str, str]  # status, kind, info (as offline.py's)


class RepoLinks:
    """Checks the links into one GitHub repository against its local clone at `root`."""

    def __init__(self, owner: str, name: str, root: Path) -> None:
        self.owner, self.name, self.root = owner.lower(), name.lower(), root
        self._trees: dict[str, frozenset[str] | None] = {}

    def _tree(self, ref: str) -> frozenset[str] | None:
        if ref not in self._trees:
            self._trees[ref] = tree_paths(self.root, ref)
        return self._trees[ref]

    def __call__(self, url: str) -> Verdict | None:
        """The verdict on a Colab or Binder link into this repository; None for any
        other link."""
        link = parse_repo_link(url)
        if link is None or (link.owner.lower(), link.name.lower()) != (self.owner, self.name):
            return None
        readings = [(ref, path, self._tree(ref)) for ref, path in link.splits]
        for _, path, tree in readings:
            if tree is not None and path in tree:
                return "working", "repo-file", ""
        known = [(ref, path) for ref, path, tree in readings if tree is not None]
        if known:
            ref, path = known[0]
            return (
                "broken",
                "missing-repo-file",
                f"{path} is not in the git tree at '{ref}' of {self.root}, so this link opens "
                "nothing; commit the notebook (and push it), or fix `ref` in [tool.docgen.open]",
            )
        ref = link.splits[0][0]
        return (
            "broken",
            "missing-repo-ref",
            f"the repository at {self.root} has no ref '{ref}' (nor origin/{ref}); fetch it, "
            "or set `ref` in [tool.docgen.open] to a commit, tag or branch that has the notebook",
        )


def project_repo_links(repo: str, project: Path, warn: Callable[[str], None]) -> RepoLinks | None:
    """The checker of links into `repo` (a GitHub URL), from the clone `project` is in;
    None (with a warning) when there is no clone to check them against."""
    found = github_repo(repo)
    if found is None:
        return None
    checkout = git_checkout(project)
    if checkout is None:
        warn(
            f"{project} is not in a git repository (or git is not installed), so the Colab "
            f"and Binder links into {repo} are not checked"
        )
        return None
    return RepoLinks(*found, checkout.root)
