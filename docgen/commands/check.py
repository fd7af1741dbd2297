"""`docgen check`: its options, and the run that prints (or writes as JSON) the report."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

from docgen.api.external import cached_inventory
from docgen.commands.build import _file
from docgen.config import Config, load_config
from docgen.errors import UsageError
from docgen.linkcheck.offline import check_site
from docgen.linkcheck.online import HttpOptions
from docgen.linkcheck.repolinks import project_repo_links
from docgen.linkcheck.report import format_report, write_json_report


def _add_check(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="check the links of a built site")
    add_arguments(p)
    p.set_defaults(run=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `docgen check`."""
    d = HttpOptions()
    parser.add_argument(
        "site",
        nargs="?",
        type=Path,
        help="the built site's folder (default: `out` of [tool.docgen], else site)",
    )
    parser.add_argument(
        "--config",
        type=_file,
        help="TOML file with a [tool.docgen] table (default: pyproject.toml here); its "
        "`out` is the site to check and its `inventories` are known",
    )
    parser.add_argument(
        "--external",
        action="store_true",
        help="also request every http(s) link (the network is not used otherwise)",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="REGEX",
        help="skip links this regex is found in (repeatable)",
    )
    parser.add_argument(
        "--inventory",
        action="append",
        default=[],
        metavar="BASE_URL=FILE",
        help="the objects.inv of the docs at BASE_URL: links under it must name its pages "
        "and anchors (repeatable; the installed nbdev indexes, and the `inventories` of "
        "[tool.docgen] that docgen build has downloaded, are always known)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        metavar="FILE",
        help="write one JSON record per checked link (as Sphinx's output.json)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=d.cache,
        metavar="FILE",
        help=f"where successful external checks are remembered (default: {d.cache})",
    )
    parser.add_argument(
        "--no-cache", dest="cache", action="store_const", const=None, help="use no cache"
    )
    for flag, kind, default, metavar, text in [
        ("--workers", int, d.workers, "N", "external requests at once"),
        ("--per-host", int, d.per_host, "N", "external requests at once to one host"),
        ("--timeout", float, d.timeout, "SECONDS", "time limit of one request"),
        ("--max-wait", float, d.max_wait, "SECONDS", "most one URL waits for rate limits"),
        ("--cache-age", float, d.cache_age, "HOURS", "how long a remembered success holds"),
    ]:
        parser.add_argument(
            flag, type=kind, default=default, metavar=metavar, help=f"{text} (default: {default:g})"
        )


def _options(args: argparse.Namespace) -> tuple[HttpOptions, dict[str, Path]]:
    for name in ("workers", "per_host", "timeout"):
        if getattr(args, name) <= 0:
            option = "--" + name.replace("_", "-")
            raise UsageError(f"{option} must be positive, not {getattr(args, name)}")
    for name in ("max_wait", "cache_age"):
        if getattr(args, name) < 0:
            raise UsageError(f"--{name.replace('_', '-')} can't be negative")
    for pattern in args.ignore:
        try:
            re.compile(pattern)
        except re.error as e:
            raise UsageError(f"--ignore {pattern!r} is not a valid regex: {e}") from e
    inventories = {}
    for spec in args.inventory:
        base, sep, file = spec.partition("=")
        if not sep or not base or not file:
            raise UsageError(f"--inventory wants BASE_URL=FILE, not {spec!r}")
        inventories[base] = Path(file)
    options = HttpOptions(
        timeout=args.timeout,
        workers=args.workers,
        per_host=args.per_host,
        max_wait=args.max_wait,
        cache=args.cache,
        cache_age=args.cache_age,
    )
    return options, inventories


def _json_target_problem(path: Path) -> str | None:
    """Why the --json report could not be written to `path`, or None."""
    folder = path.parent
    if path.is_dir():
        return "is a folder; name a file in it, for example --json " + str(path / "linkcheck.json")
    if not folder.exists():
        return f"its folder {folder} does not exist; create it, or name a file elsewhere"
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return "is not writable"
    return None


def configured_inventories(config: Config, warn: Callable[[str], None]) -> dict[str, Path]:
    """The `inventories` of [tool.docgen] given by URL, as docgen build cached them: base
    URL -> objects.inv. The check uses no network for them; one not cached yet is a warning.
    Local ones need nothing: the site links them as files relative to itself."""
    found = {}
    for name, location in config.inventories.items():
        cached = cached_inventory(name, location, config.root)
        if cached is None:
            continue  # a local folder or file
        base, path = cached
        if path.is_file():
            found[base] = path
        else:
            warn(
                f"inventory '{name}' ({location}) of [tool.docgen] has not been downloaded "
                f"yet (docgen build does that); links into it are not checked against it"
            )
    return found


def run(args: argparse.Namespace) -> int:
    """`docgen check`: 0 when every link works, 1 when some are broken; `UsageError` when
    the check cannot run."""
    config = load_config(args.config)
    site = Path(args.site) if args.site is not None else config.out
    if not site.is_dir():
        raise UsageError(f"{site} is not a folder; build the site first (docgen build)")
    problem = _json_target_problem(args.json) if args.json else None
    if problem:  # known before the check, which may take minutes, rather than after it
        raise UsageError(f"--json {args.json}: {problem}")
    options, inventories = _options(args)
    warnings: list[str] = list(config.deprecations)
    inventories = {**configured_inventories(config, warnings.append), **inventories}
    report = check_site(
        site,
        inventories=inventories,
        external=args.external,
        ignore=args.ignore,
        http=options,
        log=lambda m: print(m, file=sys.stderr),
        site_url=config.site_url,
        repo_links=project_repo_links(config.repo, config.root, warnings.append),
    )
    for warning in [*warnings, *report.warnings]:
        print(f"warning: {warning}", file=sys.stderr)
    print(format_report(report))
    if args.json:
        try:
            write_json_report(report, args.json)
        except OSError as e:
            raise UsageError(f"cannot write --json {args.json}: {e.strerror or e}") from e
    return 1 if report.broken else 0
