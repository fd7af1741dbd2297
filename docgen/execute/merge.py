"""`docgen build --merge CACHE_DIR ...`: the site rendered from caches other jobs filled.

The entries of each cache given are copied into the project's own (entries are
content-addressed, so copying never replaces one; the cache's atomic writer means a merge
that stops half-way leaves only whole entries). The build then plans as always, from the
project's cache, with an executor that runs nothing: a notebook that would have to run is
missing from every cache, and the build fails naming it.

A notebook is found when some cache holds its outputs under the key this machine computes:
the same code, data files, kernel and environment (Python, installed distributions, GPU
models) as the shard that ran it. Notebooks that need a GPU are the exception, as in any
build on a machine without one: the outputs of the latest GPU run of the same code are shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from docgen.config import CACHE_DIR
from docgen.errors import UsageError
from docgen.execute.cache import ExecutionCache
from docgen.execute.executor import ExecutionResult, Job, Listener
from docgen.execute.plan import project_path
from docgen.model import Status


@dataclass
class Merged:
    """What a merge copied: entries added, and the entries it could not read."""

    folders: list[Path]
    added: int = 0
    warnings: list[str] = field(default_factory=list)


def cache_folder(given: Path) -> Path:
    """The execution cache `given` names: the folder itself, or the `.docgen_cache` inside
    it (a CI artifact downloaded with its folder name); `UsageError` when it is neither."""
    if not given.is_dir():
        problem = "is not a folder" if given.exists() else "does not exist"
        raise UsageError(f"--merge {given}: {problem}; give the .docgen_cache folder of a shard")
    if (given / "nb").is_dir() or not (given / CACHE_DIR).is_dir():
        return given
    return given / CACHE_DIR


def merge_caches(folders: Sequence[Path], into: ExecutionCache) -> Merged:
    """Copy every entry of the caches in `folders` that `into` lacks into `into`."""
    merged = Merged([cache_folder(f) for f in folders])
    for folder in merged.folders:
        if folder.resolve() == into.folder.resolve():
            continue  # the project's own cache: nothing to copy
        for entry in sorted(folder.glob("nb/*/*.ipynb")):
            try:
                added = into.add_entry(entry.stem, entry.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as e:
                reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                merged.warnings.append(
                    f"--merge: ignored the unreadable cache entry {entry} ({reason})"
                )
                continue
            merged.added += added
    return merged


class CachedOnly:
    """An executor that runs nothing: each job it gets is a notebook no merged cache holds."""

    def __init__(self, searched: Sequence[Path], cache: ExecutionCache, root: Path):
        self.searched = list(searched)
        self.cache = cache
        self.root = root

    def run(self, jobs: Sequence[Job], listener: Listener) -> list[ExecutionResult]:
        results = []
        for job in jobs:
            results.append(ExecutionResult(None, 0.0, self.missing(job)))
            listener.finished(job.path, Status.FAILED, 0.0)
        return results

    def missing(self, job: Job) -> str:
        rel = project_path(job.path, self.root)
        searched = ", ".join(map(str, self.searched))
        if self.cache.latest(rel, job.nb) is not None:
            why = (
                "a cache holds outputs of its code, but from another environment or other "
                "data files (the cache key differs); run the shards and this job with the "
                "same Python, packages and data"
            )
        else:
            why = (
                "no shard stored outputs of its current code; check that every shard of the "
                "matrix ran (and uploaded its .docgen_cache) on the same commit"
            )
        return f"{job.path}: in none of the caches merged ({searched}): {why}."
