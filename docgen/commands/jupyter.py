"""A local Jupyter to open a notebook in: a running server whose folder holds it, else a
JupyterLab (or Notebook) started for it, detached, so it outlives `docgen open`.

Running servers are the ones `jupyter_server.serverapp.list_running_servers()` lists: the
`jpserver-*.json` files of Jupyter's runtime folder. Without jupyter_server in docgen's
environment (Jupyter installed apart, with pipx say), the same files are read here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from docgen.errors import UsageError

START_TIMEOUT_S = 90.0
INSTALL_HINT = (
    "install JupyterLab (pip install jupyterlab) or Jupyter Notebook (pip install notebook)"
)


@dataclass(frozen=True)
class Server:
    url: str  # ends with "/"
    root: Path
    token: str
    pid: int


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: it exists
    except OSError:
        return False
    return True


def _runtime_files() -> Iterator[dict[str, Any]]:
    """The servers' own records, as `list_running_servers` reads them."""
    from jupyter_core.paths import jupyter_runtime_dir

    folder = Path(jupyter_runtime_dir())
    for path in sorted(folder.glob("jpserver-*.json")) + sorted(folder.glob("nbserver-*.json")):
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(info, dict) and _alive(int(info.get("pid", 0) or 0)):
            yield info


def running_servers() -> list[Server]:
    try:
        from jupyter_server.serverapp import list_running_servers
    except ImportError:
        infos: Iterator[dict[str, Any]] = _runtime_files()
    else:
        infos = list_running_servers()
    servers = []
    for info in infos:
        root = info.get("root_dir") or info.get("notebook_dir")
        url = str(info.get("url", ""))
        if not root or not url.startswith("http"):
            continue
        url = url if url.endswith("/") else url + "/"
        servers.append(Server(url, Path(root).resolve(), str(info.get("token", "")), info["pid"]))
    return servers


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (local server)
            return 200 <= response.status < 400
    except (urllib.error.URLError, OSError, ValueError):
        return False


def notebook_url(server: Server, notebook: Path) -> str | None:
    """The URL that opens `notebook` in `server`'s JupyterLab (or Notebook); None when the
    server does not answer (a record left by one that crashed)."""
    rel = quote(notebook.relative_to(server.root).as_posix())
    token = f"?token={quote(server.token)}" if server.token else ""
    for ui, path in (("lab", "lab/tree"), ("tree", "notebooks")):
        if _answers(f"{server.url}{ui}{token}"):
            return f"{server.url}{path}/{rel}{token}"
    return None


def _within(folder: Path, path: Path) -> bool:
    return folder == path or folder in path.parents


def open_in_running(notebook: Path) -> str | None:
    """The URL of `notebook` in a running server whose folder holds it, or None."""
    for server in running_servers():
        if _within(server.root, notebook):
            url = notebook_url(server, notebook)
            if url:
                return url
    return None


def jupyter_command() -> list[str] | None:
    """The command that starts JupyterLab, else Notebook; None when neither is installed."""
    here = Path(sys.executable).parent
    for name in ("jupyter-lab", "jupyter-notebook"):
        found = shutil.which(name) or shutil.which(name, path=str(here))
        if found:
            return [found]
    return None


def start_server(folder: Path, notebook: Path) -> str:
    """Start JupyterLab (or Notebook) in `folder`, detached, and return `notebook`'s URL."""
    command = jupyter_command()
    if command is None:
        raise UsageError(
            f"no running Jupyter server can open {notebook}, and neither JupyterLab nor "
            f"Jupyter Notebook is installed; {INSTALL_HINT}, then run docgen open again"
        )
    # As root (a container, typically) Jupyter refuses to start unless told.
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    fd, log_name = tempfile.mkstemp(prefix="docgen-jupyter-", suffix=".log")
    with os.fdopen(fd, "wb") as log:
        process = subprocess.Popen(
            [*command, "--no-browser", *as_root, f"--ServerApp.root_dir={folder}"],
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # detached: it goes on serving after docgen exits
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = Path(log_name).read_text(errors="replace")[-1500:]
            raise UsageError(
                f"{command[0]} stopped as it started (exit {process.returncode}); its log, "
                f"{log_name}, ends:\n{tail}"
            )
        for server in running_servers():
            if server.pid == process.pid:
                url = notebook_url(server, notebook)
                if url:
                    return url
        time.sleep(0.3)
    raise UsageError(
        f"{command[0]} (process {process.pid}) did not answer within {START_TIMEOUT_S:.0f} s; "
        f"see its log {log_name}"
    )
