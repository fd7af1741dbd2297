"""`docgen build --shard I/N` and `docgen build --merge CACHE_DIR ...`: what they print.

The work is in shards.py and execute/merge.py; a shard says on stdout which notebooks it
took and how long they are expected to take, so a CI log shows the split.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from docgen.config import CACHE_DIR, Config
from docgen.errors import UsageError
from docgen.execute.cache import ExecutionCache
from docgen.execute.merge import CachedOnly, merge_caches
from docgen.execute.progress import PlainProgress
from docgen.execute.schedule import Shard
from docgen.execute.stage import detect_machine
from docgen.shards import ShardReport, run_shard
from docgen.words import counted


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def announce(report: ShardReport) -> None:
    mine = sum(report.expected.values())
    print(
        f"shard {report.shard}: {counted(len(report.expected), 'notebook')}, "
        f"{mine:.1f} s expected of {report.total:.1f} s in all "
        "(seconds recorded in the execution cache, 60 s for a notebook never run)",
        flush=True,
    )
    for path, seconds in report.expected.items():
        print(f"  {path}  {seconds:.1f} s", flush=True)


def run_shard_command(config: Config, shard: Shard) -> int:
    progress = PlainProgress(_stderr, config.root)
    report = run_shard(config, shard, detect_machine(config), progress, announce)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    took = sum(report.ran.values())
    print(
        f"shard {report.shard}: ran {counted(len(report.ran), 'notebook')} in {took:.1f} s, "
        f"{len(report.cached)} already cached; stored in {config.root / CACHE_DIR}. No site "
        "written: render it with `docgen build --merge CACHE_DIR ...` from every shard's cache."
    )
    return 0


def merge_into_cache(config: Config, folders: Sequence[Path]) -> CachedOnly:
    """Copy the caches' entries into the project's; the executor the build then uses."""
    if not config.cache:
        raise UsageError(
            "--merge renders from the execution cache, which [tool.docgen.execute] turns off "
            "(cache = false); remove that line to merge"
        )
    if not config.execute:
        raise UsageError("--merge renders the outputs the shards stored; drop --no-exec")
    if config.force:
        raise UsageError("--merge runs no notebook, so --force has nothing to do; drop it")
    cache = ExecutionCache(config.root / CACHE_DIR)
    merged = merge_caches(folders, cache)
    for warning in merged.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(
        f"merged {counted(merged.added, 'new cache entry', 'new cache entries')} from "
        f"{', '.join(map(str, merged.folders))} into {cache.folder}",
        file=sys.stderr,
    )
    searched = list(dict.fromkeys([*merged.folders, cache.folder]))
    return CachedOnly(searched, cache, config.root)
