"""The `docgen` command: its parser, and `main`, which maps every failure to an exit code.

Exit codes: 0 success; 1 the docs have problems; 2 the command itself could not run.
Every failure is printed as readable blocks, never as a Python traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import traceback
from types import FrameType

from docgen import __version__
from docgen.commands.build import _add_build
from docgen.commands.check import _add_check
from docgen.commands.clean import _add_clean
from docgen.commands.init import _add_init
from docgen.commands.open import _add_open
from docgen.commands.render import _add_render
from docgen.commands.serve import _add_serve
from docgen.errors import STOP_SIGNALS, BuildFailed, DocgenError, Interrupted, UsageError
from docgen.words import counted


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="docgen", description="Documentation sites from executed Jupyter notebooks."
    )
    p.add_argument("--version", action="version", version=f"docgen {__version__}")
    p.add_argument(
        "--debug",
        action="store_true",
        help="print the Python traceback of a failure (before the command name: "
        "docgen --debug build)",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_build(sub)
    _add_check(sub)
    _add_clean(sub)
    _add_init(sub)
    _add_render(sub)
    _add_open(sub)
    _add_serve(sub)
    return p


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # SIGTERM and SIGHUP, like Ctrl-C, unwind the build: kernels and what they started are
    # ended, temporary folders removed.
    stops = [s for s in STOP_SIGNALS if s != signal.SIGINT] if _main_thread() else []
    previous = {signum: signal.signal(signum, _interrupt) for signum in stops}
    try:
        return int(args.run(args))
    except BuildFailed as e:
        _traceback(args)
        count = len(e.problems)
        print(f"\nThe build failed: {counted(count, 'problem')}.\n", file=sys.stderr)
        for problem in e.problems:
            print(f"{problem}\n", file=sys.stderr)
        return e.exit_code
    except (DocgenError, UsageError) as e:
        _traceback(args)
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt as e:
        done = e.done if isinstance(e, Interrupted) else ""
        print(f"interrupted; {done or 'the previous site is unchanged'}", file=sys.stderr)
        return e.exit_code if isinstance(e, Interrupted) else 130
    except OSError as e:
        # A file docgen could not read or write, in a place no narrower handler knew of:
        # the environment stops the command (exit 2), and the path says where.
        _traceback(args)
        print(f"error: {os_problem(e)}", file=sys.stderr)
        return UsageError.exit_code
    except Exception as e:
        _traceback(args)
        print(f"docgen: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        if not args.debug:
            print(
                "This is a bug in docgen. Rerun with --debug (docgen --debug "
                f"{args.command} ...) to see the traceback, and report it.",
                file=sys.stderr,
            )
        return 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _traceback(args: argparse.Namespace) -> None:
    """With --debug, the traceback of the exception being handled (and what it chains)."""
    if args.debug:
        traceback.print_exc(file=sys.stderr)


def os_problem(e: OSError) -> str:
    """An OSError as 'PATH: reason', the way a user can act on it."""
    reason = e.strerror or str(e) or type(e).__name__
    if e.filename is None:
        return reason
    where = f"{e.filename}" + (f" -> {e.filename2}" if e.filename2 is not None else "")
    return f"{where}: {reason}"
