"""A notebook's code cells sent to an ipykernel in one request, run one after another there.

Run cell by cell, every cell is a round trip: docgen sends it, ipykernel's shell thread
hands it over, the kernel says busy, runs it, replies and says idle, and only then does the
next cell leave docgen. On a short cell that costs more than the cell. Here the cells go in
one silent request whose code is a small runner (`_RUNNER`, executed in a namespace of its
own, so the notebook's names stay untouched). For each cell it does what ipykernel does for
an execute request: it makes a request of that cell the parent of everything the cell
publishes, announces it (`execute_input`, with its execution count), runs it with the
kernel's own `do_execute` (IPython's `run_cell`: magics, top-level await, display hooks,
tracebacks, history, `post_execute` hooks such as matplotlib's), flushes its output and
says it is idle, with the reply's status, error name, value and traceback added. It stops
after a cell that failed and may not.

docgen reads those messages with nbclient's own `process_message`, so outputs, display
updates, `clear_output` and widget state come out as nbclient makes them, and raises what
nbclient raises: `CellExecutionError` for a cell that failed and may not,
`CellTimeoutError` for a cell over its timeout (counted from its `execute_input`),
`DeadKernelError` for a kernel that died. A kernel that cannot run the runner (not an
IPython kernel, or one too different) says so before any cell runs, and the caller runs the
notebook cell by cell instead.
"""

from __future__ import annotations

import json
import time
import uuid
from queue import Empty
from typing import Any

from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionComplete, CellExecutionError, DeadKernelError
from nbclient.util import run_hook

# Each cell the run sends: (index in the notebook, cell, may fail, its request's id).
Planned = tuple[int, Any, bool, str]
Cells = list[Planned]

# Runs in the kernel. `run` gets [[msg_id, code, may_fail], ...] and returns the number of
# cells it ran; it raises before running any if this kernel lacks what it needs. Before each
# cell it writes the cell's position into the file at `progress` (when given): a kernel that
# dies in a cell may take that cell's messages, and the last one's idle, with it.
_RUNNER = r"""
import os
import sys
from IPython import get_ipython


async def run(cells, progress=None):
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    for name in ("do_execute", "set_parent", "get_parent", "_publish_execute_input", "session"):
        if not hasattr(kernel, name):
            raise RuntimeError(f"the kernel has no {name}")
    ident = kernel._parent_ident["shell"]
    batch = kernel.get_parent("shell")
    ran = 0
    told = os.open(progress, os.O_WRONLY | os.O_CREAT, 0o600) if progress else None
    try:
        for msg_id, code, may_fail in cells:
            if told is not None:
                os.pwrite(told, b"%12d" % ran, 0)
            header = dict(batch["header"], msg_id=msg_id, msg_type="execute_request")
            content = {
                "code": code, "silent": False, "store_history": True,
                "user_expressions": {}, "allow_stdin": False, "stop_on_error": not may_fail,
            }
            parent = {
                "header": header, "msg_id": msg_id, "msg_type": "execute_request",
                "parent_header": {}, "metadata": {}, "content": content, "buffers": [],
            }
            kernel.set_parent(ident, parent, "shell")
            kernel._publish_execute_input(code, parent, kernel.execution_count)
            ran += 1
            try:
                reply = await kernel.do_execute(
                    code, False, store_history=True, user_expressions={}, allow_stdin=False
                )
            except KeyboardInterrupt:
                reply = {"status": "error", "ename": "KeyboardInterrupt", "evalue": "",
                         "traceback": []}
            for stream in (sys.stdout, sys.stderr):
                if stream is not None:
                    stream.flush()
            said = {key: reply.get(key) for key in ("status", "ename", "evalue", "traceback")}
            kernel.session.send(
                kernel.iopub_socket, "status",
                {"execution_state": "idle", "docgen_reply": said},
                parent=parent, ident=kernel._topic("status"),
            )
            if reply.get("status") != "ok" and not may_fail:
                break
    finally:
        kernel.set_parent(ident, batch, "shell")
        if told is not None:
            os.close(told)
    return ran
"""


def batch_code(cells: list[list[Any]], progress: str | None = None) -> str:
    """The request's code: the runner, defined in a namespace of its own, awaited on the
    cells (as JSON, so that any cell source survives)."""
    return (
        f"await (lambda ns: (exec({_RUNNER!r}, ns), ns['run'])[1])({{}})"
        f"(__import__('json').loads({json.dumps(cells)!r}), {progress!r})"
    )


def _runnable(client: NotebookClient) -> Cells:
    """(index, cell, may fail, request id) of each cell nbclient would run."""
    cells = []
    for index, cell in enumerate(client.nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        tags = cell.metadata.get("tags", [])
        if client.skip_cells_with_tag in tags:
            continue
        may_fail = (not client.force_raise_errors) and (
            client.allow_errors or "raises-exception" in tags
        )
        cells.append((index, cell, may_fail, f"docgen-cell-{uuid.uuid4().hex}"))
    return cells


async def _language_info(client: NotebookClient) -> None:
    """What nbclient's `async_execute` does first: the kernel's `language_info`."""
    kc: Any = client.kc
    reply = await client.async_wait_for_reply(kc.kernel_info())
    if reply is not None and "language_info" in reply["content"]:
        client.nb.metadata["language_info"] = reply["content"]["language_info"]


async def run_batched(client: NotebookClient, progress: str | None = None) -> bool:
    """Run `client.nb`'s cells in one request (see the module's doc), as `async_execute`
    would; False, with nothing run, when the kernel cannot run them so. `progress` is a
    file in a folder only docgen and the kernel use, for the runner to say which cell it is
    in."""
    kc: Any = client.kc
    client.reset_execution_trackers()
    await _language_info(client)
    cells = _runnable(client)
    for _, cell, _, _ in cells:
        if client.record_timing:
            cell["metadata"]["execution"] = {}
        cell.outputs = []
    if cells:
        request = [[msg_id, cell.source, may_fail] for _, cell, may_fail, msg_id in cells]
        batch_id = kc.execute(
            batch_code(request, progress), silent=True, store_history=False, allow_stdin=False
        )
        if not await _read(client, batch_id, cells, progress):
            return False
    client.set_widgets_metadata()
    return True


async def _read(
    client: NotebookClient, batch_id: str, cells: Cells, progress: str | None
) -> bool:
    """Read the run's messages into the cells until the last one is done; False when the
    runner could not start."""
    kc: Any = client.kc
    km: Any = client.km
    current, started = 0, time.monotonic()  # the cell running, and since when
    announced = 0  # cells the kernel said it started
    await _next_cell(client, cells[0])
    while current < len(cells):
        index, cell, may_fail, _ = cells[current]
        timeout = client._get_timeout(cell)
        left = 1.0 if timeout is None else started + timeout - time.monotonic()
        wait = max(0.0, min(1.0, left))
        try:
            msg = await kc.get_iopub_msg(timeout=wait)
        except Empty:
            if not await km.is_alive():
                died_in = _cell_in_progress(progress)
                if died_in is not None and current < died_in < len(cells):
                    await _next_cell(client, cells[died_in])  # its messages died with it
                raise DeadKernelError("Kernel died") from None
            if timeout is not None and time.monotonic() > started + timeout:
                await client._async_handle_timeout(timeout, cell)  # raises CellTimeoutError
            continue
        parent = msg["parent_header"].get("msg_id")
        if parent == batch_id:
            if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                return await _runner_stopped(client, batch_id, cells, current, announced)
            continue
        if parent != cells[current][3]:
            # An earlier request's late message, or one a thread an earlier cell started
            # sends with that cell's parent: nbclient, waiting on this cell, ignores both.
            continue
        if msg["msg_type"] == "execute_input":
            started = time.monotonic()
            announced += 1
        try:
            client.process_message(msg, cell, index)
        except CellExecutionComplete:
            cell["execution_count"] = client.code_cells_executed
            reply = msg["content"].get("docgen_reply") or {}
            if reply.get("status") == "error" and not may_fail:
                raise CellExecutionError.from_cell_and_msg(cell, reply) from None
            current += 1
            started = time.monotonic()
            if current < len(cells):
                await _next_cell(client, cells[current])
    return True


def _cell_in_progress(progress: str | None) -> int | None:
    """The position of the cell the runner last said it was starting, if it said so."""
    if progress is None:
        return None
    try:
        with open(progress, "rb") as told:
            return int(told.read(12))
    except (OSError, ValueError):
        return None


async def _next_cell(client: NotebookClient, planned: Planned) -> None:
    """Count the cell as running, as nbclient does when it sends one: the kernel goes on to
    it at once (and may die in it before its `execute_input` leaves)."""
    index, cell, _, _ = planned
    client.code_cells_executed += 1
    client.clear_before_next_output = False
    await run_hook(client.on_cell_execute, cell=cell, cell_index=index)


async def _runner_stopped(
    client: NotebookClient, batch_id: str, cells: Cells, done: int, announced: int
) -> bool:
    """The request ended with cells left: the runner could not start (False: no cell ran,
    so they can run one by one), or failed between cells (an error naming the cell after
    the last one done)."""
    reply = await client.async_wait_for_reply(batch_id)
    if announced == 0:
        return False
    content = (reply or {}).get("content", {})
    problem = f"{content.get('ename', '')}: {content.get('evalue', '')}".strip(": ")
    _, cell, _, _ = cells[done]
    raise CellExecutionError.from_cell_and_msg(
        cell,
        {
            "ename": content.get("ename", "RuntimeError"),
            "evalue": "docgen's cell runner stopped before this cell: "
            + (problem or "no reason given"),
            "traceback": content.get("traceback", []),
        },
    )
