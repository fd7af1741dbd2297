"""`docgen clean`: remove the built site, under the same rules as `build`'s output folder."""

from __future__ import annotations

import argparse

from docgen.commands.build import _add_no_wait, _file, _stderr
from docgen.config import load_config
from docgen.site.outdir import clean


def _add_clean(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "clean",
        help="remove the built site (only a folder docgen wrote: one with a .docgen-site file)",
    )
    p.add_argument("--config", type=_file, help="TOML file with a [tool.docgen] table")
    _add_no_wait(p)
    p.set_defaults(run=_run_clean)


def _run_clean(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if clean(config, wait=not args.no_wait, log=_stderr):
        print(f"removed {config.out}")
    return 0
