"""The Dask executor, with real processes: a LocalCluster, and a `dask scheduler` with two
`dask worker` processes started here (on 127.0.0.1, stopped at the end of the module)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docgen.errors import DocgenError
from docgen.execute.dask.files import pack_files, unpack_files
from tests.conftest import (
    REPO,
    run_docgen,
    snapshot,
    tagged,
    without_provenance,
    write_notebook,
)

pytest.importorskip("distributed")
pytestmark = pytest.mark.kernel

DASK = Path(sys.executable).parent / "dask"

# The kernel's pid, then those of its ancestors, read from /proc: a worker's pid among them
# shows that the kernel runs under that worker.
ANCESTORS = """\
import os
def ancestors():
    pid, found = os.getpid(), [os.getpid()]
    while pid > 1:
        with open(f"/proc/{pid}/stat") as f:
            pid = int(f.read().rsplit(")", 1)[1].split()[1])
        found.append(pid)
    return found
"""


def env() -> dict[str, str]:
    """This worktree's docgen for the workers too."""
    paths = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}



def test_local_cluster_pages_equal_a_local_build(tmp_path: Path) -> None:
    nbs = tmp_path / "doc_nbs"
    (nbs / "guide" / "data").mkdir(parents=True)
    (nbs / "guide" / "data" / "rows.csv").write_text("a,b\n1,2\n")
    (nbs / "guide" / "beside.txt").write_text("read from the notebook's folder")
    guide = write_notebook(
        nbs / "guide" / "01_files.ipynb",
        "md:# Files",
        "print(open('beside.txt').read())",
        "import csv\nlist(csv.reader(open('data/rows.csv')))",
    )
    nb = json.loads(guide.read_text())
    nb["metadata"]["docgen"] = {"data": ["data/rows.csv"]}
    guide.write_text(json.dumps(nb))
    write_notebook(nbs / "index.ipynb", "md:# Index", "print('hello')", "{'a': [1, 2]}")
    (tmp_path / "pyproject.toml").write_text(
        "[tool.docgen]\ntitle = 't'\n[tool.docgen.execute]\nworkers = 2\ncache = false\n"
    )
    local = run_docgen("build", "--out", "local", cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    dask = run_docgen("build", "--out", "dask", "--executor", "dask", cwd=tmp_path)
    assert dask.returncode == 0, dask.stderr
    a, b = snapshot(tmp_path / "local"), snapshot(tmp_path / "dask")
    assert set(a) == set(b)
    assert without_provenance(a) == without_provenance(b)
    html = (tmp_path / "dask" / "index.html").read_text()
    assert f"Ran on CPU of {socket.gethostname()} " in html


def test_a_workers_kernels_fork_from_one_zygote_that_dies_with_the_cluster(
    tmp_path: Path,
) -> None:
    """Each task's kernel is a fork of the worker's zygote, kept from one task to the next;
    closing the cluster leaves neither the zygote nor a kernel."""
    records = [tmp_path / f"nb{n}.json" for n in range(2)]
    for n, record in enumerate(records):
        write_notebook(
            tmp_path / "doc_nbs" / f"nb{n}.ipynb",
            "import json",
            ANCESTORS
            + "parent = open(f'/proc/{os.getppid()}/cmdline').read()\n"
            + f"json.dump([ancestors(), parent], open({str(record)!r}, 'w'))",
        )
    (tmp_path / "pyproject.toml").write_text(
        "[tool.docgen.execute]\nworkers = 1\ncache = false\n"
    )
    build = subprocess.Popen(
        [sys.executable, "-m", "docgen", "build", "--executor", "dask"],
        cwd=tmp_path, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    _, stderr = build.communicate(timeout=300)
    assert build.returncode == 0, stderr
    assert "one by one" not in stderr, stderr  # no fallback to plain kernel starts
    chains, parents = zip(*(json.loads(record.read_text()) for record in records), strict=True)
    assert all("zygote.py" in parent for parent in parents), parents
    kernels = {chain[0] for chain in chains}
    zygotes = {chain[1] for chain in chains}
    workers = {chain[2] for chain in chains}
    assert len(kernels) == 2 and len(zygotes) == 1 and len(workers) == 1, chains
    # kernel -> zygote -> the worker process, which the build's local cluster started
    assert chains[0][3] == build.pid, chains
    assert all(ends_soon(pid, 5) for pid in kernels | zygotes | workers)


def test_ctrl_c_on_a_terminal_stops_a_local_cluster_quietly(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole process group: the cluster's workers must leave it to docgen."""
    markers = [tmp_path / f"kernel{n}.pid" for n in range(2)]
    for n, marker in enumerate(markers):
        write_notebook(
            tmp_path / "doc_nbs" / f"nb{n}.ipynb",
            f"import os, time\nopen({str(marker)!r}, 'w').write(str(os.getpid()))",
            "time.sleep(120)",
        )
    (tmp_path / "pyproject.toml").write_text("[tool.docgen.execute]\nworkers = 2\n")
    build = subprocess.Popen(
        [sys.executable, "-m", "docgen", "build", "--executor", "dask"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # a process group of its own, as a terminal gives
    )
    try:
        kernels = [int(wait_for(marker)) for marker in markers]
        os.killpg(build.pid, signal.SIGINT)
        _, stderr = build.communicate(timeout=60)
    finally:
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
            build.wait()
    assert build.returncode == 128 + signal.SIGINT, stderr
    assert "Traceback" not in stderr and "WARNING" not in stderr, stderr
    assert all(ends_soon(kernel) for kernel in kernels)


def test_without_dask_the_dask_executor_exits_2_and_says_what_to_install(tmp_path: Path) -> None:
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Index", "1 + 1")
    (tmp_path / "pyproject.toml").write_text('[tool.docgen.execute]\nexecutor = "dask"\n')
    hidden = (
        "import sys; sys.modules['distributed'] = None\n"
        "from docgen.commands.main import main; sys.exit(main(['build']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", hidden], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "pip install docgen-nb[dask]" in done.stderr
    assert not (tmp_path / "site").exists()


def test_an_unreachable_scheduler_exits_2_naming_it(tmp_path: Path) -> None:
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Index", "1 + 1")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    start = time.monotonic()
    done = run_docgen("build", "--scheduler", address, cwd=tmp_path, timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"cannot reach the Dask scheduler at {address}" in done.stderr
    assert "Traceback" not in done.stderr
    assert time.monotonic() - start < 30
    assert not (tmp_path / "site").exists()


def test_a_task_carries_the_notebooks_folder_and_its_declared_data(tmp_path: Path) -> None:
    root = tmp_path / "project"
    write_notebook(root / "doc_nbs" / "guide" / "a.ipynb", "1")
    (root / "doc_nbs" / "guide" / "beside.txt").write_text("beside")
    (root / "doc_nbs" / "guide" / "deeper").mkdir()
    (root / "doc_nbs" / "guide" / "deeper" / "not-sent.txt").write_text("x")
    (root / "data").mkdir()
    (root / "data" / "rows.csv").write_text("a,b\n")
    packed = pack_files(root / "doc_nbs" / "guide" / "a.ipynb", root, ["../../data/rows.csv"])
    unpack_files(packed, tmp_path / "worker")
    sent = sorted(p.relative_to(tmp_path / "worker").as_posix()
                  for p in (tmp_path / "worker").rglob("*") if p.is_file())
    assert sent == ["data/rows.csv", "doc_nbs/guide/a.ipynb", "doc_nbs/guide/beside.txt"]
    (tmp_path / "outside.csv").write_text("a\n")
    with pytest.raises(DocgenError, match="outside the project.*shared_path = true"):
        pack_files(root / "doc_nbs" / "guide" / "a.ipynb", root, ["../../../outside.csv"])


# --- a scheduler and two workers, as separate processes ---------------------------------


class Cluster:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.processes: list[subprocess.Popen[bytes]] = []
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self.address = ""
        self.logs: list[Any] = []

    def start(self, workers: int) -> None:
        file = self.folder / "scheduler.json"
        log = (self.folder / "scheduler.log").open("wb")
        self.logs.append(log)
        self.processes.append(
            subprocess.Popen(
                [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                 "--scheduler-file", file],
                # one retry after a worker dies, as on a local cluster
                env={**env(), "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"},
                stdout=log, stderr=log,
            )
        )
        deadline = time.monotonic() + 60
        while not file.exists():
            assert time.monotonic() < deadline, (self.folder / "scheduler.log").read_text()
            time.sleep(0.2)
        self.address = json.loads(file.read_text())["address"]
        for n in range(workers):
            self.add_worker(f"w{n}")

    def add_worker(self, name: str, *options: str) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{name}.log").open("wb")
        self.logs.append(log)
        worker = subprocess.Popen(
            [DASK, "worker", self.address, "--name", name, "--nthreads", "1", "--no-nanny",
             "--host", "127.0.0.1", "--no-dashboard", *options],
            env=env(), stdout=log, stderr=log,
        )
        self.processes.append(worker)
        self.workers[name] = worker
        return worker

    def worker_pids(self) -> set[int]:
        return {w.pid for w in self.workers.values() if w.poll() is None}

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self.logs:
            log.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    running = Cluster(tmp_path_factory.mktemp("dask-cluster"))
    try:
        running.start(workers=2)
        yield running
    finally:
        running.stop()


def project(root: Path, *notebooks: tuple[str, list[Any]]) -> Path:
    for name, cells in notebooks:
        write_notebook(root / "doc_nbs" / name, f"md:# {name}", *cells)
    return root


def test_each_kernel_runs_under_a_worker_process(cluster: Cluster, tmp_path: Path) -> None:
    project(
        tmp_path,
        ("index.ipynb", [ANCESTORS, "print('PIDS', ancestors())"]),
        ("second.ipynb", [ANCESTORS, "print('PIDS', ancestors())"]),
    )
    done = run_docgen("build", "--scheduler", cluster.address, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for page in ("index.html", "second.html"):
        html = (tmp_path / "site" / page).read_text()
        pids = {int(p) for p in re.search(r"PIDS \[([\d, ]+)\]", html).group(1).split(", ")}
        assert pids & cluster.worker_pids(), (pids, cluster.worker_pids())
        assert f"Ran on CPU of {socket.gethostname()} " in html
    # the keys the workers computed are those the driver looks up: nothing runs again
    again = run_docgen("build", "--scheduler", cluster.address, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "cached doc_nbs/index.ipynb" in again.stderr


def test_a_shared_path_runs_the_notebook_in_its_own_folder(
    cluster: Cluster, tmp_path: Path
) -> None:
    project(tmp_path, ("index.ipynb", ["import os\nprint('CWD', os.getcwd())"]))
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.docgen.execute]\nexecutor = "dask"\nscheduler = "{cluster.address}"\n'
        "shared_path = true\n"
    )
    done = run_docgen("build", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"CWD {tmp_path / 'doc_nbs'}\n" in (tmp_path / "site" / "index.html").read_text()
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.docgen.execute]\nexecutor = "dask"\nscheduler = "{cluster.address}"\n'
    )
    done = run_docgen("build", "--force", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "site" / "index.html").read_text()
    assert re.search(r"CWD /\S*/docgen-dask-\w+/doc_nbs\n", html), html


def test_a_failing_cell_is_reported_as_locally_with_the_worker(
    cluster: Cluster, tmp_path: Path
) -> None:
    project(tmp_path, ("index.ipynb", ["x = 1", "x / 0"]))
    local = run_docgen("build", cwd=tmp_path)
    assert local.returncode == 1
    block = local.stderr[local.stderr.index(str(tmp_path / "doc_nbs" / "index.ipynb")):]
    block = block[: block.index("raises-exception") + len("raises-exception")]
    done = run_docgen("build", "--scheduler", cluster.address, cwd=tmp_path)
    assert done.returncode == 1
    assert block in done.stderr
    assert re.search(r"\(on Dask worker w[01], host ", done.stderr), done.stderr
    assert "docgen-dask-" not in done.stderr  # the worker's copy is never named


def test_gpu_notebooks_without_a_gpu_worker_follow_the_cpu_rules(
    cluster: Cluster, tmp_path: Path
) -> None:
    cuda = tagged("2 + 2", "requires-cuda")
    project(tmp_path, ("index.ipynb", ["1 + 1"]), ("cuda.ipynb", [cuda]))
    done = run_docgen("build", "--scheduler", cluster.address, cwd=tmp_path)
    assert done.returncode == 1
    why = "cuda.ipynb: needs a GPU (cell 2 is tagged requires-cuda), and this machine has none"
    assert why in done.stderr
    done = run_docgen("build", "--allow-missing-gpu", "--scheduler", cluster.address, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "site" / "cuda.html").read_text()
    assert "Not executed: this notebook needs a GPU" in html


def test_gpu_notebooks_run_only_on_workers_offering_a_gpu(cluster: Cluster, tmp_path: Path) -> None:
    gpu = cluster.add_worker("gpu", "--resources", "GPU=1")
    try:
        project(
            tmp_path,
            ("cpu.ipynb", [ANCESTORS, "print('PIDS', ancestors())"]),
            *[(f"cuda{n}.ipynb", [ANCESTORS, tagged("print('PIDS', ancestors())", "requires-cuda")])
              for n in range(2)],
        )
        done = run_docgen("build", "--scheduler", cluster.address, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        for n in range(2):
            html = (tmp_path / "site" / f"cuda{n}.html").read_text()
            pids = {int(p) for p in re.search(r"PIDS \[([\d, ]+)\]", html).group(1).split(", ")}
            assert gpu.pid in pids
    finally:
        gpu.terminate()
        gpu.wait(timeout=20)
        del cluster.workers["gpu"]


def wait_for(path: Path, seconds: float = 90) -> str:
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"{path} was never written"
        time.sleep(0.1)
    return path.read_text()


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def ends_soon(pid: int, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_ctrl_c_cancels_the_tasks_and_kills_their_kernels(cluster: Cluster, tmp_path: Path) -> None:
    marker = tmp_path / "kernel.pid"
    project(
        tmp_path,
        ("index.ipynb", [f"import os, time\nopen({str(marker)!r}, 'w').write(str(os.getpid()))",
                         "time.sleep(120)"]),
    )
    build = subprocess.Popen(
        [sys.executable, "-m", "docgen", "build", "--scheduler", cluster.address],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        kernel = int(wait_for(marker))
        assert alive(kernel)
        build.send_signal(signal.SIGINT)
        _, stderr = build.communicate(timeout=60)
    finally:
        if build.poll() is None:
            build.kill()
    assert build.returncode == 128 + signal.SIGINT, stderr
    assert ends_soon(kernel), "the kernel outlived its cancelled task"
    assert len(cluster.worker_pids()) == 2  # the workers stay
    assert not (tmp_path / "site").exists()


# Kills a worker: the last test of the module.
def test_a_worker_killed_mid_notebook_is_retried_on_another(
    cluster: Cluster, tmp_path: Path
) -> None:
    marker = tmp_path / "attempts"
    run = (
        f"from pathlib import Path\nimport time\nmarker = Path({str(marker)!r})\n"
        "earlier = marker.read_text().splitlines() if marker.exists() else []\n"
        "marker.write_text(''.join(line + '\\n' for line in [*earlier, repr(ancestors())]))\n"
        "if not earlier:\n    time.sleep(120)\n"
        "print('ATTEMPT', len(earlier) + 1)"
    )
    project(tmp_path, ("index.ipynb", [ANCESTORS, run]))
    build = subprocess.Popen(
        [sys.executable, "-m", "docgen", "build", "--scheduler", cluster.address],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        kernel, *first = json.loads(wait_for(marker).splitlines()[0])
        (name,) = [n for n, w in cluster.workers.items() if w.pid in first]
        cluster.workers[name].kill()
        _, stderr = build.communicate(timeout=120)
    finally:
        if build.poll() is None:
            build.kill()
    assert build.returncode == 0, stderr
    html = (tmp_path / "site" / "index.html").read_text()
    assert "ATTEMPT 2" in html
    second = set(json.loads(marker.read_text().splitlines()[1]))
    assert second & cluster.worker_pids()  # the other worker
    assert cluster.workers[name].pid not in second
    assert ends_soon(kernel), "the kernel outlived its worker"


def test_a_workers_zygote_is_replaced_when_the_preloads_or_the_environment_change(
    tmp_path: Path,
) -> None:
    """The same preloads and environment: the same zygote; others: a new one, and the old one
    ends once its tasks are done. Closing (the worker's teardown) ends the last one."""
    from docgen.execute.dask.task import _Watched
    from docgen.execute.dask.zygotes import WorkerZygotes
    from docgen.execute.executor import Job, Silent
    from docgen.execute.pool import PoolOptions
    from docgen.notebooks.read import read_notebook

    record = tmp_path / "parent.txt"
    path = write_notebook(
        tmp_path / "nb.ipynb",
        f"import os\nopen({str(record)!r}, 'w').write(str(os.getppid()))",
    )
    job = Job(read_notebook(path), path, "python3")
    options = PoolOptions(timeout=60)
    host = WorkerZygotes()

    def zygote_of(optional: list[str], env: dict[str, str]) -> int:
        (result,) = host.run([job], options, optional, env, Silent(), _Watched())
        assert result.error is None, result.error
        return int(record.read_text())

    try:
        first = zygote_of(["json"], dict(os.environ))
        assert zygote_of(["json"], dict(os.environ)) == first
        other_preload = zygote_of(["json", "csv"], dict(os.environ))
        assert other_preload != first and ends_soon(first)
        other_env = zygote_of(["json", "csv"], {**os.environ, "DOCGEN_TEST_ENV": "1"})
        assert other_env != other_preload and ends_soon(other_preload)
        assert "zygote.py" in Path(f"/proc/{other_env}/cmdline").read_text()
    finally:
        host.close()
    assert ends_soon(other_env, 5)
    assert not host.thread.is_alive()


def test_a_workers_zygote_that_cannot_serve_warns_the_build_once(tmp_path: Path) -> None:
    for n in range(2):
        write_notebook(tmp_path / "doc_nbs" / f"nb{n}.ipynb", f"print({n})")
    (tmp_path / "pyproject.toml").write_text(
        "[tool.docgen.execute]\nworkers = 1\ncache = false\n"
        'preload = ["docgen_no_such_module"]\n'
    )
    done = run_docgen("build", "--executor", "dask", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("kernels start one by one") == 1, done.stderr
    assert "docgen_no_such_module" in done.stderr


def zygotes_under(parents: set[int]) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_text()
        except (OSError, ValueError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) in parents and "zygote.py" in cmdline:
            found.append(int(entry.name))
    return found


def test_a_schedulers_workers_keep_no_zygote_after_the_build(
    cluster: Cluster, tmp_path: Path
) -> None:
    """Workers outlive the build; the zygotes they forked its kernels from do not."""
    project(tmp_path, ("index.ipynb", [ANCESTORS, "print('PIDS', ancestors())"]))
    done = run_docgen("build", "--scheduler", cluster.address, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "site" / "index.html").read_text()
    pids = [int(p) for p in re.search(r"PIDS \[([\d, ]+)\]", html).group(1).split(", ")]
    assert pids[2] in cluster.worker_pids(), pids  # kernel -> zygote -> worker
    assert ends_soon(pids[1]), pids
    assert zygotes_under(cluster.worker_pids()) == []
