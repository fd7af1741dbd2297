"""`docgen build`: execute the notebooks and write the site."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from docgen.config import load_config
from docgen.configvalues import path_problem
from docgen.errors import UsageError
from docgen.words import counted

if TYPE_CHECKING:
    from docgen.execute.schedule import Shard


def _folder(text: str) -> Path:
    """An argument naming a folder: not empty (Path('') would be the current folder)."""
    problem = path_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return Path(text)


def _file(text: str) -> Path:
    problem = path_problem(text, "file")
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return Path(text)


def _shard(text: str) -> Shard:
    # Imported here, so `docgen --version` and `--help` stay quick.
    from docgen.execute.schedule import parse_shard

    try:
        return parse_shard(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from e


def _add_build(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="execute the notebooks and write the HTML site")
    p.add_argument("--nbs", type=_folder, help="folder of notebooks (default: doc_nbs)")
    p.add_argument(
        "--out",
        type=_folder,
        help="folder to write the site to (default: site); it is replaced as a whole, so it "
        "must be absent, empty or a site docgen wrote (it holds a .docgen-site file)",
    )
    p.add_argument("--timeout", type=int, help="seconds one cell may run (default: 600)")
    p.add_argument(
        "--no-exec", action="store_true", help="render the outputs stored in the notebooks"
    )
    p.add_argument("--config", type=_file, help="TOML file with a [tool.docgen] table")
    p.add_argument("--strict", action="store_true", help="fail on warnings")
    p.add_argument(
        "--workers", type=int, metavar="N", help="notebooks run at once (default: CPU count)"
    )
    p.add_argument(
        "--force",
        action="append",
        nargs="?",
        const="*",
        metavar="NAME",
        help="run every notebook despite the cache, or only NAME (repeatable)",
    )
    p.add_argument(
        "--allow-missing-gpu",
        action="store_true",
        help="without a GPU, publish GPU notebooks that have no stored outputs (a warning)",
    )
    p.add_argument(
        "--executor",
        choices=("local", "dask"),
        help="where notebooks run: kernels on this machine (default) or a Dask cluster",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="the Dask scheduler to run notebooks on, e.g. tcp://host:8786 (implies "
        "--executor dask; without it, dask starts a local cluster)",
    )
    scale = p.add_mutually_exclusive_group()
    scale.add_argument(
        "--shard",
        type=_shard,
        metavar="I/N",
        help="run shard I of N of the notebooks into the execution cache and write no site: "
        "the shards split the notebooks by the seconds the cache recorded for each (60 s when "
        "unknown), the same way in every job. 'gpu': the notebooks that need a GPU",
    )
    scale.add_argument(
        "--merge",
        nargs="+",
        type=_folder,
        metavar="CACHE_DIR",
        help="copy the entries of these execution caches (the shards' .docgen_cache folders) "
        "into the project's, and write the site without running any notebook; a notebook "
        "none of them holds fails the build",
    )
    _add_no_wait(p)
    p.set_defaults(run=_run_build)


def _add_no_wait(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-wait",
        action="store_true",
        help="when another build or clean of the same site is running (it holds the lock "
        "file beside the output folder: .site.lock for site), exit with status 2 instead of "
        "waiting for it",
    )


def _run_build(args: argparse.Namespace) -> int:
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError(f"--timeout must be a positive number of seconds, not {args.timeout}")
    if args.workers is not None and args.workers <= 0:
        raise UsageError(f"--workers must be a positive number, not {args.workers}")
    overrides = {
        "nbs": args.nbs,
        "out": args.out,
        "timeout": args.timeout,
        "execute": False if args.no_exec else None,
        "strict": True if args.strict else None,
        "workers": args.workers,
        "force": args.force,
        "allow_missing_gpu": True if args.allow_missing_gpu else None,
        "executor": args.executor or ("dask" if args.scheduler else None),
        "scheduler": args.scheduler,
    }
    # Imported here, so `docgen --version` and `--help` stay quick.
    from docgen.commands.scale import merge_into_cache, run_shard_command
    from docgen.execute.progress import LiveProgress, PlainProgress
    from docgen.pipeline import build

    config = load_config(args.config, overrides=overrides)
    if args.shard is not None:
        return run_shard_command(config, args.shard)
    executor = merge_into_cache(config, args.merge) if args.merge else None
    live = sys.stderr.isatty()
    progress = (
        LiveProgress(sys.stderr, config.root) if live else PlainProgress(_stderr, config.root)
    )
    try:
        report = build(config, progress=progress, wait=not args.no_wait, executor=executor)
    finally:
        progress.close()
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(
        f"built {counted(len(report.pages), 'page')} into {report.out} in "
        f"{report.seconds:.1f} s"
        + (f" ({counted(len(report.warnings), 'warning')})" if report.warnings else "")
    )
    return 0


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
