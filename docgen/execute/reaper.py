"""Every process a notebook starts ends with its kernel.

Killing a kernel's process group misses what a cell detached from it:
`Popen(..., start_new_session=True)`, or a daemon's double fork and `os.setsid()`. So on Linux
docgen becomes a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`): such orphans are
re-parented to docgen instead of to init, where it can still find them. A process belongs
to a kernel when it carries the kernel's token in its environment (children inherit it), or
when it was seen below the kernel (`Reaper.record`, called regularly and before shutdown).
When the kernel ends, all of them are killed with their descendants; when the pool closes,
the orphans that came back to docgen unattributed (a child started with an empty
environment, say) are killed too. Docgen reaps the zombies of the processes it killed,
and only those: the kernels' own exit statuses belong to jupyter-client.

Without /proc or prctl (macOS), the fallback is the kernel's process group, which holds
everything a cell starts unless it calls `os.setsid()` itself.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

TOKEN_VARIABLE = "DOCGEN_KERNEL"
_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
_PROC = Path("/proc")


@dataclass(frozen=True)
class Proc:
    """One process as /proc/PID/stat shows it."""

    pid: int
    ppid: int
    sid: int
    zombie: bool
    start: int  # clock ticks after boot: with the pid, it names one process for its lifetime

    @property
    def key(self) -> tuple[int, int]:
        return (self.pid, self.start)


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
        return prctl
    except (OSError, AttributeError):
        return None


def is_subreaper() -> bool:
    """Whether orphaned descendants of this process are re-parented to it."""
    prctl = _prctl()
    value = ctypes.c_int(0)
    if prctl is None or prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(value)) != 0:
        return False
    return value.value != 0


def become_subreaper() -> bool:
    """Make this process the subreaper of its descendants, once; False where it cannot be."""
    if is_subreaper():
        return True  # the flag lives as long as the process: later builds find it set
    prctl = _prctl()
    return prctl is not None and prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def _read_proc(pid: int) -> Proc | None:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:  # gone already
        return None
    # The command name is in parentheses and may hold anything, spaces and ')' included.
    fields = stat.rpartition(")")[2].split()
    try:
        return Proc(pid, int(fields[1]), int(fields[3]), fields[0] == "Z", int(fields[19]))
    except (IndexError, ValueError):
        return None


def processes() -> dict[int, Proc]:
    """Every process this one can see, by pid; {} where there is no /proc."""
    try:
        names = os.listdir(_PROC)
    except OSError:
        return {}
    found = {}
    for name in names:
        if name.isdigit() and (proc := _read_proc(int(name))) is not None:
            found[proc.pid] = proc
    return found


def descendants(procs: dict[int, Proc], roots: Iterable[int]) -> set[int]:
    """The pids below `roots` (not the roots themselves)."""
    children: dict[int, list[int]] = {}
    for proc in procs.values():
        children.setdefault(proc.ppid, []).append(proc.pid)
    found: set[int] = set()
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _carries(pid: int, entry: bytes) -> bool:
    try:
        return entry in (_PROC / str(pid) / "environ").read_bytes().split(b"\0")
    except OSError:  # gone, or not ours to read
        return False


def _uptime_ticks() -> int:
    try:
        seconds = float((_PROC / "uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return int(seconds * os.sysconf("SC_CLK_TCK"))


class Reaper:
    """The processes of one pool's kernels, found, killed and reaped.

    One per pool: `watch` each kernel once it runs, `record` now and then, `end` each kernel
    after it is shut down, and `close` when the pool is done.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.sid = os.getsid(0) if hasattr(os, "getsid") else 0
        self.subreaper = become_subreaper()
        self.since = _uptime_ticks()  # orphans started before the pool are not the pool's
        self.before = {p.key for p in processes().values() if p.ppid == self.pid}
        self.kernels: dict[str, int] = {}  # token -> kernel pid
        self.roots: set[tuple[int, int]] = set()  # kernels: jupyter-client waits for them
        self.seen: dict[str, set[tuple[int, int]]] = {}  # token -> processes seen below it
        self.killed: set[tuple[int, int]] = set()  # to reap once they come back to us

    def watch(self, token: str, pid: int) -> None:
        self.kernels[token] = pid
        self.seen.setdefault(token, set())
        proc = _read_proc(pid)
        if proc is not None:
            self.roots.add(proc.key)

    def spare(self, pids: Iterable[int]) -> None:
        """Never take these children for the pool's orphans: they outlive it (a kept zygote)."""
        procs = processes()
        self.before |= {procs[p].key for p in pids if p in procs}

    def record(self) -> None:
        """Note every process now below a live kernel, for when it has left the tree."""
        if not self.kernels:
            return
        procs = processes()
        for token, pid in self.kernels.items():
            self.seen[token].update(procs[p].key for p in descendants(procs, [pid]))

    def end(self, token: str) -> None:
        """Kill every process that belongs to the kernel of `token`, then reap what it can."""
        pid = self.kernels.pop(token, None)
        procs = processes()
        if not procs:  # no /proc: the process group is what there is
            if pid is not None:
                _kill_group(pid)
            return
        entry = f"{TOKEN_VARIABLE}={token}".encode()
        seen = self.seen.pop(token, set())
        # Those that ended by themselves and came back to us still need reaping.
        self.killed |= {k for k in seen if (p := procs.get(k[0])) and p.key == k and p.zombie}
        for _ in range(5):  # a process may fork while its family is being killed
            candidates = descendants(procs, [self.pid]) if self.subreaper else set(procs)
            targets = {p for p in candidates if not procs[p].zombie and _carries(p, entry)}
            targets |= {p for p, start in seen if p in procs and procs[p].start == start}
            if pid is not None and pid in procs and procs[pid].key in self.roots:
                targets.add(pid)  # a kernel that outlived its shutdown
            if not self._kill(procs, targets):
                break
            time.sleep(0.01)
            procs = processes()
        self._reap(procs)

    def close(self, timeout: float = 2.0) -> None:
        """End every kernel still watched, then the orphans that came back to this process.

        An orphan is a child of this process, in a session of its own, started after the
        pool: not a kernel, and not a child the caller started in this process's session.
        """
        for token in list(self.kernels):
            self.end(token)
        procs = processes()
        if self.subreaper and procs:
            orphans = {
                p.pid
                for p in procs.values()
                if p.ppid == self.pid
                and p.sid != self.sid
                and p.start >= self.since
                and p.key not in self.before | self.roots
            }
            self.killed |= {procs[p].key for p in orphans if procs[p].zombie}
            self._kill(procs, {p for p in orphans if not procs[p].zombie})
        deadline = time.monotonic() + timeout
        while True:
            procs = processes()
            self._reap(procs)
            waiting = [k for k in self.killed if k[0] in procs and procs[k[0]].start == k[1]]
            if not waiting or time.monotonic() > deadline:
                return
            time.sleep(0.02)

    def _kill(self, procs: dict[int, Proc], targets: set[int]) -> bool:
        """SIGKILL `targets` and everything below them; False when none was new."""
        targets = targets | descendants(procs, targets)
        targets -= {self.pid, *(p for p in targets if procs[p].zombie)}
        new = False
        for pid in targets:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:  # gone already, or never ours to kill
                continue
            key = procs[pid].key
            new = new or key not in self.killed
            if key not in self.roots:  # jupyter-client reaps the kernels it started
                self.killed.add(key)
        return new

    def _reap(self, procs: dict[int, Proc]) -> None:
        """waitpid the zombies of killed processes that came back to us, and no other pid."""
        for key in list(self.killed):
            proc = procs.get(key[0])
            if proc is None or proc.start != key[1]:
                self.killed.discard(key)  # reaped by someone, or by init
            elif proc.zombie and proc.ppid == self.pid and key not in self.roots:
                try:
                    # A zombie keeps its pid until its parent (we) reaps it: no reuse here.
                    os.waitpid(proc.pid, os.WNOHANG)
                except ChildProcessError:
                    pass
                self.killed.discard(key)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)  # kernels start as leaders of their own group
    except OSError:
        pass
