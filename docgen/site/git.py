"""What the project's git checkout says about its notebooks, read with the `git` command.

Colab and Binder open a notebook from the repository, so its links name a ref and a path
from the repository's root. A notebook committed and unmodified is pinned to the commit
checked out; one that is not (new, edited, ignored) can only be linked on a branch. No
git, or a project outside a repository, gives None: the links then use `branch`.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


def _git(args: list[str], cwd: Path) -> bytes | None:
    """`git ARGS` run in `cwd`: its output, or None when git is missing or fails."""
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


@dataclass(frozen=True)
class GitCheckout:
    """A repository's working tree: its root, the commit checked out, and which files are
    committed in that commit unmodified."""

    root: Path
    head: str
    committed: frozenset[str]  # paths from the root in HEAD's tree
    changed: frozenset[str]  # paths `git status --porcelain` lists: staged, edited, new

    def path_of(self, file: Path) -> str | None:
        """`file`'s path from the repository's root, or None when it is outside it."""
        try:
            return file.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return None

    def pinned(self, path: str) -> bool:
        """Whether the file at `path` is in the commit checked out exactly as on disk."""
        return path in self.committed and path not in self.changed


def git_checkout(folder: Path, within: Path | None = None) -> GitCheckout | None:
    """The checkout `folder` is in, or None (no git, not a repository, no commit yet).
    With `within`, only the files under that folder are looked at (a large repository's
    status takes long)."""
    top = _git(["rev-parse", "--show-toplevel"], folder)
    head = _git(["rev-parse", "--verify", "-q", "HEAD"], folder)
    if top is None or head is None:
        return None
    root = Path(top.decode().strip()).resolve()
    spec: list[str] = []
    if within is not None:
        try:
            spec = ["--", within.resolve().relative_to(root).as_posix() or "."]
        except ValueError:
            spec = []
    tree = _git(["ls-tree", "-r", "-z", "--full-tree", "--name-only", "HEAD", *spec], root)
    status = _git(["status", "--porcelain", "-z", "--untracked-files=all", *spec], root)
    if tree is None or status is None:
        return None
    return GitCheckout(
        root=root,
        head=head.decode().strip(),
        committed=frozenset(_z_split(tree)),
        changed=frozenset(_status_paths(status)),
    )


def _z_split(data: bytes) -> list[str]:
    return [p.decode("utf-8", "surrogateescape") for p in data.split(b"\0") if p]


def _status_paths(data: bytes) -> list[str]:
    """The paths of `git status --porcelain -z`: 'XY path', a rename followed by its source."""
    entries = _z_split(data)
    paths = []
    skip = False
    for entry in entries:
        if skip:  # the source path of a rename or copy: changed too
            paths.append(entry)
            skip = False
            continue
        paths.append(entry[3:])
        skip = entry[:1] in ("R", "C")
    return paths


def tree_paths(root: Path, ref: str) -> frozenset[str] | None:
    """Every file path in the tree of `ref` (a commit, tag or branch; a branch missing
    locally is looked for on `origin`), or None when the repository has no such ref."""
    for name in (ref, f"origin/{ref}"):
        if name.startswith("-"):
            return None
        tree = _git(["ls-tree", "-r", "-z", "--full-tree", "--name-only", name], root)
        if tree is not None:
            return frozenset(_z_split(tree))
    return None
