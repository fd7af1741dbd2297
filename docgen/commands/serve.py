"""`docgen serve`: build the site into a temporary folder, serve it, rebuild on every save.

Each rebuild passes the same in-memory `BuildSession`, so a prose edit re-renders only its
page and runs no kernel, and the execution cache re-runs only the notebooks whose code
changed, each in a kernel forked from a zygote kept warm between builds (serve/kernels.py).
Builds run in the main thread while the server keeps serving the last good site; a failed
build leaves that site served and shows its message on the open pages.
`site/` is never written. `PAGE ...` limits which notebooks run; a GPU notebook runs only when
its page's run button asks (see serve/live.py).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import webbrowser
from pathlib import Path

from docgen.commands.build import _file, _folder
from docgen.errors import UsageError

DEBOUNCE_MS = 1600  # the longest a burst of saves is gathered into one rebuild
STEP_MS = 50  # the quiet time that ends a burst: a single save rebuilds after this
CONFIG_POLL_MS = 300  # how often the config file's signature is compared


def _add_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="preview the site while you write: rebuild on save and reload the browser",
    )
    p.add_argument(
        "--port",
        type=int,
        default=8000,
        help="port to listen on (default: 8000; 0 picks a free one)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument(
        "--no-exec", action="store_true", help="render the outputs stored in the notebooks"
    )
    p.add_argument("--open", action="store_true", help="open the site in a web browser")
    p.add_argument("--nbs", type=_folder, help="folder of notebooks (default: doc_nbs)")
    p.add_argument("--config", type=_file, help="TOML file with a [tool.docgen] table")
    p.add_argument(
        "pages",
        nargs="*",
        metavar="PAGE",
        help="run only these notebooks (path relative to the notebooks folder, or page name); "
        "the other pages show their cached outputs or those stored in them",
    )
    p.set_defaults(run=_run_serve)


def _run_serve(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {args.port}")
    # Imported here, so `docgen --version` and `--help` stay quick.
    from docgen.serve.builder import Builder
    from docgen.serve.server import bind, start, url_of

    tmp = Path(tempfile.mkdtemp(prefix="docgen-serve-"))
    try:
        builder = Builder(args.config, _overrides(args, tmp / "site"), _stderr)
        sock = bind(args.host, args.port)
        server = start(sock, builder.live)
        try:
            url = url_of(sock, args.host)
            print(f"Serving {url}", flush=True)
            if args.open:
                webbrowser.open(url)
            builder.run(DEBOUNCE_MS, STEP_MS, CONFIG_POLL_MS)
        except KeyboardInterrupt:  # Ctrl-C, SIGTERM, SIGHUP: a build's kernels are ended
            print("stopped", file=sys.stderr, flush=True)
        finally:
            server.stop(builder.live)
            builder.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _overrides(args: argparse.Namespace, out: Path) -> dict[str, object]:
    return {
        "nbs": args.nbs,
        "out": out,
        "execute": False if args.no_exec else None,
        "only": list(args.pages),
        "gpu_on_request": True,  # a GPU notebook runs when its page's button asks
    }


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
