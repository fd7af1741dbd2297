"""`docgen serve`: a real server on 127.0.0.1 (--port 0), driven by edits to its notebooks and
watched in a real Chromium (skipped when /usr/bin/chromium is missing, as in test_search.py).

Every server a test starts is stopped by the test (Ctrl-C, then a kill if it hangs).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_docgen, tagged, write_notebook
from nbformat.v4 import new_output

from docgen.serve.app import site_path, with_live_reload
from docgen.serve.watch import is_edit

TAG = re.compile(rb'<script src="/_docgen_serve/livereload.js"[^>]*></script>\n')


class Server:
    """`docgen serve --port 0` in `project`, its output read by two threads."""

    def __init__(self, project: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "docgen", "serve", "--port", "0", *args],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self.readers = [
            threading.Thread(target=self._read, args=(stream, lines), daemon=True)
            for stream, lines in ((self.process.stdout, self.out), (self.process.stderr, self.err))
        ]
        for reader in self.readers:
            reader.start()
        first = self.wait_for(lambda: self.out, "the Serving line")
        match = re.fullmatch(r"Serving (http://127\.0\.0\.1:\d+/)\n", first[0])
        assert match, first
        self.url = match.group(1)

    @staticmethod
    def _read(stream, lines: list[str]) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            lines.append(line)

    def wait_for(self, found, what: str, timeout: float = 60):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not (value := found()):
            if self.process.poll() is not None:
                time.sleep(0.5)  # what it printed last may still be on its way
                if value := found():
                    break
                pytest.fail(f"docgen serve exited ({self.process.returncode}) before {what}:\n"
                            + "".join(self.err))
            assert time.monotonic() < deadline, f"no {what} in {timeout} s:\n" + "".join(self.err)
            time.sleep(0.05)
        return value

    def builds(self) -> list[str]:
        return [line for line in self.err if line.startswith("built ")]

    def wait_builds(self, count: int, timeout: float = 60) -> None:
        self.wait_for(lambda: len(self.builds()) >= count, f"build {count}", timeout)

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def stop(self) -> int:
        """Ctrl-C, as a terminal sends it; a kill if that does not end it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for reader in self.readers:
            reader.join(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return self.process.returncode


@pytest.fixture
def serve() -> Iterator:  # type: ignore[type-arg]
    servers: list[Server] = []

    def start(project: Path, *args: str, env: dict[str, str] | None = None) -> Server:
        server = Server(project, *args, env=env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "nbs").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.docgen]\ntitle = "Demo"\nnbs = "nbs"\n')
    write_notebook(root / "nbs" / "index.ipynb", "md:# Home\n\nThe first words.")
    paragraphs = "\n\n".join(f"Paragraph {i} of a long page." for i in range(150))
    write_notebook(
        root / "nbs" / "long.ipynb",
        "md:# Long\n\nThe top of the page.",
        f"md:{paragraphs}",
        "md:## Far down\n\nThe end of the page.",
    )
    return root


# --- without a browser -----------------------------------------------------------------


def test_site_path_stays_inside_the_site() -> None:
    assert site_path("") == "index.html"
    assert site_path("guide/") == "guide/index.html"
    assert site_path("a/b.html") == "a/b.html"
    assert site_path("../etc/passwd") is None
    assert site_path("a/../../x") is None


def test_live_reload_tag_goes_before_the_last_body_end() -> None:
    page = b"<html><body><p>x</p></body></html>"
    served = with_live_reload(page, "a b.html", 3)
    assert served.endswith(b"</body></html>")
    assert b'data-page="a b.html" data-version="3"' in served
    assert TAG.sub(b"", served) == page


def test_what_counts_as_an_edit(tmp_path: Path) -> None:
    nbs, cache, out = tmp_path / "nbs", tmp_path / ".docgen_cache", tmp_path / "site"
    watched, ignored = [nbs], [cache, out]
    assert is_edit(nbs / "a.ipynb", watched, ignored)
    assert is_edit(nbs / "img" / "plot.png", watched, ignored)
    for path in [
        nbs / ".ipynb_checkpoints" / "a-checkpoint.ipynb",
        nbs / ".hidden" / "a.ipynb",
        nbs / "__pycache__" / "x.pyc",
        nbs / ".a.ipynb.swp",
        nbs / "a.ipynb~",
        nbs / "4913",
        nbs / ".#a.ipynb",
        nbs / "#a.ipynb#",
        cache / "x",
        out / "index.html",
    ]:
        assert not is_edit(path, watched, ignored), path
    # A project inside a hidden folder is still watched.
    hidden = tmp_path / ".work" / "nbs"
    assert is_edit(hidden / "a.ipynb", [hidden], [])


def test_busy_port_exits_2_naming_the_port(tmp_path: Path) -> None:
    root = project(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_docgen("serve", "--no-exec", "--port", str(port), cwd=root, timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"port {port}" in done.stderr and "--port" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (root / "site").exists()


def test_serves_what_build_writes_and_never_writes_site(tmp_path: Path, serve) -> None:
    root = project(tmp_path)
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    server = serve(root, "--no-exec", env=env)
    server.wait_builds(1)
    built = run_docgen("build", "--no-exec", "--out", tmp_path / "built", cwd=root)
    assert built.returncode == 0, built.stderr
    for page in ["index.html", "long.html", "_static/docgen.css", "_static/search.js"]:
        status, body = server.get(page)
        assert status == 200
        assert TAG.sub(b"", body) == (tmp_path / "built" / page).read_bytes(), page
        assert (TAG.search(body) is not None) == page.endswith(".html")
    assert server.get("")[1] == server.get("index.html")[1]
    assert server.get("missing.html")[0] == 404
    assert b"livereload" not in (tmp_path / "built" / "index.html").read_bytes()
    assert not (root / "site").exists()
    assert list((tmp_path / "tmp").iterdir()) != []  # the site lives in the temp folder
    assert server.stop() == 0
    assert list((tmp_path / "tmp").iterdir()) == []  # and goes with the server


def _served_equals_built(server: Server, built: Path) -> None:
    for file in sorted(built.rglob("*")):
        if file.is_file() and file.name != ".docgen-site":
            status, body = server.get(file.relative_to(built).as_posix())
            assert status == 200, file
            assert TAG.sub(b"", body) == file.read_bytes(), file


def _events(server: Server, page: str, version: int) -> dict:
    url = f"{server.url}_docgen_serve/events?page={page}&version={version}"
    with urllib.request.urlopen(url, timeout=10) as stream:
        data = next(line for line in stream if line.startswith(b"data: "))
    return json.loads(data[len(b"data: ") :])


def test_rebuilds_serve_what_build_writes_and_reload_only_changed_pages(
    tmp_path: Path, serve
) -> None:
    """A rebuild reuses the pages it wrapped before: what it serves must still be byte for
    byte what `docgen build` writes, the sidebar and search index included."""
    root = project(tmp_path)
    write_notebook(root / "nbs" / "guide" / "intro.ipynb", "md:# Intro\n\nGuide text.")
    server = serve(root, "--no-exec")
    server.wait_builds(1)
    seen = _events(server, "long.html", 0)["version"]
    # A prose edit: its page alone changes, and only a browser showing it reloads.
    write_notebook(root / "nbs" / "index.ipynb", "md:# Home\n\nSearchable zebraword.")
    server.wait_builds(2)
    assert "rendered 1," in server.builds()[-1] and "; 1 changed" in server.builds()[-1]
    assert _events(server, "index.html", seen)["reload"]
    assert not _events(server, "long.html", seen)["reload"]
    built = run_docgen("build", "--no-exec", "--out", tmp_path / "b1", cwd=root)
    assert built.returncode == 0, built.stderr
    _served_equals_built(server, tmp_path / "b1")
    assert b"zebraword" in server.get("_static/search-index.js")[1]
    # A new title is in every page's sidebar: every page changes, every browser reloads.
    seen = _events(server, "long.html", 0)["version"]
    write_notebook(root / "nbs" / "guide" / "intro.ipynb", "md:# Getting started\n\nGuide.")
    server.wait_builds(3)
    assert _events(server, "long.html", seen)["reload"]
    built = run_docgen("build", "--no-exec", "--out", tmp_path / "b2", cwd=root)
    assert built.returncode == 0, built.stderr
    _served_equals_built(server, tmp_path / "b2")
    assert b"Getting started" in server.get("long.html")[1]
    # A page removed goes from the served site too.
    (root / "nbs" / "guide" / "intro.ipynb").unlink()
    server.wait_builds(4)
    assert server.get("guide/intro.html")[0] == 404
    assert b"Getting started" not in server.get("long.html")[1]


def test_ctrl_c_mid_cell_ends_the_kernel_and_exits_0(tmp_path: Path, serve) -> None:
    root = project(tmp_path)
    write_notebook(
        root / "nbs" / "slow.ipynb",
        "import os, pathlib, subprocess, time\n"
        "subprocess.Popen(['sleep', '300'])  # a process of the kernel's own\n"
        "pathlib.Path('../kernel.pid').write_text(str(os.getpid()))\n"
        "time.sleep(120)",
    )
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    server = serve(root, env=env)
    pid_file = root / "kernel.pid"
    server.wait_for(lambda: pid_file.exists() and pid_file.read_text(), "the kernel's pid")
    kernel = int(pid_file.read_text())
    family = _descendants(server.process.pid)
    assert kernel in family
    zygote = int(Path(f"/proc/{kernel}/stat").read_text().rpartition(")")[2].split()[1])
    assert zygote != server.process.pid and zygote in family  # it goes too
    assert server.stop() == 0, "".join(server.err)
    deadline = time.monotonic() + 5
    while any(map(_alive, family)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in family if _alive(pid)] == []  # kernels, their children, all
    assert list((tmp_path / "tmp").iterdir()) == []
    assert "Traceback" not in "".join(server.err)


def _descendants(pid: int) -> list[int]:
    """Every process started by `pid`, and by those, and so on."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


# --- in Chromium ----------------------------------------------------------------------


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def open_live(page, server: Server, path: str) -> None:  # type: ignore[no-untyped-def]
    """Open `path` and wait until its live-reload connection is up."""
    page.goto(server.url + path)
    page.wait_for_function("() => window.performance.getEntriesByType('resource')"
                           ".some(e => e.name.includes('/_docgen_serve/events'))"
                           " || document.readyState === 'complete'")
    time.sleep(0.3)  # the event stream's first message


@pytest.mark.browser
def test_prose_edit_appears_without_a_reload_by_hand(tmp_path: Path, serve, page) -> None:
    root = project(tmp_path)
    server = serve(root, "--no-exec")
    server.wait_builds(1)
    open_live(page, server, "index.html")
    assert "The first words." in page.inner_text("main")
    write_notebook(root / "nbs" / "index.ipynb", "md:# Home\n\nWords written later.")
    page.wait_for_function(
        "() => document.querySelector('main').innerText.includes('Words written later.')",
        timeout=20_000,
    )
    server.wait_builds(2)
    assert "rendered 1," in server.builds()[-1]  # only the edited page, no kernel


@pytest.mark.browser
def test_scroll_position_and_anchor_survive_the_reload(tmp_path: Path, serve, page) -> None:
    root = project(tmp_path)
    server = serve(root, "--no-exec")
    server.wait_builds(1)
    open_live(page, server, "long.html#far-down")
    page.evaluate("window.scrollTo(0, 1500)")
    page.wait_for_function("() => Math.abs(window.scrollY - 1500) < 2")
    paragraphs = "\n\n".join(f"Paragraph {i} of a long page." for i in range(150))
    write_notebook(
        root / "nbs" / "long.ipynb",
        "md:# Long\n\nThe top of the page, edited.",
        f"md:{paragraphs}",
        "md:## Far down\n\nThe end of the page.",
    )
    page.wait_for_function(
        "() => document.querySelector('main').innerText.includes('The top of the page, edited.')",
        timeout=20_000,
    )
    page.wait_for_load_state("load")
    time.sleep(0.3)
    assert abs(page.evaluate("window.scrollY") - 1500) < 2
    assert page.evaluate("location.hash") == "#far-down"


@pytest.mark.browser
def test_broken_notebook_shows_an_overlay_until_fixed(tmp_path: Path, serve, page) -> None:
    root = project(tmp_path)
    server = serve(root, "--no-exec")
    server.wait_builds(1)
    open_live(page, server, "index.html")
    good = (root / "nbs" / "long.ipynb").read_bytes()
    (root / "nbs" / "long.ipynb").write_text('{"cells": [')  # a save cut short
    overlay = page.locator("#docgen-serve-overlay")
    overlay.wait_for(state="visible", timeout=20_000)
    text = overlay.inner_text()
    assert "The build failed: 1 problem." in text and "long.ipynb" in text
    server.wait_for(lambda: "The build failed: 1 problem.\n" in server.err, "the failure")
    cli = "".join(server.err)
    shown = text.split("\n", 1)[1]  # below the overlay's title: the CLI's words
    assert shown.strip() in cli
    # The last good pages stay served, and the open page keeps its content.
    status, body = server.get("long.html")
    assert status == 200 and b"The top of the page." in body
    assert "The first words." in page.inner_text("main")
    (root / "nbs" / "long.ipynb").write_bytes(good)
    overlay.wait_for(state="detached", timeout=20_000)
    server.wait_builds(2)


@pytest.mark.browser
@pytest.mark.kernel
def test_code_edit_reruns_only_that_notebook(tmp_path: Path, serve, page) -> None:
    root = project(tmp_path)
    slow = "import time\ntime.sleep(1.5)\n"
    write_notebook(root / "nbs" / "a.ipynb", "md:# A", slow + counting("a", "6*7"))
    write_notebook(root / "nbs" / "b.ipynb", "md:# B", counting("b", "'b' * 3"))
    server = serve(root)
    server.wait_builds(1, timeout=120)
    assert starts(root) == ["a", "b"]
    ran = [line for line in server.err if line.startswith("ran ")]
    assert sorted(line.split()[1] for line in ran) == ["nbs/a.ipynb", "nbs/b.ipynb"]
    open_live(page, server, "a.html")
    assert "42" in page.inner_text("main")
    write_notebook(root / "nbs" / "a.ipynb", "md:# A", slow + counting("a", "6*8"))
    page.locator("#docgen-serve-running").wait_for(state="visible", timeout=20_000)
    assert "42" in page.inner_text("main")  # the old outputs stay while it runs
    page.wait_for_function(
        "() => document.querySelector('main').innerText.includes('48')", timeout=60_000
    )
    server.wait_builds(2)
    ran = [line.split()[1] for line in server.err if line.startswith("ran ")]
    assert ran.count("nbs/a.ipynb") == 2 and ran.count("nbs/b.ipynb") == 1
    assert starts(root) == ["a", "a", "b"]  # the kernels' own count
    assert page.locator("#docgen-serve-running").count() == 0


def test_a_first_build_that_fails_is_told_to_the_browser(tmp_path: Path, serve) -> None:
    root = project(tmp_path)
    (root / "nbs" / "long.ipynb").write_text("not a notebook")
    server = serve(root, "--no-exec")
    server.wait_for(lambda: "The build failed: 1 problem.\n" in server.err, "the failure")
    status, body = server.get("index.html")  # no site yet: a page that waits for one
    assert status == 200 and TAG.search(body) and b"building the site" in body
    events = server.url + "_docgen_serve/events?page=index.html&version=0"
    with urllib.request.urlopen(events, timeout=10) as stream:
        data = next(line for line in stream if line.startswith(b"data: "))
    state = json.loads(data[len(b"data: ") :])
    assert state["error"].startswith("The build failed: 1 problem.")
    assert "long.ipynb" in state["error"] and not state["reload"]
    assert state["error"] in "".join(server.err)  # the terminal's words
    (root / "nbs" / "long.ipynb").unlink()
    server.wait_builds(1)
    assert b"The first words." in server.get("index.html")[1]


@pytest.mark.kernel
def test_a_failing_notebook_that_writes_files_does_not_rebuild_for_ever(
    tmp_path: Path, serve
) -> None:
    root = project(tmp_path)
    write_notebook(
        root / "nbs" / "writer.ipynb",
        "import pathlib\npathlib.Path('table.csv').write_text('a,b\\n1,2\\n')",
        "raise ValueError('broken on purpose')",
    )
    server = serve(root)
    server.wait_for(lambda: sum("broken on purpose" in line for line in server.err) >= 1, "run")
    time.sleep(6)  # a loop would have run the notebook again by now, and again
    runs = sum(line.startswith("The build failed") for line in server.err)
    assert runs <= 2, "".join(server.err)  # the second saw the file it wrote, unchanged


# --- what runs: PAGE arguments, GPU notebooks, source edits --------------------------------


def counting(name: str, value: str = "1") -> str:
    """A code cell that notes each run in the project's starts.txt (the kernel's working
    folder is the notebooks folder), then prints `name value`."""
    return f"open('../starts.txt', 'a').write('{name}\\n')\nprint('{name}', {value})"


def starts(root: Path) -> list[str]:
    file = root / "starts.txt"
    return sorted(file.read_text().split()) if file.exists() else []


def test_an_unknown_page_exits_2_naming_it(tmp_path: Path) -> None:
    root = project(tmp_path)
    done = run_docgen("serve", "--no-exec", "--port", "0", "nosuch", cwd=root, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "PAGE nosuch: no notebook of that name" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.kernel
def test_pages_given_are_the_only_ones_that_run(tmp_path: Path, serve) -> None:
    root = project(tmp_path)
    write_notebook(root / "nbs" / "c.ipynb", "md:# C", counting("c", "3"))
    built = run_docgen("build", cwd=root, timeout=120)  # c's outputs go into the cache
    assert built.returncode == 0, built.stderr
    assert starts(root) == ["c"]
    write_notebook(root / "nbs" / "a.ipynb", "md:# A", counting("a", "1"))
    write_notebook(root / "nbs" / "b.ipynb", "md:# B", counting("b", "2"))
    server = serve(root, "a")
    server.wait_builds(1, timeout=120)
    assert starts(root) == ["a", "c"]  # only a ran; c is as the cache has it
    assert b"a 1" in server.get("a.html")[1]
    assert b"c 3" in server.get("c.html")[1]
    held = server.get("b.html")[1]
    assert b"Not executed in this preview" in held and b"b 2" not in held
    assert "not run in this preview nbs/b.ipynb\n" in server.err
    # A code edit to a page not given runs nothing; one to the page given runs it.
    write_notebook(root / "nbs" / "b.ipynb", "md:# B", counting("b", "20"))
    server.wait_builds(2, timeout=120)
    assert starts(root) == ["a", "c"]
    write_notebook(root / "nbs" / "a.ipynb", "md:# A", counting("a", "10"))
    server.wait_builds(3, timeout=120)
    assert starts(root) == ["a", "a", "c"]
    assert b"a 10" in server.get("a.html")[1]


def _gpu_notebook(path: Path, value: str, output: str | None = None) -> None:
    cell = tagged(counting("gpu", value), "requires-cuda")
    if output is not None:
        cell.outputs = [new_output("stream", name="stdout", text=output)]
    write_notebook(path, "md:# GPU", cell)


def _fake_gpu(tmp_path: Path) -> dict[str, str]:
    """An environment whose nvidia-smi lists one GPU (the kernels run on the CPU)."""
    folder = tmp_path / "fakebin"
    folder.mkdir()
    smi = folder / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho '0, GPU-0000fake, Fake GPU 80GB, 81920'\n")
    smi.chmod(0o755)
    env = {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}
    env.pop("CUDA_VISIBLE_DEVICES", None)
    return env


def _post(url: str) -> int:
    request = urllib.request.Request(url, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.mark.kernel
def test_gpu_notebook_never_runs_on_a_machine_without_one(tmp_path: Path, serve) -> None:
    root = project(tmp_path)
    _gpu_notebook(root / "nbs" / "gpu.ipynb", "6 * 7", output="gpu 42\n")
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}  # no GPU, whatever nvidia-smi says
    server = serve(root, env=env)
    server.wait_builds(1, timeout=120)
    _gpu_notebook(root / "nbs" / "gpu.ipynb", "6 * 8", output="gpu 42\n")
    server.wait_builds(2, timeout=120)
    assert starts(root) == []
    body = re.sub(rb"<[^>]+>", b"", server.get("gpu.html")[1])
    assert b"gpu 42" in body and b"6 * 8" in body  # the new code, the stored outputs
    assert b"it needs a GPU, and this build had none" in body
    assert not _events(server, "gpu.html", 0)["runnable"]
    assert _post(server.url + "_docgen_serve/run?page=gpu.html") == 404
    time.sleep(1)
    assert len(server.builds()) == 2 and starts(root) == []


@pytest.mark.browser
@pytest.mark.kernel
def test_gpu_notebook_runs_from_its_run_button(tmp_path: Path, serve, page) -> None:
    root = project(tmp_path)
    _gpu_notebook(root / "nbs" / "gpu.ipynb", "6 * 7")
    server = serve(root, env=_fake_gpu(tmp_path))
    server.wait_builds(1, timeout=120)
    assert starts(root) == []  # not on the first build
    open_live(page, server, "gpu.html")
    button = page.locator("#docgen-serve-run")
    button.wait_for(state="visible", timeout=20_000)
    assert "Not executed in this preview" in page.inner_text("main")
    assert not _events(server, "index.html", 0)["runnable"]  # a page without a GPU notebook
    _gpu_notebook(root / "nbs" / "gpu.ipynb", "6 * 8")  # nor on a save
    server.wait_builds(2, timeout=120)
    page.wait_for_function(
        "() => document.querySelector('main').innerText.includes('6 * 8')", timeout=20_000
    )
    assert starts(root) == []
    page.locator("#docgen-serve-run").click()
    page.wait_for_function(
        "() => document.querySelector('main').innerText.includes('gpu 48')", timeout=60_000
    )
    assert starts(root) == ["gpu"]
    assert "Ran on Fake GPU 80GB" in page.inner_text("main")
    # Its outputs are in the cache: the next build shows them without running it.
    write_notebook(root / "nbs" / "index.ipynb", "md:# Home\n\nOther words.")
    server.wait_builds(4, timeout=120)
    assert starts(root) == ["gpu"] and b"gpu 48" in server.get("gpu.html")[1]


@pytest.mark.kernel
def test_source_edit_reruns_the_notebooks_that_import_it(tmp_path: Path, serve) -> None:
    root = project(tmp_path)
    (root / "pyproject.toml").write_text(
        '[tool.docgen]\ntitle = "Demo"\nnbs = "nbs"\npackages = ["mypkg"]\n'
    )
    package = root / "mypkg"
    package.mkdir()
    source = 'def answer():\n    "Gives the {} answer."\n    return {}\n\n\n'
    source += 'def helper():\n    "Helps {}."\n'  # on the API page: no page shows it
    (package / "__init__.py").write_text(source.format("first", 1, "once"))
    write_notebook(
        root / "nbs" / "uses.ipynb",
        "md:# Uses",
        "import mypkg\n" + counting("uses", "mypkg.answer()"),
        "from docgen import show_doc\nshow_doc(mypkg.answer)",
    )
    write_notebook(root / "nbs" / "other.ipynb", "md:# Other", counting("other"))
    # Importable from the kernels' folder as from docgen's, as an editable install makes it.
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    server = serve(root, env={**os.environ, "PYTHONPATH": path})
    server.wait_builds(1, timeout=120)
    assert starts(root) == ["other", "uses"]
    assert b"Gives the first answer." in server.get("uses.html")[1]
    assert b"Helps once." in server.get("api/mypkg.html")[1]
    (package / "__init__.py").write_text(source.format("second", 22, "twice"))
    server.wait_builds(2, timeout=120)
    assert starts(root) == ["other", "uses", "uses"]  # only the notebook that imports it
    uses = server.get("uses.html")[1]
    assert b"uses 22" in uses and b"Gives the second answer." in uses
    api = server.get("api/mypkg.html")[1]
    assert b"Helps twice." in api and b"Helps once." not in api


# --- kept zygotes: kernels forked from a process that outlives each build -------------------


def parents(root: Path) -> list[int]:
    """The parent pid of each run's kernel, as the notebook wrote it."""
    file = root / "parents.txt"
    return [int(line) for line in file.read_text().split()] if file.exists() else []


def noting_parent(value: str) -> str:
    return f"import os\nopen('../parents.txt', 'a').write(f'{{os.getppid()}}\\n')\nprint({value})"


@pytest.mark.kernel
def test_code_edits_fork_their_kernels_from_one_kept_zygote(tmp_path: Path, serve) -> None:
    root = project(tmp_path)
    write_notebook(root / "nbs" / "code.ipynb", "md:# Code", noting_parent("'run', 1"))
    server = serve(root)
    server.wait_builds(1, timeout=120)
    write_notebook(root / "nbs" / "code.ipynb", "md:# Code", noting_parent("'run', 2"))
    server.wait_builds(2, timeout=120)
    write_notebook(root / "nbs" / "code.ipynb", "md:# Code", noting_parent("'run', 3"))
    server.wait_builds(3, timeout=120)
    assert b"run 3" in server.get("code.html")[1]
    first, second, third = parents(root)
    assert first == second == third, "".join(server.err)
    zygote = first
    assert zygote != server.process.pid and zygote in _descendants(server.process.pid)
    assert _alive(zygote)  # between builds too
    assert server.stop() == 0, "".join(server.err)
    deadline = time.monotonic() + 5
    while _alive(zygote) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(zygote)
    assert "Traceback" not in "".join(server.err)


@pytest.mark.kernel
def test_an_edit_to_a_project_module_the_zygote_imported_reaches_the_notebook(
    tmp_path: Path, serve
) -> None:
    """The first cell imports the project's package, so the kept zygote imports it too: it
    must not fork kernels with the package as it was before the edit."""
    root = project(tmp_path)
    (root / "pyproject.toml").write_text(
        '[tool.docgen]\ntitle = "Demo"\nnbs = "nbs"\npackages = ["helper"]\n'
    )
    helper = root / "helper"
    helper.mkdir()
    (helper / "__init__.py").write_text("VALUE = 'first value'\n")
    write_notebook(
        root / "nbs" / "uses.ipynb", "md:# Uses", "import helper\n" + noting_parent("helper.VALUE")
    )
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    server = serve(root, env={**os.environ, "PYTHONPATH": path})
    server.wait_builds(1, timeout=120)
    assert b"first value" in server.get("uses.html")[1]
    (helper / "__init__.py").write_text("VALUE = 'second value'\n")
    server.wait_builds(2, timeout=120)
    page = server.get("uses.html")[1]
    assert b"second value" in page and b"first value" not in page, "".join(server.err)
    before, after = parents(root)
    assert before != after  # a new zygote, which imported the module as it is now
    # A code edit then forks from that zygote, still warm.
    write_notebook(
        root / "nbs" / "uses.ipynb",
        "md:# Uses",
        "import helper\n" + noting_parent("helper.VALUE, 3"),
    )
    server.wait_builds(3, timeout=120)
    assert b"second value 3" in server.get("uses.html")[1]
    assert parents(root)[-1] == after
