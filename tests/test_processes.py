"""Real kernels: no process a notebook starts, and no temporary folder, outlives the build.

Cells start children that leave their kernel's process group: `Popen(start_new_session=True)`,
a double fork with `setsid()`, and one with an empty environment as well. Each child writes
its pid to a file and sleeps; after the build, however it ended, each must be gone, no
process naming the test's marker may be left, and the private TMPDIR must be as it was.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import live_processes, write_notebook

from docgen.config import load_config
from docgen.errors import BuildFailed
from docgen.execute.reaper import Reaper, is_subreaper
from docgen.pipeline import build

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc"),
]

# Sleeps in the background, named by the test's marker, after writing its pid down; only
# SIGKILL ends it, as with a daemon that shuts down slowly or not at all.
SLEEPER = """\
import os, signal, sys, time
for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(signum, signal.SIG_IGN)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(300)
"""

DETACH = """\
import os, subprocess, sys, time
marker = {marker!r}
sleeper = [sys.executable, "sleeper.py"]
quiet = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
subprocess.Popen([*sleeper, "pid-session", marker], start_new_session=True, **quiet)
subprocess.Popen([*sleeper, "pid-group", marker], **quiet)  # stays in the kernel's group
for name, env in (("pid-double", os.environ), ("pid-bare", {{}})):
    child = os.fork()
    if child == 0:  # the classic daemon: fork, setsid, fork, and the middle one exits
        os.setsid()
        if os.fork() == 0:
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.execve(sys.executable, [*sleeper, name, marker], env)
        os._exit(0)
    os.waitpid(child, 0)
while not all(os.path.exists(n) for n in ("pid-session", "pid-group", "pid-double", "pid-bare")):
    time.sleep(0.02)
print("detached")
"""
PID_FILES = ("pid-session", "pid-group", "pid-double", "pid-bare")


def project(tmp_path: Path, marker: str, *cells: str) -> Path:
    root = tmp_path / "proj"
    (root / "nbs").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.docgen]\nnbs = "nbs"\nout = "site"\n')
    (root / "nbs" / "sleeper.py").write_text(SLEEPER)
    write_notebook(
        root / "nbs" / "index.ipynb", "md:# Detached", DETACH.format(marker=marker), *cells
    )
    return root


def private_env(tmp_path: Path) -> dict[str, str]:
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    return {**os.environ, "TMPDIR": str(tmp)}


def alive(pid: int) -> bool:
    """True while `pid` runs: a zombie is dead, whoever has to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def recorded_pids(root: Path) -> dict[str, int]:
    folder = root / "nbs"
    return {
        name: int((folder / name).read_text()) for name in PID_FILES if (folder / name).exists()
    }


def assert_nothing_left(root: Path, marker: str, tmp: Path) -> None:
    pids = recorded_pids(root)
    assert set(pids) == set(PID_FILES), "the cell did not start its children"
    deadline = time.monotonic() + 5  # SIGKILL is quick, but not instant
    while any(alive(p) for p in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert {name: pid for name, pid in pids.items() if alive(pid)} == {}
    assert live_processes(marker) == set()
    assert sorted(p.name for p in tmp.iterdir()) == []


def kill_leftovers(marker: str) -> None:
    """Don't let a failing test leave its sleepers for the rest of the run."""
    for pid in live_processes(marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def bare_traceback(stderr: str) -> bool:
    """Python's own traceback, as opposed to a cell's, indented inside docgen's message."""
    return "\nTraceback (most recent call last):" in "\n" + stderr


def docgen_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "docgen", "build", *args]


@pytest.mark.parametrize(
    "last_cell, args, code, message",
    [
        ("print('done')", (), 0, "built 1 page into"),
        ("raise ValueError('broken on purpose')", (), 1, "ValueError: broken on purpose"),
        ("import time\ntime.sleep(30)", ("--timeout", "2"), 1, "did not finish within 2 s"),
        ("import os\nos._exit(3)", (), 1, "the kernel died"),
    ],
    ids=["success", "failing-cell", "timeout", "dead-kernel"],
)
def test_build_leaves_no_process_and_no_temporary_folder(
    tmp_path: Path, last_cell: str, args: tuple[str, ...], code: int, message: str
) -> None:
    marker = f"docgen-test-{uuid.uuid4().hex}"
    root = project(tmp_path, marker, last_cell)
    env = private_env(tmp_path)
    try:
        done = subprocess.run(
            docgen_command(*args), cwd=root, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == code, done.stderr
        assert message in done.stdout + done.stderr and not bare_traceback(done.stderr)
        assert_nothing_left(root, marker, tmp_path / "tmp")
    finally:
        kill_leftovers(marker)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_signal_mid_cell_leaves_no_process_and_no_temporary_folder(
    tmp_path: Path, signum: int
) -> None:
    marker = f"docgen-test-{uuid.uuid4().hex}"
    root = project(
        tmp_path, marker, "import pathlib, time\npathlib.Path('started').touch()\ntime.sleep(60)"
    )
    env = private_env(tmp_path)
    try:
        process = subprocess.Popen(
            docgen_command(),
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not (root / "nbs" / "started").exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the notebook never started"
            time.sleep(0.05)
        process.send_signal(signum)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 128 + signum, err
        assert "interrupted" in err and not bare_traceback(err)
        assert_nothing_left(root, marker, tmp_path / "tmp")
    finally:
        kill_leftovers(marker)


OTHER_NOTEBOOK = """\
import os, subprocess, sys, time
from pathlib import Path
sleeper = [sys.executable, "sleeper.py", "pid-a", {marker!r}]
subprocess.run(  # a daemon: it comes back to docgen at once, like the other notebook's
    [sys.executable, "-c", "import os, sys\\nif os.fork() == 0:\\n    os.setsid()\\n"
     "    os.execv(sys.executable, sys.argv[1:])", *sleeper],
    stdout=subprocess.DEVNULL, check=True,
)
while not (Path("pid-a").exists() and Path("pid-double").exists()):
    time.sleep(0.02)

def alive(pid):
    try:
        return Path(f"/proc/{{pid}}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False

mine, theirs = int(Path("pid-a").read_text()), int(Path("pid-double").read_text())
deadline = time.monotonic() + 30
while alive(theirs) and time.monotonic() < deadline:  # until the other kernel has ended
    time.sleep(0.05)
Path("report").write_text(f"theirs alive: {{alive(theirs)}}, mine alive: {{alive(mine)}}")
"""


def test_each_kernel_ends_only_what_it_started(tmp_path: Path) -> None:
    """Two notebooks at once: the one that finishes first takes its own detached children
    with it, and leaves those of the one still running alone."""
    marker = f"docgen-test-{uuid.uuid4().hex}"
    root = project(tmp_path, marker, "print('done')")
    write_notebook(root / "nbs" / "other.ipynb", "md:# Other", OTHER_NOTEBOOK.format(marker=marker))
    env = private_env(tmp_path)
    try:
        done = subprocess.run(
            docgen_command("--workers", "2"),
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        report = (root / "nbs" / "report").read_text()
        assert report == "theirs alive: False, mine alive: True"
        assert_nothing_left(root, marker, tmp_path / "tmp")
        assert not alive(int((root / "nbs" / "pid-a").read_text()))
    finally:
        kill_leftovers(marker)


def test_in_process_build_reaps_what_comes_back_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """build() inside a long-lived process: detached children end, and none stays a zombie."""
    marker = f"docgen-test-{uuid.uuid4().hex}"
    root = project(tmp_path, marker, "raise ValueError('broken on purpose')")
    monkeypatch.setenv("TMPDIR", str(private_env(tmp_path)["TMPDIR"]))
    monkeypatch.setattr("tempfile.tempdir", None)  # tempfile caches the folder it chose
    try:
        for _ in range(2):  # a second build in the same process works the same way
            with pytest.raises(BuildFailed, match="broken on purpose"):
                build(load_config(root / "pyproject.toml"), log=lambda _: None)
            assert is_subreaper()
            assert_nothing_left(root, marker, tmp_path / "tmp")
            zombies = [p for p in recorded_pids(root).values() if Path(f"/proc/{p}").exists()]
            assert zombies == [], "docgen left zombies of its own"
            for name in PID_FILES:
                (root / "nbs" / name).unlink()
    finally:
        kill_leftovers(marker)


def test_reaper_leaves_the_callers_own_children_alone() -> None:
    """Children this process started itself are not orphans to end: one from before the pool,
    in a session of its own, and one started during it in this process's session."""
    sleep = [sys.executable, "-c", "import time; time.sleep(30)"]
    before = subprocess.Popen(sleep, start_new_session=True)
    reaper = Reaper()
    during = subprocess.Popen(sleep)
    try:
        reaper.close()
        assert before.poll() is None and during.poll() is None
    finally:
        for child in (before, during):
            child.kill()
            child.wait()
