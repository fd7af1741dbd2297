"""The zygote: a process that imports the preload modules once, then forks a kernel per notebook.

This file is a program, run by the kernel's own Python (`python zygote.py`), which may not
have docgen installed: it imports nothing but the standard library until told what to preload.
docgen's side is launcher.py. The conversation is JSON lines: requests on stdin, answers and
events on stdout.

    <- {"preload": ["torch", ...], "optional": ["pandas", ...]}      (first line)
    -> {"ready": true, "skipped": [...], "files": [...]}                (its modules' files)
       or  {"ready": false, "module": ..., "problem": ...}
    <- {"id": 1, "argv": [...], "cwd": "...", "env": {...}}          (one per kernel)
    -> {"id": 1, "pid": 1234}  or  {"id": 1, "error": "..."}
    -> {"exited": 1234, "status": -9}                                 (as each child ends)

Forking is only safe with one thread and no ZeroMQ context, so the zygote checks both after
preloading, and that CUDA was not initialised (a CUDA context does not survive fork); any of
these, or a `preload` module that fails to import, ends it with `ready: false` and a
`problem` that names the module, and docgen starts kernels the ordinary way. Optional
modules (the notebooks' own first-cell imports) that fail to import are skipped; docgen starts
a new zygote without one that makes forking unsafe.

Each child starts a session of its own (its kernel's process group, as jupyter-client's
launch gives it), asks to be killed when the zygote dies (PR_SET_PDEATHSIG), and becomes an
ipykernel with its own connection file, working directory, environment and `sys.path[0]`.
The zygote reaps its children and reports each exit status; when docgen closes stdin or
dies (the zygote has PR_SET_PDEATHSIG too), it kills every child and exits.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import select
import signal
import sys
import threading
import traceback
import types

_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """SIGKILL this process when its parent dies; exits at once if it has died already."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)


def _send(out: int, message: dict) -> None:
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(out, data) :]


def _import(name: str) -> str:
    """'' when `name` imports, else the error in one line."""
    try:
        __import__(name)
    except BaseException as e:  # a preload may raise anything, SystemExit included
        return f"{type(e).__name__}: {e}".splitlines()[0][:300]
    return ""


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t is not threading.main_thread()]


def _fork_problem(module: str) -> str:
    """Why forking after importing `module` would not be safe, or ''."""
    if _threads():
        return f"importing {module} started threads ({', '.join(_threads())})"
    zmq = sys.modules.get("zmq")
    if zmq is not None and getattr(getattr(zmq, "Context", None), "_instance", None) is not None:
        return f"importing {module} created a ZeroMQ context"
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            initialised = bool(torch.cuda.is_initialized())
        except Exception:  # a torch without CUDA support, or a stand-in
            initialised = False
        if initialised:
            return f"importing {module} initialised CUDA, which a forked kernel cannot use"
    return ""


_KERNEL_MODULES = ("ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger")


def preload(required: list[str], optional: list[str]) -> dict:
    """Import the modules; the answer docgen reads (see the module's doc). Optional modules
    come last, so that one the zygote cannot fork after can be left out on a second try."""
    skipped: list[str] = []
    # ipykernel first: every child needs it, and it is what a kernel spends its start on.
    # The kernel's own modules too, which it would import as it starts (its debugger brings
    # debugpy: 0.1 s of each kernel's start); an ipykernel without them does without.
    for name in ["ipykernel.kernelapp", *_KERNEL_MODULES, *required, *optional]:
        is_optional = name in optional and name not in required
        error = _import(name)
        if error and name in _KERNEL_MODULES:
            continue
        if error and is_optional:
            skipped.append(name)
            continue
        problem = f"importing {name}: {error}" if error else _fork_problem(name)
        if problem:
            return {"ready": False, "module": name, "optional": is_optional, "problem": problem}
    return {"ready": True, "skipped": skipped, "problem": "", "files": _module_files()}


def _module_files() -> list[str]:
    """The files the imported modules were read from: a zygote kept between builds is stale
    once one of them changes (see serve/kernels.py)."""
    files = {getattr(m, "__file__", None) for m in list(sys.modules.values())}
    return sorted(f for f in files if isinstance(f, str))


def _quick_flush_streams() -> list[str]:
    """The ipykernel option that gives the kernel output streams whose `flush()` returns at
    once when nothing was written since the last one; [] where ipykernel's stream differs.

    ipykernel flushes stdout and stderr twice each after every cell, each time waking its
    IOPub thread and waiting for it: with nothing to send, about 1 ms per cell. Output still
    reaches docgen in order: it reads a cell's output until the kernel's idle status, which
    the same thread sends after anything flushed earlier.
    """
    try:
        from ipykernel import iostream
    except ImportError:
        return []
    base = getattr(iostream, "OutStream", None)
    if base is None or not callable(getattr(base, "flush", None)):
        return []

    class OutStream(base):  # type: ignore[misc, valid-type]
        def flush(self) -> None:
            # A write sets one of these until its flush starts; an unknown ipykernel
            # without them gets its own flush.
            if getattr(self, "_flush_pending", True) or getattr(
                self, "_subprocess_flush_pending", True
            ):
                return super().flush()
            if getattr(self, "echo", None) is not None:
                self.echo.flush()

    module = types.ModuleType("docgen_kernel_streams")
    OutStream.__module__, OutStream.__qualname__ = module.__name__, "OutStream"
    module.OutStream = OutStream  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    return [f"--IPKernelApp.outstream_class={module.__name__}.OutStream"]


def _quiet_debug_log(app: object) -> None:
    """Raise the kernel's logger to the level its handlers print at: traitlets leaves it at
    DEBUG and lets the handlers drop what is below, so each of the debug messages
    ipykernel logs for every request (several per cell) is made and thrown away."""
    log = getattr(app, "log", None)
    levels = [h.level for h in getattr(log, "handlers", [])]
    if log is not None and levels and min(levels) > log.level:
        log.setLevel(min(levels))


def _become_kernel(zygote: int, request: dict, keep: int, own: list[int]) -> None:
    """In the child: turn into the ipykernel `request` describes. Never returns."""
    code = 1
    try:
        from ipykernel import kernelapp  # imported already, by `preload`

        os.setsid()
        _die_with_parent(zygote)
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(signum, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(keep, 1)  # the kernel's own stdout goes where docgen's stderr goes
        # Only the zygote's own descriptors: a preloaded module may hold some of its own.
        for fd in {null, keep, *own}:
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        # The zygote is the parent whose death ends the kernel (ipykernel's parent poller);
        # ipykernel read the variable when the zygote imported it, hence the option too.
        os.environ.update({**request["env"], "JPY_PARENT_PID": str(zygote)})
        argv = [
            *request["argv"],
            f"--IPKernelApp.parent_handle={zygote}",
            *_quick_flush_streams(),
        ]
        launcher = os.path.join(
            os.path.dirname(os.path.dirname(kernelapp.__file__)), "ipykernel_launcher.py"
        )
        sys.argv = [launcher, *argv]  # as `python -m ipykernel_launcher` sets it
        numpy = sys.modules.get("numpy")
        if numpy is not None:  # a fresh kernel draws a fresh seed; forked ones share one
            numpy.random.seed()
        app = kernelapp.IPKernelApp.instance()  # as launch_new_instance() does
        app.initialize()
        _quiet_debug_log(app)
        app.start()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _reap(out: int, children: set[int]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            children.clear()
            return
        if pid == 0:
            return
        children.discard(pid)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        _send(out, {"exited": pid, "status": code})


def _kill_all(children: set[int]) -> None:
    for pid in children:
        try:
            os.killpg(pid, signal.SIGKILL)  # each child leads its own group...
        except OSError:
            try:
                os.kill(pid, signal.SIGKILL)  # ...once it has called setsid()
            except OSError:
                pass
    for pid in list(children):
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


def serve(requests: int, out: int) -> None:
    """Answer fork requests until stdin closes; then kill the children and return."""
    zygote = os.getpid()
    keep = os.dup(2)
    wakeup_r, wakeup_w = os.pipe()
    os.set_blocking(wakeup_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wakeup_w)
    children: set[int] = set()
    buffer = b""
    try:
        while True:
            try:
                readable, _, _ = select.select([requests, wakeup_r], [], [])
            except InterruptedError:
                continue
            if wakeup_r in readable:
                os.read(wakeup_r, 4096)
            _reap(out, children)
            if requests not in readable:
                continue
            chunk = os.read(requests, 65536)
            if not chunk:
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                request = json.loads(line)
                try:
                    pid = os.fork()
                except OSError as e:
                    _send(out, {"id": request["id"], "error": str(e)})
                    continue
                if pid == 0:
                    _become_kernel(zygote, request, keep, [out, wakeup_r, wakeup_w])
                children.add(pid)
                _send(out, {"id": request["id"], "pid": pid})
    finally:
        signal.set_wakeup_fd(-1)
        _kill_all(children)


def main() -> None:
    # Python put this file's folder first on the path; a kernel would not have it.
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]
    _die_with_parent(int(sys.argv[1]))
    # A Ctrl-C in the terminal is docgen's to handle: it stops the kernels, then closes stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests, out = 0, os.dup(1)
    os.dup2(2, 1)  # what a preload prints must not break the conversation
    setup = json.loads(sys.stdin.buffer.readline() or b"{}")
    answer = preload(list(setup.get("preload", [])), list(setup.get("optional", [])))
    _send(out, answer)
    if answer["ready"]:
        # What is imported now is shared by every kernel: keep the collector from touching
        # (and so copying) those pages in each child.
        gc.freeze()
        serve(requests, out)


if __name__ == "__main__":
    main()
