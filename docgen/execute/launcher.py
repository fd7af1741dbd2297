"""Kernels forked from a zygote: docgen's side of zygote.py.

A kernel's start is mostly imports: IPython, ipykernel, and then the notebook's own (torch,
pandas, the documented library). `Zygotes` starts one zygote per kernel command and
environment, which imports all that once; each kernel is then a fork (`os.fork`) of it, ready in a
fraction of the time, and still a process of its own with a fresh namespace: what a notebook
changes (globals, a patched module, the working directory) dies with its kernel.

jupyter-client starts kernels through a provisioner; `ForkProvisioner` is its local one with
the launch replaced, so everything else (connection files, shutdown, signals) is unchanged.
`ForkedProcess` stands in for the `Popen` of a kernel the zygote, not docgen, is the parent
of: the zygote reports each child's exit, so a kernel killed mid-cell is seen (`poll`) and
its exit status reported like any other. Where the zygote cannot serve (no fork on this
platform, a kernel that is not ipykernel, a `preload` module that fails, initialises CUDA or
starts threads), kernels start the ordinary way and the build is warned once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

from docgen.execute.reaper import TOKEN_VARIABLE

PROGRAM = str(Path(__file__).with_name("zygote.py"))
READY_TIMEOUT = 300  # seconds to import the preload modules (torch on a loaded machine)
# Set per kernel after the fork: they do not decide which zygote serves it.
PER_KERNEL = frozenset({TOKEN_VARIABLE, "CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER"})
FORK_TIMEOUT = 60
_KERNEL_MODULES = ("ipykernel_launcher", "ipykernel")


def can_fork(platform: str) -> bool:
    """Whether kernels can be forked here: Linux (fork, and children that die with the zygote)."""
    return platform.startswith("linux") and hasattr(os, "fork")


def split_kernel_command(cmd: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """(interpreter and its options, the kernel's arguments) of `python [opts] -m
    ipykernel_launcher ARGS`; None for any other kernel command."""
    for i, arg in enumerate(cmd[1:], start=1):
        if arg == "-m":
            if i + 1 < len(cmd) and cmd[i + 1] in _KERNEL_MODULES:
                return list(cmd[:i]), list(cmd[i + 2 :])
            return None
        if not arg.startswith("-"):
            return None
    return None


class ForkedProcess:
    """The `Popen` of a kernel forked by a zygote (which reaps it and reports its status)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, zygote: Zygote) -> None:
        self.pid = pid
        self.zygote = zygote
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.zygote.exit_status(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        with self.zygote.changed:
            if not self.zygote.changed.wait_for(lambda: self.poll() is not None, timeout):
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def _reap_orphan(pid: int) -> None:
    """waitpid `pid` if it is a zombie whose parent is now this process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return
    if fields[0] == "Z" and int(fields[1]) == os.getpid():
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


class Zygote:
    """One zygote process: started, asked for kernels, and closed."""

    def __init__(self, python: list[str], env: Mapping[str, str], cwd: str) -> None:
        self.process = subprocess.Popen(
            [*python, PROGRAM, str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,  # the terminal's Ctrl-C is docgen's to handle
        )
        self.changed = threading.Condition()
        self.exited: dict[int, int] = {}
        self.answers: dict[int, dict[str, Any]] = {}
        self.ready: dict[str, Any] | None = None
        self.dead = False
        self._ids = 0
        self._write = threading.Lock()
        self._reader = threading.Thread(target=self._read, name="docgen-zygote", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        out: IO[bytes] | None = self.process.stdout
        assert out is not None
        for line in out:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            with self.changed:
                if "exited" in message:
                    self.exited[int(message["exited"])] = int(message["status"])
                elif "id" in message:
                    self.answers[int(message["id"])] = message
                else:
                    self.ready = message
                self.changed.notify_all()
        with self.changed:
            self.dead = True
            self.changed.notify_all()

    def _send(self, message: dict[str, Any]) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        with self._write:
            stdin.write((json.dumps(message) + "\n").encode())
            stdin.flush()

    def _wait(self, done: Callable[[], bool], timeout: float | None) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: done() or self.dead, timeout)

    async def preload(self, required: Sequence[str], optional: Sequence[str]) -> dict[str, Any]:
        """The zygote's answer to its preload (see zygote.py); `problem` says why it can't serve."""
        try:
            self._send({"preload": list(required), "optional": list(optional)})
        except OSError as e:
            return {"ready": False, "problem": f"the zygote did not start: {e}"}
        finished = await asyncio.to_thread(
            self._wait, lambda: self.ready is not None, READY_TIMEOUT
        )
        if self.ready is None:
            self.kill()
            why = "it exited" if finished else f"it took over {READY_TIMEOUT} s"
            return {"ready": False, "problem": f"preloading failed: {why}"}
        return self.ready

    async def fork(self, argv: list[str], cwd: str, env: Mapping[str, str]) -> ForkedProcess:
        with self.changed:
            self._ids += 1
            ident = self._ids
        try:
            self._send({"id": ident, "argv": argv, "cwd": cwd, "env": dict(env)})
        except OSError as e:
            raise RuntimeError(f"the zygote is gone: {e}") from e
        await asyncio.to_thread(self._wait, lambda: ident in self.answers, FORK_TIMEOUT)
        answer = self.answers.pop(ident, None)
        if answer is None or "pid" not in answer:
            why = answer.get("error") if answer else "the zygote is gone"
            raise RuntimeError(f"forking a kernel failed: {why}")
        return ForkedProcess(int(answer["pid"]), self)

    def exit_status(self, pid: int) -> int | None:
        with self.changed:
            if pid in self.exited:
                return self.exited[pid]
            if not self.dead:
                return None
        # The zygote's children die with it (PR_SET_PDEATHSIG), and come back to docgen,
        # its subreaper (reaper.py), to be reaped.
        _reap_orphan(pid)
        return -signal.SIGKILL

    def close(self, timeout: float = 5.0) -> None:
        """Close its stdin: it kills its remaining kernels, reaps them and exits."""
        if self.process.stdin is not None:
            try:
                self.process.stdin.close()
            except OSError:
                pass
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._reader.join(timeout)
        if self.process.stdout is not None and not self._reader.is_alive():
            self.process.stdout.close()

    def kill(self) -> None:
        """SIGKILL it, without waiting for anything; its kernels die with it."""
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            pass


class Zygotes:
    """The zygotes of one pool run, one per kernel command and environment, started on demand.

    `preload` modules must import, `optional` ones (the notebooks' first-cell imports) may
    fail. `warn` hears, once per run, why kernels start without a zygote.
    """

    def __init__(
        self,
        preload: Sequence[str],
        optional: Sequence[str],
        warn: Callable[[str], None],
        enabled: bool = True,
        platform: str = sys.platform,
    ) -> None:
        self.preload = list(preload)
        self.optional = [m for m in optional if m not in preload]
        self.warn = warn
        self.enabled = enabled
        self.platform = platform
        self.started: dict[tuple[Any, ...], asyncio.Future[Zygote | None]] = {}
        self.zygotes: list[Zygote] = []
        self.warned = False
        self.stopping = False

    def provisioner(self, km: AsyncKernelManager) -> ForkProvisioner | None:
        """The provisioner for `km`'s kernel; None for a kernel spec that names its own."""
        spec = km.kernel_spec
        if spec is None or (spec.metadata or {}).get("kernel_provisioner"):
            return None
        provisioner = ForkProvisioner(
            kernel_id=km.kernel_id or str(uuid.uuid4()), kernel_spec=spec, parent=km
        )
        provisioner.zygotes = self
        return provisioner

    def _fall_back(self, message: str) -> None:
        if not self.warned and not self.stopping:  # an interrupt is no problem of the zygote
            self.warned = True
            self.warn(message)

    async def zygote_for(
        self, cmd: Sequence[str], env: Mapping[str, str], cwd: str
    ) -> tuple[Zygote, list[str]] | None:
        """The zygote for this kernel command and the kernel's arguments; None: launch it."""
        parts = split_kernel_command(cmd)
        if not self.enabled or parts is None:
            return None
        if not can_fork(self.platform):
            self._fall_back(
                f"kernels start one by one: forking them from a preloaded process needs Linux "
                f"(this is {self.platform})"
            )
            return None
        python, argv = parts
        base = {k: v for k, v in env.items() if k not in PER_KERNEL}
        key = (tuple(python), tuple(sorted(base.items())))
        if key not in self.started:
            future: asyncio.Future[Zygote | None] = asyncio.get_running_loop().create_future()
            self.started[key] = future
            try:
                future.set_result(await self._start(python, base, cwd))
            except BaseException:
                future.set_result(None)
                raise
        # Done already when it was started in the event loop of an earlier run (serve keeps
        # its zygotes): shield then hands it back as it is, without that loop.
        zygote = await asyncio.shield(self.started[key])
        if zygote is None:
            return None
        if zygote.dead:  # killed from outside: the notebooks left still get kernels
            self._fall_back("kernels start one by one: the zygote process has died")
            return None
        return zygote, argv

    async def _start(self, python: list[str], env: dict[str, str], cwd: str) -> Zygote | None:
        optional = list(self.optional)
        while True:
            try:
                zygote = Zygote(python, env, cwd)
            except OSError as e:
                self._fall_back(f"kernels start one by one: the zygote did not start: {e}")
                return None
            self.zygotes.append(zygote)
            answer = await zygote.preload(self.preload, optional)
            if answer.get("ready"):
                return zygote
            zygote.close()
            if answer.get("optional") and answer.get("module") in optional:
                # A first-cell import the zygote cannot fork after: the notebook imports it.
                optional.remove(answer["module"])
                continue
            self._fall_back(
                f"kernels start one by one, each importing `preload` itself: "
                f"{answer.get('problem') or 'the zygote failed'}. Check `preload` in "
                "[tool.docgen.execute], or set `fork_kernels = false` there."
            )
            return None

    def pids(self) -> list[int]:
        """The zygote processes running now."""
        return [z.process.pid for z in self.zygotes if z.process.poll() is None]

    def close(self) -> None:
        for zygote in self.zygotes:
            zygote.close()

    def kill(self) -> None:
        self.stopping = True
        for zygote in self.zygotes:
            zygote.kill()


class ForkProvisioner(LocalProvisioner):  # type: ignore[misc]
    """jupyter-client's local provisioner, launching kernels as forks of a zygote."""

    zygotes: Zygotes | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        env = kwargs.get("env") or dict(os.environ)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        found = await self.zygotes.zygote_for(cmd, env, cwd) if self.zygotes else None
        if found is None:
            return await super().launch_kernel(cmd, **kwargs)
        zygote, argv = found
        process = await zygote.fork(argv, cwd, env)
        self.process = process  # type: ignore[assignment]  # Popen's part of the interface
        self.pid = process.pid
        # The child leads its own group once it has called setsid(); until then a group
        # signal fails (ESRCH) and LocalProvisioner signals the process itself.
        self.pgid = self.pid
        self.cwd = cwd
        return self.connection_info

    @property
    def forked(self) -> bool:
        return isinstance(self.process, ForkedProcess)
