"""What runs notebooks, as the execute stage sees it: jobs in, one result per job out.

The stage (stage.py) decides which notebooks run; an `Executor` runs them and tells a
`Listener` about each as it starts, moves through its cells and finishes. The local pool
(pool.py) is one executor; another (a cluster, one shard of a CI matrix) only has to
implement `run`. Everything here is plain data, so results can cross a process boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from docgen.execute.gpus import Gpu
from docgen.model import Status

if TYPE_CHECKING:
    import nbformat


@dataclass(frozen=True)
class Job:
    """One notebook to run top to bottom in a fresh kernel."""

    nb: nbformat.NotebookNode
    path: Path  # the source notebook: the kernel starts in its folder, errors name it
    kernel_name: str
    # Whether it waits for its turn on a GPU, on a machine that has GPUs: it says it needs
    # one, used one in its latest run there, or has never run there (plan.py).
    uses_gpu: bool = True


@dataclass(frozen=True)
class ExecutionResult:
    """An executed copy of a notebook, or the reason it failed (`error`, a whole message)."""

    nb: nbformat.NotebookNode | None
    duration: float  # seconds its cells ran
    error: str | None = None
    kernel_wait: float = 0.0  # seconds between its turn and its kernel being ready
    gpu: Gpu | None = None
    kernel_info: dict[str, Any] = field(default_factory=dict)  # see kernel.Kernel.describe
    finished: str = ""  # UTC, ISO 8601
    warnings: tuple[str, ...] = ()
    # The cache key computed where it ran, when another machine ran it (None: the plan's).
    key: str | None = None
    # Where another machine ran it: worker name, address, host, environment digest.
    worker: dict[str, str] = field(default_factory=dict)


class Listener(Protocol):
    """What a progress display hears from the stage and its executor."""

    def started(self, path: Path) -> None: ...
    def cell(self, path: Path, index: int, count: int) -> None: ...
    def finished(self, path: Path, status: Status, seconds: float) -> None: ...
    def warn(self, message: str) -> None: ...


class Silent:
    """A listener that ignores everything."""

    def started(self, path: Path) -> None:
        pass

    def cell(self, path: Path, index: int, count: int) -> None:
        pass

    def finished(self, path: Path, status: Status, seconds: float) -> None:
        pass

    def warn(self, message: str) -> None:
        pass


class Executor(Protocol):
    """Runs jobs, telling `listener` about each as it goes.

    The stage hands over the jobs longest first (schedule.py): an executor that starts
    them in the order given finishes sooner. Returns one result per job, in the jobs'
    order; a job that fails has a result with its `error` and does not stop the others.
    `listener.finished` is called with `Status.RAN` or `Status.FAILED` for each job as it
    ends, in whatever order they end.
    Raises `Interrupted` when the run is stopped by a signal, after stopping every kernel.
    """

    def run(self, jobs: Sequence[Job], listener: Listener) -> list[ExecutionResult]: ...
