"""One notebook in one fresh Jupyter kernel, through jupyter-client and nbclient.

A `Kernel` is started for one notebook only: in the notebook's folder, with its GPU in
the environment, reached over IPC sockets in a private temporary folder (never TCP). It
can be started ahead of its turn and import the configured modules while it waits. When it
is shut down, a `Reaper` ends every process its cells started, detached ones included.
After the notebook's last cell, a silent request (no cell, no output) asks the kernel
where it ran: Python, torch and CUDA versions, and whether CUDA was used.

Failures become a `DocgenError` whose message names the notebook, the cell, its first
lines, the exception and the user's part of the traceback; docgen's frames are never shown.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from queue import Empty
from typing import Any

import nbformat
from jupyter_client.kernelspec import NoSuchKernel
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from docgen.errors import DocgenError
from docgen.execute.reaper import TOKEN_VARIABLE, Reaper
from docgen.notebooks.cells import cell_options
from docgen.render.ansi import strip_ansi

_MAX_TRACEBACK_FRAMES = 6
STARTUP_TIMEOUT = 60

# Runs in a fresh namespace inside the kernel, so the notebook's variables stay untouched.
_PROBE = r"""
import platform, re, sys
info = {"python": platform.python_version()}
torch = sys.modules.get("torch")
if torch is not None:
    info["torch"] = str(getattr(torch, "__version__", ""))
    info["cuda"] = str(getattr(getattr(torch, "version", None), "cuda", None) or "")
    try:
        info["cuda_used"] = bool(torch.cuda.is_initialized())
        if info["cuda_used"]:
            info["gpu"] = torch.cuda.get_device_name(torch.cuda.current_device())
    except Exception:
        pass
else:
    try:
        import importlib.metadata as md
        version = md.version("torch")
        info["torch"] = version
        m = re.search(r"\+cu(\d+)(\d)$", version)
        info["cuda"] = f"{m.group(1)}.{m.group(2)}" if m else ""
    except Exception:
        pass
"""
_PROBE_EXPRESSION = (
    f"(lambda ns: (exec({_PROBE!r}, ns), __import__('json').dumps(ns['info']))[1])({{}})"
)


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


class _Client(NotebookClient):
    """nbclient's client on a kernel it does not own, reporting which cell it is in."""

    async def run_cells(self, path: Path, on_cell: Callable[[int], None] | None) -> None:
        assert self.kc is not None
        info = await self.async_wait_for_reply(await _maybe_await(self.kc.kernel_info()))
        if info is not None and "language_info" in info["content"]:
            self.nb.metadata["language_info"] = info["content"]["language_info"]
        for index, cell in enumerate(self.nb.cells):
            options = cell_options(cell)
            if not options.execute:
                continue
            if on_cell:
                on_cell(index)
            try:
                await self.async_execute_cell(
                    cell, index, execution_count=self.code_cells_executed + 1
                )
            except CellExecutionError as e:
                if options.may_raise:
                    continue
                raise DocgenError(describe_cell_error(path, index, self.nb)) from e
            except CellTimeoutError as e:
                raise DocgenError(
                    f"{_where(path, index, self.nb)}\n"
                    f"  did not finish within {self.timeout} s, so it was stopped.\n"
                    "  Make the cell faster, raise `timeout` in [tool.docgen] (or pass "
                    "--timeout), or tag it `skip-execution`."
                ) from e
            except DeadKernelError as e:
                code = self._exit_code()
                how = f" (exit code {code})" if code is not None else ""
                raise DocgenError(
                    f"{_where(path, index, self.nb)}\n"
                    f"  the kernel died while running this cell{how}.\n"
                    "  A crash or os._exit() in the cell ends the kernel; the notebook "
                    "cannot continue."
                ) from e

    def _exit_code(self) -> int | None:
        provisioner = getattr(self.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        if process is None:
            return None
        try:
            process.wait(timeout=5)
        except Exception:  # the process handle is the kernel's; any failure means unknown
            return None
        return process.returncode


async def _maybe_await(value):  # type: ignore[no-untyped-def]
    return await value if asyncio.iscoroutine(value) else value


class Kernel:
    """One kernel process for one notebook: started, optionally warmed, used, shut down."""

    def __init__(
        self, name: str, path: Path, env: dict[str, str], reaper: Reaper | None = None
    ) -> None:
        self.name = name
        self.path = path  # the notebook it is for; it starts in the notebook's folder
        # Every process the kernel starts inherits the token, unless it clears its environment.
        self.token = secrets.token_hex(8)
        self.env = {**env, TOKEN_VARIABLE: self.token}
        self.reaper = reaper  # ends what the kernel's cells started, when the kernel ends
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
        # Parallel kernels must not share IPython's history database (it locks).
        extra = ["--HistoryManager.hist_file=:memory:"] if self.km.ipykernel else []
        try:
            await self.km.start_kernel(
                cwd=str(self.path.parent), env=self.env, extra_arguments=extra
            )
            process = getattr(self.km.provisioner, "process", None)
            if self.reaper is not None and process is not None:
                self.reaper.watch(self.token, process.pid)
            self.kc = self.km.client()
            self.kc.start_channels()
            await self.kc.wait_for_ready(timeout=timeout)
        except NoSuchKernel as e:
            raise DocgenError(
                f"{self.path}: needs the Jupyter kernel '{self.name}', which is not installed "
                "here. Install it, or set `kernel_name` in [tool.docgen]."
            ) from e
        except (RuntimeError, OSError) as e:
            raise DocgenError(f"{self.path}: the kernel '{self.name}' did not start: {e}") from e
        self.kc.allow_stdin = False

    async def _reply(self, msg_id: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg: dict[str, Any] = await self.kc.get_shell_msg(timeout=1)
            except Empty:
                assert self.km is not None
                if not await self.km.is_alive():
                    raise DocgenError(f"{self.path}: the kernel died") from None
                if time.monotonic() > deadline:
                    raise DocgenError(
                        f"{self.path}: the kernel did not answer within {timeout:.0f} s"
                    ) from None
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg

    async def preload(self, modules: Sequence[str], timeout: float) -> str | None:
        """Import `modules` without binding a name; returns a warning if one fails."""
        if not modules:
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
        """Run a copy of `nb` top to bottom; cells get nbclient's timing metadata."""
        nb = nbformat.from_dict(nb)  # never touch the caller's notebook
        client = _Client(
            nb,
            km=self.km,
            timeout=timeout,
            kernel_name=self.name,
            allow_errors=False,
            record_timing=True,
            iopub_timeout=10,
            resources={"metadata": {"path": str(self.path.parent)}},
        )
        client.kc = self.kc
        try:
            await client.run_cells(self.path, on_cell)
        except DeadKernelError as e:
            raise DocgenError(f"{self.path}: the kernel '{self.name}' died: {e}") from e
        return nb

    async def describe(self, timeout: float = 30) -> dict[str, Any]:
        """Where the notebook ran, as the kernel sees it; {} for a kernel that cannot say."""
        msg_id = self.kc.execute(
            "", silent=True, store_history=False, user_expressions={"p": _PROBE_EXPRESSION}
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
            if self.kc is not None:
                self.kc.stop_channels()
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
