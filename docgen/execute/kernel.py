"""One notebook in one fresh Jupyter kernel, through jupyter-client and nbclient.

A `Kernel` is started for one notebook only: in the notebook's folder, with its GPU in
the environment, reached over IPC sockets in a private temporary folder (never TCP). It
can be started ahead of its turn and import the configured modules while it waits. When it
is shut down, a `Reaper` ends every process its cells started, detached ones included.
The kernel manager is docgen's; nbclient's `NotebookClient`, given its client, runs the
cells (all in one request to an IPython kernel, batch.py; else `async_execute`), reports
each through its `on_cell_execute` hook, and reads the cell tags `skip-execution` and
`raises-exception`, which the copy that runs gets for the `#| eval: false` and `#| error:
true` directives too. After the notebook's last cell, a silent request (no cell, no output)
asks the kernel where it ran (probe.py): Python, torch and CUDA versions, and whether CUDA
was used.

Failures become a `DocgenError` whose message names the notebook, the cell, its first
lines, the exception and the user's part of the traceback; docgen's frames are never shown.
"""

from __future__ import annotations

import ast
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from queue import Empty
from typing import Any

import nbformat
import zmq
from jupyter_client.kernelspec import NoSuchKernel
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from docgen.errors import DocgenError
from docgen.execute.batch import run_batched
from docgen.execute.launcher import Zygotes
from docgen.execute.probe import probe_expression
from docgen.execute.reaper import TOKEN_VARIABLE, Reaper
from docgen.notebooks.cells import cell_options
from docgen.render.ansi import strip_ansi

_MAX_TRACEBACK_FRAMES = 6
STARTUP_TIMEOUT = 60

def _cell_excerpt(source: str, lines: int = 4) -> str:
    body = source.strip("\n").splitlines() or [""]
    shown = [f"    {i + 1:>3} | {line}" for i, line in enumerate(body[:lines])]
    if len(body) > lines:
        shown.append(f"        | ... ({len(body) - lines} more lines)")
    return "\n".join(shown)


def _trim_traceback(frames: list[str]) -> str:
    """The kernel's traceback without ANSI colours, and without the middle of a deep one."""
    text = [strip_ansi(f).rstrip() for f in frames]
    # IPython starts with a rule line and a header; the frames follow, the error line is last.
    text = [t for t in text if t and not set(t) <= {"-"}]
    if len(text) > _MAX_TRACEBACK_FRAMES + 1:
        keep = _MAX_TRACEBACK_FRAMES // 2
        omitted = len(text) - 1 - 2 * keep
        text = [*text[: keep + 1], f"... {omitted} frames omitted ...", *text[-keep:]]
    return "\n".join("    " + line for t in text for line in t.splitlines())


def _where(path: Path, index: int, nb: nbformat.NotebookNode) -> str:
    cell = nb.cells[index]
    return f"{path}, cell {index + 1} of {len(nb.cells)}:\n{_cell_excerpt(cell.source)}"


def describe_cell_error(path: Path, index: int, nb: nbformat.NotebookNode) -> str:
    cell = nb.cells[index]
    error = next((o for o in reversed(cell.get("outputs", [])) if o.output_type == "error"), None)
    if error is None:
        return f"{_where(path, index, nb)}\n  failed without an error output"
    summary = f"{error.ename}: {strip_ansi(error.evalue)}".rstrip(": ")
    hint = "Fix the cell, or tag it `raises-exception` if the error is what the page should show."
    if error.ename == "StdinNotImplementedError":
        hint = "Notebooks are run without a keyboard: replace input() with a value."
    return (
        f"{_where(path, index, nb)}\n  raised {summary}\n"
        f"  Traceback:\n{_trim_traceback(error.traceback)}\n  {hint}"
    )


def kernel_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a notebook's kernel: ours, made quiet and non-interactive."""
    env = dict(os.environ)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env.pop("DISPLAY", None)
    env.update(extra or {})
    return env


# The directives nbclient does not read, as the cell tags it does read (see `_as_tags`).
_SKIP_TAG = "skip-execution"
_MAY_RAISE_TAG = "raises-exception"


class _Client(NotebookClient):
    """nbclient's client on a kernel docgen started, owns and stops.

    nbclient runs the cells. The one thing replaced is `async_setup_kernel`, whose version
    installs SIGINT/SIGTERM handlers per client: with many clients on one event loop they
    replace each other and, on the first notebook to finish, remove docgen's own (pool.py
    handles signals once, for every kernel). The kernel is already started and its client
    ready, so there is nothing left to set up.
    """

    @asynccontextmanager
    async def async_setup_kernel(self, **kwargs: Any) -> AsyncGenerator[None, None]:
        if self.kc is None:
            await self.async_start_new_kernel_client()
        yield


def _as_tags(nb: nbformat.NotebookNode) -> list[tuple[int, list[str] | None]]:
    """Add to each cell the tags nbclient reads for what docgen's `#|` directives say
    (`eval: false`: skip it, `error: true`: let it raise). Returns each changed cell's
    index and its tags before, for `_restore_tags`."""
    changed = []
    for index, cell in enumerate(nb.cells):
        options = cell_options(cell)
        tags = cell.get("metadata", {}).get("tags")
        wanted = [
            tag
            for tag, needed in (
                (_SKIP_TAG, cell.cell_type == "code" and not options.execute),
                (_MAY_RAISE_TAG, options.may_raise),
            )
            if needed and tag not in (tags or [])
        ]
        if wanted:
            changed.append((index, None if tags is None else list(tags)))
            cell.setdefault("metadata", {})["tags"] = [*(tags or []), *wanted]
    return changed


def _restore_tags(nb: nbformat.NotebookNode, changed: list[tuple[int, list[str] | None]]) -> None:
    for index, tags in changed:
        metadata = nb.cells[index].metadata
        if tags is None:
            metadata.pop("tags", None)
        else:
            metadata["tags"] = tags


def _exit_code(km: AsyncKernelManager | None) -> int | None:
    process = getattr(getattr(km, "provisioner", None), "process", None)
    if process is None:
        return None
    try:
        process.wait(timeout=5)
    except Exception:  # the process handle is the kernel's; any failure means unknown
        return None
    return process.returncode


class Kernel:
    """One kernel process for one notebook: started, optionally warmed, used, shut down."""

    def __init__(
        self,
        name: str,
        path: Path,
        extra_env: dict[str, str],
        reaper: Reaper | None = None,
        zygotes: Zygotes | None = None,
        batched: bool = True,
    ) -> None:
        self.name = name
        self.batched = batched  # an IPython kernel's cells go in one request (batch.py)
        self.path = path  # the notebook it is for; it starts in the notebook's folder
        # Every process the kernel starts inherits the token, unless it clears its environment.
        self.token = secrets.token_hex(8)
        self.env = {**kernel_env(extra_env), TOKEN_VARIABLE: self.token}
        self.reaper = reaper  # ends what the kernel's cells started, when the kernel ends
        self.zygotes = zygotes  # forks the kernel from a preloaded process, where it can
        self.km: AsyncKernelManager | None = None
        self.kc: Any = None
        self._sockets: str | None = None

    async def start(self, timeout: float = STARTUP_TIMEOUT) -> None:
        self._sockets = tempfile.mkdtemp(prefix="docgen-kernel-")
        # The connection file too, so that removing the folder leaves nothing in any path.
        self.km = AsyncKernelManager(
            kernel_name=self.name,
            transport="ipc",
            ip=os.path.join(self._sockets, "k"),
            connection_file=os.path.join(self._sockets, "kernel.json"),
        )
        # Parallel kernels must not share IPython's history database (it locks). ipykernel
        # sleeps 0.5 ms after each cell so that frontends see its output before the reply;
        # nbclient reads output until the idle status, which comes after it in any case.
        extra = (
            ["--HistoryManager.hist_file=:memory:", "--Kernel._execute_sleep=0"]
            if self.km.ipykernel
            else []
        )
        try:
            if self.zygotes is not None:  # else jupyter-client picks the spec's provisioner
                self.km.provisioner = self.zygotes.provisioner(self.km)
            await self.km.start_kernel(
                cwd=str(self.path.parent), env=self.env, extra_arguments=extra
            )
            process = getattr(self.km.provisioner, "process", None)
            if self.reaper is not None and process is not None:
                self.reaper.watch(self.token, process.pid)
            # The client connects as soon as the kernel's process exists, before the kernel
            # has bound its sockets: ZeroMQ would try again only after 100 ms.
            self.kc = self.km.client()
            self.kc.context.setsockopt(zmq.RECONNECT_IVL, 5)
            self.kc.start_channels()
            await self._wait_ready(timeout)
        except NoSuchKernel as e:
            raise DocgenError(
                f"{self.path}: needs the Jupyter kernel '{self.name}', which is not installed "
                "here. Install it, or set `kernel_name` in [tool.docgen]."
            ) from e
        except (RuntimeError, OSError) as e:
            raise DocgenError(f"{self.path}: the kernel '{self.name}' did not start: {e}") from e
        self.kc.allow_stdin = False

    async def _wait_ready(self, timeout: float) -> None:
        """Until the kernel answers a kernel_info request on the shell channel and its idle
        status for it arrives on IOPub: both channels are connected then. jupyter-client's
        `wait_for_ready` also waits for 0.2 s of silence on IOPub afterwards, which costs every
        notebook 0.2 s and tells docgen nothing: its reads go by each request's id."""
        deadline = time.monotonic() + timeout
        while True:
            msg_id = self.kc.kernel_info()
            reply = await self._shell_reply(msg_id, wait=1.0)
            if reply is not None and await self._idle_on_iopub(msg_id, wait=0.2):
                self.kc._handle_kernel_info_reply(reply)  # the protocol version it speaks
                return
            assert self.km is not None
            if not await self.km.is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")

    async def _shell_reply(self, msg_id: str, wait: float) -> dict[str, Any] | None:
        end = time.monotonic() + wait
        while (left := end - time.monotonic()) > 0:
            try:
                msg: dict[str, Any] = await self.kc.get_shell_msg(timeout=left)
            except Empty:
                return None
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg
        return None

    async def _idle_on_iopub(self, msg_id: str, wait: float) -> bool:
        end = time.monotonic() + wait
        while (left := end - time.monotonic()) > 0:
            try:
                msg = await self.kc.get_iopub_msg(timeout=left)
            except Empty:
                return False  # not connected yet when the kernel said it: ask again
            if (
                msg["parent_header"].get("msg_id") == msg_id
                and msg["msg_type"] == "status"
                and msg["content"].get("execution_state") == "idle"
            ):
                return True
        return False

    async def _reply(self, msg_id: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            msg = await self._shell_reply(msg_id, wait=1.0)
            if msg is not None:
                return msg
            assert self.km is not None
            if not await self.km.is_alive():
                raise DocgenError(f"{self.path}: the kernel died")
            if time.monotonic() > deadline:
                raise DocgenError(f"{self.path}: the kernel did not answer within {timeout:.0f} s")

    async def preload(self, modules: Sequence[str], timeout: float) -> str | None:
        """Import `modules` without binding a name; returns a warning if one fails.
        A kernel forked from a zygote has them already."""
        if not modules or getattr(getattr(self.km, "provisioner", None), "forked", False):
            return None
        code = f"[__import__(m) for m in {list(modules)!r}]"
        reply = await self._reply(self.kc.execute(code, silent=True, store_history=False), timeout)
        content = reply["content"]
        if content.get("status") != "ok":
            return (
                f"{self.path}: preloading {', '.join(modules)} failed "
                f"({content.get('ename', 'error')}: {strip_ansi(content.get('evalue', ''))}); "
                "check `preload` in [tool.docgen.execute]"
            )
        return None

    async def run(
        self,
        nb: nbformat.NotebookNode,
        timeout: int,
        on_cell: Callable[[int], None] | None = None,
    ) -> nbformat.NotebookNode:
        """Run a copy of `nb` top to bottom with nbclient; cells get its timing metadata.

        `on_cell(index)` is called as each cell starts running. A cell that fails (unless
        it may), times out or kills the kernel ends the run with a `DocgenError` naming it.
        """
        nb = nbformat.from_dict(nb)  # never touch the caller's notebook
        running: list[int] = []  # the cell nbclient is in, for the error message

        def on_cell_execute(cell: nbformat.NotebookNode, cell_index: int) -> None:
            running[:] = [cell_index]
            if on_cell is not None:
                on_cell(cell_index)

        client = _Client(
            nb,
            km=self.km,
            timeout=timeout,
            kernel_name=self.name,
            allow_errors=False,
            record_timing=True,
            iopub_timeout=10,
            skip_cells_with_tag=_SKIP_TAG,
            startup_timeout=STARTUP_TIMEOUT,
            resources={"metadata": {"path": str(self.path.parent)}},
            on_cell_execute=on_cell_execute,
        )
        # nbclient reads the kernel through ours, ready already: one of its own would wait
        # for the kernel again (jupyter-client's 0.2 s of IOPub silence included). It reads
        # each cell's messages by their request's id, so earlier ones do not matter.
        client.kc = self.kc
        changed = _as_tags(nb)
        try:
            ipykernel = self.km is not None and self.km.ipykernel
            progress = os.path.join(self._sockets, "cell") if self._sockets else None
            if not (self.batched and ipykernel and await run_batched(client, progress)):
                await client.async_execute()
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
            raise self._cell_failed(e, nb, running[0] if running else None, timeout) from e
        except RuntimeError as e:  # jupyter-client's "Kernel died before replying ..."
            if running:
                raise
            raise self._cell_failed(e, nb, None, timeout) from e
        finally:
            self.kc = client.kc  # for `describe`, and for `shutdown` to stop
            _restore_tags(nb, changed)
        return nb

    def _cell_failed(
        self, error: Exception, nb: nbformat.NotebookNode, index: int | None, timeout: int
    ) -> DocgenError:
        if index is None:  # before the first cell: only the kernel can have failed
            return DocgenError(f"{self.path}: the kernel '{self.name}' died: {error}")
        if isinstance(error, CellExecutionError):
            return DocgenError(describe_cell_error(self.path, index, nb))
        if isinstance(error, CellTimeoutError):
            return DocgenError(
                f"{_where(self.path, index, nb)}\n"
                f"  did not finish within {timeout} s, so it was stopped.\n"
                "  Make the cell faster, raise `timeout` in [tool.docgen] (or pass "
                "--timeout), or tag it `skip-execution`."
            )
        code = _exit_code(self.km)
        how = f" (exit code {code})" if code is not None else ""
        return DocgenError(
            f"{_where(self.path, index, nb)}\n"
            f"  the kernel died while running this cell{how}.\n"
            "  A crash or os._exit() in the cell ends the kernel; the notebook cannot continue."
        )

    def _stop_client(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
            self.kc = None

    async def describe(self, timeout: float = 30, packages: Sequence[str] = ()) -> dict[str, Any]:
        """Where the notebook ran, as the kernel sees it, with the versions of those of
        `packages` it has imported; {} for a kernel that cannot say."""
        msg_id = self.kc.execute(
            "",
            silent=True,
            store_history=False,
            user_expressions={"p": probe_expression(packages)},
        )
        try:
            reply = await self._reply(msg_id, timeout)
            result = reply["content"].get("user_expressions", {}).get("p", {})
            if result.get("status") != "ok":
                return {}
            info = json.loads(ast.literal_eval(result["data"]["text/plain"]))
        except (DocgenError, KeyError, ValueError, SyntaxError):
            return {}
        return info if isinstance(info, dict) else {}

    async def shutdown(self) -> None:
        """Stop the kernel and everything it started, detached or not."""
        try:
            if self.reaper is not None:
                self.reaper.record()  # while the kernel still holds its children
            self._stop_client()
            if self.km is not None and self.km.has_kernel:
                await self.km.shutdown_kernel(now=True)
            elif self.km is not None:
                await self.km.cleanup_resources()
        except (OSError, RuntimeError):
            self.kill_now()
        finally:
            self.kc = None
            if self.reaper is not None:
                self.reaper.end(self.token)
            if self._sockets:
                shutil.rmtree(self._sockets, ignore_errors=True)

    def kill_now(self) -> None:
        """Last resort, without the event loop: SIGKILL the kernel's process group."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # kernels start in their own session
            except OSError:
                process.kill()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass  # SIGKILL cannot be refused; only an unkillable (D-state) process stays
        if self.reaper is not None:
            self.reaper.end(self.token)
        if self._sockets:
            shutil.rmtree(self._sockets, ignore_errors=True)
