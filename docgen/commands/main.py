"""The `docgen` command: its parser, and `main`, which maps every failure to an exit code.

Exit codes: 0 success; 1 the docs have problems; 2 the command itself could not run.
Every failure is printed as readable blocks, never as a Python traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from docgen import __version__
from docgen.commands.build import _add_build
from docgen.commands.check import _add_check
from docgen.commands.clean import _add_clean
from docgen.errors import STOP_SIGNALS, BuildFailed, DocgenError, Interrupted, UsageError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="docgen", description="Documentation sites from executed Jupyter notebooks."
    )
    p.add_argument("--version", action="version", version=f"docgen {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_build(sub)
    _add_check(sub)
    _add_clean(sub)
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
        count = len(e.problems)
        print(f"\nThe build failed: {count} problem{'s' if count > 1 else ''}.\n", file=sys.stderr)
        for problem in e.problems:
            print(f"{problem}\n", file=sys.stderr)
        return e.exit_code
    except (DocgenError, UsageError) as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt as e:
        done = e.done if isinstance(e, Interrupted) else ""
        print(f"interrupted; {done or 'the previous site is unchanged'}", file=sys.stderr)
        return e.exit_code if isinstance(e, Interrupted) else 130
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
