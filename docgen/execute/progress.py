"""Progress of the execute stage: a live display on a terminal, plain lines elsewhere.

`PlainProgress` writes one line per notebook (CI logs stay readable). `LiveProgress`
redraws a few lines in place with ANSI escapes: notebooks done, running, failed and reused
from the cache, and for each running notebook the cell it is in.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from docgen.model import Status

Log = Callable[[str], None]


class PlainProgress:
    """One line per notebook, through `log`."""

    def __init__(self, log: Log, root: Path | None = None):
        self.log = log
        self.root = root

    def _name(self, path: Path) -> str:
        if self.root is not None and path.is_relative_to(self.root):
            return path.relative_to(self.root).as_posix()
        return str(path)

    def started(self, path: Path) -> None:
        pass

    def cell(self, path: Path, index: int, count: int) -> None:
        pass

    def finished(self, path: Path, status: Status, seconds: float) -> None:
        name = self._name(path)
        lines = {
            Status.RAN: f"ran {name} in {seconds:.1f} s",
            Status.FAILED: f"failed {name} after {seconds:.1f} s",
            Status.CACHED: f"cached {name}",
            Status.GPU_OUTPUTS: f"kept the outputs of a GPU run for {name}",
            Status.NOT_RUN: f"not run (needs a GPU) {name}",
            Status.EXCLUDED: f"not run (excluded in [tool.docgen.execute]) {name}",
            Status.HELD: f"not run in this preview {name}",
        }
        self.log(lines.get(status, f"{status} {name}"))

    def warn(self, message: str) -> None:
        self.log(f"warning: {message}")

    def close(self) -> None:
        pass


class LiveProgress(PlainProgress):
    """A status block redrawn in place, a few times a second, on a terminal."""

    def __init__(self, stream: TextIO = sys.stderr, root: Path | None = None, fps: float = 8):
        super().__init__(self._print_above, root)
        self.stream = stream
        self.counts = {"done": 0, "failed": 0, "cached": 0}
        self.running: dict[Path, tuple[float, str]] = {}  # path -> (start, where)
        self._drawn = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, args=(1 / fps,), daemon=True)
        self._ticker.start()

    def _tick(self, every: float) -> None:
        while not self._stop.wait(every):
            with self._lock:
                self._redraw()

    def lines(self, now: float) -> list[str]:
        c = self.counts
        head = (
            f"notebooks: {c['done']} done, {len(self.running)} running, {c['failed']} failed, "
            f"{c['cached']} from the cache"
        )
        body = [
            f"  {self._name(path)}  {where}  {now - start:.0f} s"
            for path, (start, where) in sorted(self.running.items())
        ]
        return [head, *body]

    def _redraw(self) -> None:
        erase = f"\x1b[{self._drawn}F\x1b[J" if self._drawn else ""
        lines = self.lines(time.monotonic())
        self.stream.write(erase + "".join(line[:160] + "\n" for line in lines))
        self.stream.flush()
        self._drawn = len(lines)

    def _print_above(self, message: str) -> None:
        # Called with the lock held: erase the block, print, and let the next redraw follow.
        if self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0
        self.stream.write(message + "\n")

    def started(self, path: Path) -> None:
        with self._lock:
            self.running[path] = (time.monotonic(), "starting")

    def cell(self, path: Path, index: int, count: int) -> None:
        with self._lock:
            start = self.running.get(path, (time.monotonic(), ""))[0]
            self.running[path] = (start, f"cell {index + 1}/{count}")

    def finished(self, path: Path, status: Status, seconds: float) -> None:
        with self._lock:
            self.running.pop(path, None)
            key = {Status.FAILED: "failed", Status.CACHED: "cached"}.get(status, "done")
            self.counts[key] += 1
            if status is Status.FAILED:
                super().finished(path, status, seconds)
            self._redraw()

    def warn(self, message: str) -> None:
        with self._lock:
            super().warn(message)
            self._redraw()

    def close(self) -> None:
        self._stop.set()
        self._ticker.join()
        with self._lock:
            self._redraw()
