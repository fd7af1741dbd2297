"""Per-cell cost on an idle kernel: what one `pass` cell costs through each layer.

Run by `bench/exec.py --runners` (or alone: `python bench/exec_cells.py`). All in one run,
interleaved, best of `rounds` (noise only ever adds):

- a stock ipykernel, started the way jupyter-client starts any kernel, driven by a bare
  jupyter-client loop (send, wait for the reply and the idle status): the protocol's cost;
- docgen's kernel (forked from a zygote, with docgen's kernel options), the same bare loop;
- docgen's kernel through nbclient, and through docgen's own loop (kernel.run);
- for reference, IPython's `InteractiveShell.run_cell` in-process, with no kernel: what an
  in-process runner such as nbdev-test pays.

Goals (issue 13): docgen's loop within 1 ms per cell of the bare loop on the same kernel
(docgen's own part); and, for the whole per-cell cost on an idle kernel, 1 ms.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nbformat.v4 import new_code_cell, new_notebook

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

OWN_GOAL_MS = 1.0  # docgen's loop over the bare loop, on the same kernel
TOTAL_GOAL_MS = 1.0  # a cell's whole cost on an idle kernel

IN_PROCESS = """
import sys, time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
cells, rounds = int(sys.argv[1]), int(sys.argv[2])
for _ in range(30):
    shell.run_cell("pass", store_history=True)
best = float("inf")
for _ in range(rounds):
    start = time.perf_counter()
    for _ in range(cells):
        shell.run_cell("pass", store_history=True)
    best = min(best, time.perf_counter() - start)
print(best)
"""


async def bare_loop(kc, cells: int) -> None:  # type: ignore[no-untyped-def]
    """Send `pass`, wait for the reply and the idle status: the protocol's own cost."""
    for _ in range(cells):
        msg_id = kc.execute("pass")
        replied = idle = False
        while not replied:
            reply = await kc.get_shell_msg(timeout=10)
            replied = reply["parent_header"].get("msg_id") == msg_id
        while not idle:
            msg = await kc.get_iopub_msg(timeout=10)
            idle = (
                msg["parent_header"].get("msg_id") == msg_id
                and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"
            )


async def _stock_kernel():  # type: ignore[no-untyped-def]
    from jupyter_client.manager import AsyncKernelManager

    km = AsyncKernelManager(kernel_name="python3")
    await km.start_kernel(stderr=subprocess.DEVNULL)  # its warning about TCP
    kc = km.client()
    kc.start_channels()
    await kc.wait_for_ready(timeout=60)
    return km, kc


async def _measure(cells: int, rounds: int) -> dict[str, float]:
    from nbclient import NotebookClient

    from docgen.execute.kernel import Kernel
    from docgen.execute.launcher import Zygotes

    zygotes = Zygotes((), [], lambda message: print(f"  warning: {message}"), True)
    kernel = Kernel("python3", Path(tempfile.gettempdir()) / "bench.ipynb", {}, zygotes=zygotes)
    await kernel.start()
    assert getattr(kernel.km.provisioner, "forked", False), "docgen's kernel was not forked"
    stock_km, stock_kc = await _stock_kernel()
    labels = [
        "stock ipykernel, bare jupyter-client loop",
        "docgen's kernel, bare jupyter-client loop",
        "docgen's kernel, nbclient",
        "docgen's kernel, docgen's loop",
    ]
    best = dict.fromkeys(labels, float("inf"))
    nb = new_notebook(cells=[new_code_cell("pass") for _ in range(cells)])

    async def timed(label: str, run) -> None:  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        await run
        best[label] = min(best[label], time.perf_counter() - start)

    try:
        await bare_loop(stock_kc, 30)
        await bare_loop(kernel.kc, 30)
        for _ in range(rounds):
            await timed(labels[0], bare_loop(stock_kc, cells))
            await timed(labels[1], bare_loop(kernel.kc, cells))
            client = NotebookClient(nb, km=kernel.km, timeout=60)
            client.kc = kernel.kc  # as docgen's loop does: the kernel is ready already
            await timed(labels[2], client.async_execute())
            await timed(labels[3], kernel.run(nb, 60, lambda index: None))
    finally:
        stock_kc.stop_channels()
        await stock_km.shutdown_kernel(now=True)
        await kernel.shutdown()
        zygotes.close()
    return {label: 1000 * seconds / cells for label, seconds in best.items()}


def in_process_ms(python: str, cells: int, rounds: int) -> float:
    done = subprocess.run(
        [python, "-c", IN_PROCESS, str(cells), str(rounds)],
        capture_output=True,
        text=True,
        check=True,
    )
    return 1000 * float(done.stdout.split()[-1]) / cells


def per_cell_overhead(cells: int = 300, rounds: int = 5) -> None:
    print(f"per-cell cost on an idle kernel ({cells} `pass` cells, best of {rounds}):")
    figures = asyncio.run(_measure(cells, rounds))
    figures["IPython run_cell in-process (no kernel)"] = in_process_ms(
        sys.executable, cells, rounds
    )
    bare = figures["docgen's kernel, bare jupyter-client loop"]
    for label, ms in figures.items():
        print(f"  {label:<44} {ms:7.2f} ms per cell")
    stock = figures["stock ipykernel, bare jupyter-client loop"]
    print(f"  docgen's kernel against the stock one: {bare - stock:+.2f} ms per cell")
    own = figures["docgen's kernel, docgen's loop"] - bare
    nbclient = figures["docgen's kernel, nbclient"] - bare
    verdict = "meets it" if own <= OWN_GOAL_MS else "misses it"
    print(
        f"  goal: docgen's loop within {OWN_GOAL_MS} ms of the bare loop: {own:+.2f} ms "
        f"({verdict}); nbclient's own: {nbclient:+.2f} ms"
    )
    total = figures["docgen's kernel, docgen's loop"]
    verdict = "meets it" if total <= TOTAL_GOAL_MS else "misses it"
    print(f"  goal: a cell's whole cost within {TOTAL_GOAL_MS} ms: {total:.2f} ms ({verdict})")


if __name__ == "__main__":
    per_cell_overhead()
