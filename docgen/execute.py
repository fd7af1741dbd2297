"""Running notebooks in fresh Jupyter kernels, through nbclient.

Each notebook gets its own kernel process, started in the notebook's folder and reached
over IPC sockets in a private temporary folder (never TCP). Failures become a
`DocgenError` whose message names the notebook, the cell, its first lines, the
exception and the user's part of the traceback; docgen's own frames are never shown.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import NoSuchKernel
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from .errors import DocgenError
from .notebooks import cell_options

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_MAX_TRACEBACK_FRAMES = 6


@dataclass(frozen=True)
class ExecutionResult:
    """An executed copy of a notebook, or the reason it failed."""

    nb: nbformat.NotebookNode | None
    duration: float
    error: str | None = None


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


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


class _Client(NotebookClient):
    """nbclient's client, reporting which cell it is in and what the kernel process did."""

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


def kernel_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a notebook's kernel: ours, made quiet and non-interactive."""
    env = dict(os.environ)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env.pop("DISPLAY", None)
    env.update(extra or {})
    return env


async def execute_notebook_async(
    nb: nbformat.NotebookNode,
    path: Path,
    timeout: int,
    kernel_name: str = "",
    env: dict[str, str] | None = None,
    on_cell: Callable[[int], None] | None = None,
) -> nbformat.NotebookNode:
    """Run a copy of `nb` top to bottom in a fresh kernel started in `path`'s folder."""
    nb = nbformat.from_dict(nb)  # never touch the caller's notebook
    name = kernel_name or nb.metadata.get("kernelspec", {}).get("name") or "python3"
    sockets = tempfile.mkdtemp(prefix="docgen-kernel-")
    try:
        km = AsyncKernelManager(kernel_name=name, transport="ipc", ip=os.path.join(sockets, "k"))
        client = _Client(
            nb,
            km=km,
            timeout=timeout,
            kernel_name=name,
            allow_errors=False,
            record_timing=False,
            shutdown_kernel="immediate",
            iopub_timeout=10,
            resources={"metadata": {"path": str(path.parent)}},
        )
        try:
            # docgen made the kernel manager, so nbclient would leave the kernel running:
            # cleanup_kc makes it shut the kernel down when the notebook is done.
            async with client.async_setup_kernel(
                cleanup_kc=True, cwd=str(path.parent), env=kernel_env(env)
            ):
                await client.run_cells(path, on_cell)
        except NoSuchKernel as e:
            raise DocgenError(
                f"{path}: needs the Jupyter kernel '{name}', which is not installed here"
            ) from e
        except DeadKernelError as e:
            raise DocgenError(f"{path}: the kernel '{name}' died while starting: {e}") from e
        except RuntimeError as e:
            if "Kernel didn't respond" in str(e) or "Kernel died" in str(e):
                raise DocgenError(f"{path}: the kernel '{name}' did not start: {e}") from e
            raise
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    return nb


async def _run_all(
    jobs: Sequence[tuple[nbformat.NotebookNode, Path]],
    timeout: int,
    workers: int,
    kernel_name: str,
    on_done: Callable[[Path, ExecutionResult], None] | None,
) -> list[ExecutionResult]:
    limit = asyncio.Semaphore(max(1, workers))

    async def one(nb: nbformat.NotebookNode, path: Path) -> ExecutionResult:
        async with limit:
            start = time.perf_counter()
            try:
                executed = await execute_notebook_async(nb, path, timeout, kernel_name)
                result = ExecutionResult(executed, time.perf_counter() - start)
            except DocgenError as e:
                result = ExecutionResult(None, time.perf_counter() - start, str(e))
            if on_done:
                on_done(path, result)
            return result

    return list(await asyncio.gather(*(one(nb, path) for nb, path in jobs)))


def execute_notebooks(
    jobs: Sequence[tuple[nbformat.NotebookNode, Path]],
    timeout: int,
    workers: int = 1,
    kernel_name: str = "",
    on_done: Callable[[Path, ExecutionResult], None] | None = None,
) -> list[ExecutionResult]:
    """Run every (notebook, path) job, `workers` at a time; results keep the jobs' order.

    A failing notebook does not stop the others: its result carries the error message.
    """
    return asyncio.run(_run_all(jobs, timeout, workers, kernel_name, on_done))
