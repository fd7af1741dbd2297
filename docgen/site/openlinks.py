"""Colab and Binder links: the source notebook in the repository, at a pinned ref.

The ref is `[tool.docgen.open] ref` when set; otherwise the commit checked out, for a
notebook committed in it unmodified, else `branch` (with a warning naming the notebook:
a branch moves, so the link may later open another version). The path is the notebook's
path from the repository's root, so notebooks in subfolders and docs that are not at the
root are right. `docgen check` reads these links back (`parse_repo_link`) and looks for the
path in the tree at the ref.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlsplit

from docgen.config import Config
from docgen.model import Source
from docgen.site.git import GitCheckout, git_checkout

_GITHUB = re.compile(r"https?://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?$")
COLAB = "https://colab.research.google.com/github/"
BINDER = "https://mybinder.org/v2/gh/"


def github_repo(repo: str) -> tuple[str, str] | None:
    """(owner, name) of a GitHub repository URL; None for any other host."""
    m = _GITHUB.match(repo)
    return (m.group(1), m.group(2)) if m else None


def colab_url(repo: str, ref: str, path: str) -> str:
    found = github_repo(repo)
    if not found:
        return ""
    owner, name = found
    return f"{COLAB}{owner}/{name}/blob/{quote(ref, safe='/')}/{quote(path, safe='/')}"


def binder_url(repo: str, ref: str, path: str) -> str:
    found = github_repo(repo)
    if not found:
        return ""
    owner, name = found
    # Binder's ref is one path segment: a branch "release/1.0" is written release%2F1.0.
    return f"{BINDER}{owner}/{name}/{quote(ref, safe='')}?labpath={quote(path, safe='')}"


@dataclass(frozen=True)
class RepoLink:
    """What a Colab or Binder link opens: a file of a GitHub repository at a ref."""

    owner: str
    name: str
    # (ref, path) readings of the link: a Colab link to branch "release/1.0" cannot be told
    # from one to branch "release" and a folder "1.0", so each split is a reading.
    splits: tuple[tuple[str, str], ...]


def parse_repo_link(url: str) -> RepoLink | None:
    """The repository file a Colab or Binder link (as `colab_url` and `binder_url` write
    them) opens; None for any other URL."""
    if url.startswith(COLAB):
        parts = urlsplit(url).path.split("/")  # "", "github", owner, name, "blob", ref...
        if len(parts) < 7 or parts[4] != "blob":
            return None
        rest = [unquote(p) for p in parts[5:]]
        splits = tuple(("/".join(rest[:i]), "/".join(rest[i:])) for i in range(1, len(rest)))
        return RepoLink(parts[2], parts[3], splits)
    if url.startswith(BINDER):
        split = urlsplit(url)
        parts = split.path.split("/")  # "", "v2", "gh", owner, name, ref
        path = parse_qs(split.query).get("labpath", [""])[0]
        if len(parts) != 6 or not path:
            return None
        return RepoLink(parts[3], parts[4], ((unquote(parts[5]), path),))
    return None


@dataclass(frozen=True)
class OpenTarget:
    """Where a page's Colab and Binder links point."""

    ref: str
    path: str  # from the repository's root


def open_targets(
    config: Config,
    sources: Sequence[Source],
    checkout: GitCheckout | None,
    warn: Callable[[str], None],
) -> dict[str, OpenTarget]:
    """Each source notebook's target, by page URL; none without a GitHub `repo`, and
    none for generated API pages (they have no file in the repository)."""
    if not github_repo(config.repo):
        return {}
    targets = {}
    for source in sources:
        if source.generated:
            continue
        path = checkout.path_of(source.path) if checkout else None
        if path is None:  # no git: as the project lays the notebook out
            try:
                path = source.path.relative_to(config.root).as_posix()
            except ValueError:
                path = source.rel.as_posix()
        if config.open_ref:
            ref = config.open_ref
        elif checkout is not None and checkout.pinned(path):
            ref = checkout.head
        else:
            ref = config.branch
            if checkout is not None:
                state = "is not committed" if path not in checkout.committed else "has changes"
                warn(
                    f"{source.path} {state} in the checkout at {checkout.root}, so its Colab "
                    f"and Binder links point at the branch '{ref}' rather than commit "
                    f"{checkout.head[:12]}; commit it, or set `ref` in [tool.docgen.open]"
                )
        targets[source.url] = OpenTarget(ref, path)
    return targets


def pinned_targets(
    config: Config, sources: Sequence[Source], warn: Callable[[str], None]
) -> dict[str, OpenTarget]:
    """`open_targets` for the project's own checkout (git runs only when `repo` is set)."""
    if not github_repo(config.repo):
        return {}
    return open_targets(config, sources, git_checkout(config.root, config.nbs), warn)
