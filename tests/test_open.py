"""Opening pages as notebooks: the Open menu's files, Colab and Binder links pinned to the
commit checked out, their check against the git tree, the setup cell, and `docgen open`."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import nbformat
import pytest
from conftest import REPO, run_docgen, tagged, write_notebook
from nbformat.v4 import new_code_cell, new_markdown_cell

from docgen.config import Config
from docgen.model import Source
from docgen.site.downloads import GPU_NOTE, _pip_requirements
from docgen.site.git import git_checkout
from docgen.site.openlinks import binder_url, colab_url, open_targets, parse_repo_link

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
SETUP = "%pip install nbformat"


def git(*args: str, cwd: Path) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def gpu_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[new_markdown_cell("# Training"), new_code_cell("1 + 1")])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["docgen"] = {"requires_gpu": True}
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A git repository whose docs are in docs/ (not at its root), built once: committed
    notebooks (one in a subfolder, a GPU one), one never committed, one edited since."""
    repo = tmp_path_factory.mktemp("repo")
    docs = repo / "docs"
    nbs = docs / "nbs"
    (docs).mkdir()
    (docs / "pyproject.toml").write_text(
        '[tool.docgen]\nnbs = "nbs"\nrepo = "https://github.com/acme/widgets"\n'
        'packages = ["widgets"]\n'
        f"[tool.docgen.open]\nsetup = [{SETUP!r}]\n"
        "[tool.docgen.execute]\nallow_missing_gpu = true\nworkers = 2\n"
    )
    write_notebook(
        nbs / "index.ipynb",
        "md:# Widgets\n\nSome *prose* about widgets.",
        "x = 6 * 7\nprint(x)",
        # A setup cell kept in a source notebook is neither run nor shown by docgen.
        tagged("raise RuntimeError('the setup cell ran')", "docgen-setup"),
        "x + 1",
    )
    write_notebook(nbs / "sub" / "deep.ipynb", "md:# Deep page", "print('deep')")
    (docs / "widgets").mkdir()
    (docs / "widgets" / "__init__.py").write_text(
        'def area(w: int, h: int) -> int:\n    """The area of a widget."""\n    return w * h\n'
    )
    write_notebook(nbs / "edited.ipynb", "md:# Edited page", "print('before')")
    gpu_notebook(nbs / "gpu.ipynb")
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-qm", "docs", cwd=repo)
    write_notebook(nbs / "edited.ipynb", "md:# Edited page", "print('after')")
    write_notebook(nbs / "draft.ipynb", "md:# Draft page", "print('draft')")
    done = run_docgen("build", cwd=docs, timeout=300)
    assert done.returncode == 0, done.stderr
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    return {"repo": repo, "docs": docs, "site": docs / "site", "head": head, "build": done}


def links(html: str) -> dict[str, str]:
    return dict(re.findall(r'<a class="(open-[a-z]+)" href="([^"]+)"', html))


def test_colab_and_binder_links_pin_the_commit_and_path_from_the_git_root(project: dict) -> None:
    html = (project["site"] / "sub" / "deep.html").read_text()
    found = links(html)
    head = project["head"]
    assert found["open-colab"] == (
        f"https://colab.research.google.com/github/acme/widgets/blob/{head}/docs/nbs/sub/deep.ipynb"
    )
    assert found["open-binder"] == (
        f"https://mybinder.org/v2/gh/acme/widgets/{head}?labpath=docs%2Fnbs%2Fsub%2Fdeep.ipynb"
    )
    # Every download of the menu, relative to the page.
    assert found["open-notebook"] == "../sub/deep.ipynb"
    assert found["open-clean"] == "../sub/deep-clean.ipynb"
    assert found["open-script"] == "../sub/deep.py"
    assert '<details class="open-menu">' in html


@pytest.mark.parametrize("name", ["draft", "edited"])
def test_a_notebook_not_committed_unmodified_links_the_branch_with_a_warning(
    project: dict, name: str
) -> None:
    found = links((project["site"] / f"{name}.html").read_text())
    assert f"/blob/main/docs/nbs/{name}.ipynb" in found["open-colab"]
    assert "/widgets/main?labpath=" in found["open-binder"]
    stderr = project["build"].stderr
    assert re.search(rf"warning: \S*{name}\.ipynb .*branch 'main'", stderr), stderr


def test_a_generated_api_page_offers_the_downloads_only(project: dict) -> None:
    api = sorted((project["site"] / "api").glob("*.html"))
    assert api, sorted(p.name for p in project["site"].iterdir())
    found = links(api[0].read_text())
    assert {"open-notebook", "open-clean", "open-script"} <= set(found)
    assert "open-colab" not in found and "open-binder" not in found
    for kind in ("notebook", "clean", "script"):
        assert (api[0].parent / found[f"open-{kind}"]).is_file()


def test_ref_from_config_and_no_git(tmp_path: Path) -> None:
    nb = tmp_path / "nbs" / "a.ipynb"
    write_notebook(nb, "1")
    source = Source(nb, nb.relative_to(tmp_path / "nbs"), "a.html")
    api = Source(tmp_path / "nbs" / "api" / "m.ipynb", nb.relative_to(tmp_path), "api/m.html", True)
    config = Config(root=tmp_path, repo="https://github.com/o/r.git", branch="dev")
    warnings: list[str] = []
    # Not a repository: the branch, no warning, no crash.
    assert git_checkout(tmp_path) is None
    targets = open_targets(config, [source, api], None, warnings.append)
    assert (targets["a.html"].ref, targets["a.html"].path) == ("dev", "nbs/a.ipynb")
    assert "api/m.html" not in targets  # generated API pages have no source: downloads only
    assert warnings == []
    pinned = Config(root=tmp_path, repo=config.repo, open_ref="v1.2")
    assert open_targets(pinned, [source], None, warnings.append)["a.html"].ref == "v1.2"
    assert (
        open_targets(
            Config(root=tmp_path, repo="https://gitlab.com/o/r"), [source], None, warnings.append
        )
        == {}
    )


def test_links_read_back() -> None:
    url = colab_url("https://github.com/o/r", "release/1.0", "docs/my nb.ipynb")
    link = parse_repo_link(url)
    assert link is not None and ("release/1.0", "docs/my nb.ipynb") in link.splits
    binder = parse_repo_link(binder_url("https://github.com/o/r", "release/1.0", "a/b.ipynb"))
    assert binder is not None and binder.splits == (("release/1.0", "a/b.ipynb"),)
    assert parse_repo_link("https://example.org/x") is None


def test_the_clean_notebook_has_no_outputs_is_valid_and_runs(project: dict) -> None:
    from nbclient import NotebookClient

    site = project["site"]
    executed = nbformat.read(site / "index.ipynb", as_version=4)
    assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")
    clean = nbformat.read(site / "index-clean.ipynb", as_version=4)
    nbformat.validate(clean)
    code = [c for c in clean.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    assert "provenance" not in clean.metadata.get("docgen", {})
    # Top to bottom in a real kernel, the setup cell included (it is guarded: nbformat is
    # installed, so it installs nothing). The source's own setup-tagged cell would raise:
    # drop it, as a reader would who runs what the page shows.
    clean.cells = [c for c in clean.cells if "the setup cell ran" not in c.source]
    NotebookClient(clean, timeout=60, kernel_name="python3").execute()
    assert clean.cells[0].metadata.tags == ["docgen-setup"]
    assert clean.cells[0].outputs == []  # no pip ran
    assert any("42" in str(c.outputs) for c in clean.cells if c.cell_type == "code")


def test_the_script_has_the_code_and_the_markdown_as_comments(project: dict) -> None:
    script = (project["site"] / "index.py").read_text()
    assert "x = 6 * 7\nprint(x)" in script
    assert "# # Widgets" in script and "# Some *prose* about widgets." in script
    assert "get_ipython().run_line_magic('pip', 'install nbformat')" in script
    compile(script, "index.py", "exec")


def test_the_setup_cell_is_in_both_downloads_not_on_the_page_and_never_run(project: dict) -> None:
    site = project["site"]
    for name in ("index.ipynb", "index-clean.ipynb"):
        first = nbformat.read(site / name, as_version=4).cells[0]
        assert first.metadata.tags == ["docgen-setup"]
        assert SETUP in first.source and "except PackageNotFoundError:" in first.source
    html = (site / "index.html").read_text()
    assert "pip install" not in html and "the setup cell ran" not in html
    # The build ran the notebook: its own setup-tagged cell, which raises, did not run.
    executed = nbformat.read(site / "index.ipynb", as_version=4)
    tagged_cell = next(c for c in executed.cells if "the setup cell ran" in c.source)
    assert tagged_cell.outputs == []


def test_setup_guard_reads_pip_lines() -> None:
    assert _pip_requirements("%pip install mylib==1.2 'other[x]>=2' -q") == ["mylib", "other"]
    assert _pip_requirements("!pip install git+https://x/y.git") == []
    assert _pip_requirements("!apt-get install ffmpeg") == []


def test_a_gpu_page_says_which_runtime_it_needs(project: dict) -> None:
    site = project["site"]
    html = (site / "gpu.html").read_text()
    assert 'class="open-gpu"' in html and "GPU runtime" in html
    for name in ("gpu.ipynb", "gpu-clean.ipynb"):
        nb = nbformat.read(site / name, as_version=4)
        assert nb.cells[0].source == GPU_NOTE and nb.metadata.accelerator == "GPU"
    assert 'class="open-gpu"' not in (site / "index.html").read_text()


def test_check_verifies_colab_and_binder_paths_in_the_git_tree(project: dict) -> None:
    done = run_docgen("check", cwd=project["docs"])
    assert done.returncode == 1, done.stdout
    # The draft was never committed: its links open nothing; the deep page's work.
    assert re.search(
        r"draft\.html:\d+: https://colab\S+/docs/nbs/draft\.ipynb — docs/nbs/"
        r"draft\.ipynb is not in the git tree at 'main'",
        done.stdout,
    ), done.stdout
    assert "deep.ipynb is not" not in done.stdout and "edited.ipynb is not" not in done.stdout
    assert ": 2 broken" in done.stdout  # the draft's Colab and Binder links; none else


def test_check_flags_a_link_whose_path_is_not_in_the_tree(project: dict, tmp_path: Path) -> None:
    docs = tmp_path / "repo" / "docs"
    shutil.copytree(project["repo"], tmp_path / "repo")
    page = docs / "site" / "sub" / "deep.html"
    page.write_text(page.read_text().replace("docs/nbs/sub/deep.ipynb", "docs/nbs/deep.ipynb"))
    (docs / "nbs" / "draft.ipynb").unlink()  # and its page's links stay broken
    done = run_docgen("check", cwd=docs)
    assert "sub/deep.html" in done.stdout
    assert "docs/nbs/deep.ipynb is not in the git tree at '" + project["head"] in done.stdout


def test_download_names_that_clash_fail_the_build(tmp_path: Path) -> None:
    write_notebook(tmp_path / "doc_nbs" / "a.ipynb", "md:# A")
    write_notebook(tmp_path / "doc_nbs" / "a-clean.ipynb", "md:# A, clean")
    done = run_docgen("build", "--no-exec", cwd=tmp_path)
    assert done.returncode == 1
    assert "a-clean.ipynb" in done.stderr and "clean notebook" in done.stderr
    assert not (tmp_path / "site").exists()


# --- docgen open ---------------------------------------------------------------------------


def _serve(directory: Path, handler: type | None = None) -> tuple[str, http.server.HTTPServer]:
    factory = handler or partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), factory)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/", server


class _FakeLab(http.server.BaseHTTPRequestHandler):
    """Answers as JupyterLab does at /lab: enough for docgen to tell it is Lab."""

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200 if self.path.startswith("/lab") else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site_url(project: dict) -> Iterator[str]:
    url, server = _serve(project["site"])
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_lab(tmp_path: Path, project: dict) -> Iterator[dict]:
    """A running 'JupyterLab' as its runtime file lists it (the test's own pid, so it is
    alive), rooted at `root`."""
    url, server = _serve(tmp_path, _FakeLab)
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    root = tmp_path / "root"
    (root / "tmp").mkdir(parents=True)
    yield {"url": url, "runtime": runtime, "root": root, "server": server}
    server.shutdown()
    server.server_close()


def _register(lab: dict, root: Path) -> None:
    info = {"url": lab["url"], "token": "tok", "root_dir": str(root), "pid": os.getpid()}
    (lab["runtime"] / f"jpserver-{os.getpid()}.json").write_text(json.dumps(info))


def docgen_open(*args: str, cwd: Path, lab: dict, path: str | None = None, timeout: float = 60):
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(lab["runtime"]),
        "TMPDIR": str(lab["root"] / "tmp"),
        "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "docgen", "open", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("clean", [False, True])
def test_open_a_published_page_downloads_its_notebook(
    project: dict, site_url: str, fake_lab: dict, clean: bool
) -> None:
    _register(fake_lab, fake_lab["root"])
    flags = ["--clean"] if clean else []
    done = docgen_open(
        f"{site_url}sub/deep.html", "--print", *flags, cwd=fake_lab["root"], lab=fake_lab
    )
    assert done.returncode == 0, done.stderr
    name = "deep-clean.ipynb" if clean else "deep.ipynb"
    m = re.fullmatch(
        rf"{fake_lab['url']}lab/tree/(tmp/docgen-open-[^/]+/{name})\?token=tok\n", done.stdout
    )
    assert m, done.stdout
    downloaded = fake_lab["root"] / m.group(1)
    assert downloaded.read_bytes() == (project["site"] / "sub" / name).read_bytes()


def test_open_a_page_of_this_project_by_title_or_path(project: dict, fake_lab: dict) -> None:
    _register(fake_lab, project["docs"])
    expected = f"{fake_lab['url']}lab/tree/nbs/sub/deep.ipynb?token=tok\n"
    for page in ("deep page", "nbs/sub/deep.ipynb"):
        done = docgen_open(page, "--print", cwd=project["docs"], lab=fake_lab)
        assert (done.returncode, done.stdout) == (0, expected), done.stderr


@pytest.fixture
def plain_site(tmp_path: Path) -> Iterator[str]:
    """A site that is not docgen's."""
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "p.html").write_text("<html><head><title>x</title></head></html>")
    url, server = _serve(tmp_path / "plain")
    yield f"{url}p.html"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "page, message",
    [
        ("deap pag", "no page of .* has 'deap pag' in its title; did you mean 'Deep page'"),
        ("page", "'page' matches 3 pages: .*add words to pick one"),
        (
            "nbs/sub/deap.ipynb",
            "the notebook nbs/sub/deap.ipynb does not exist; did you mean 'nbs/sub/deep.ipynb'",
        ),
        ("UNREACHABLE", "cannot reach the page http://127.0.0.1:\\d+/x.html: .*connection"),
        ("PLAIN", "is not a page of a docgen site"),
        ("MISSING", "the page http://127.0.0.1:\\d+/nope.html answered HTTP 404"),
        ("deep page --clean", "--clean takes the notebook without outputs that a published"),
    ],
)
def test_open_bad_input_is_a_clear_message(
    project: dict, site_url: str, plain_site: str, fake_lab: dict, page: str, message: str
) -> None:
    _register(fake_lab, fake_lab["root"])
    if page == "UNREACHABLE":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            page = f"http://127.0.0.1:{s.getsockname()[1]}/x.html"  # nothing listens there
    page = {"PLAIN": plain_site, "MISSING": f"{site_url}nope.html"}.get(page, page)
    flags = ["--clean"] if page.endswith(" --clean") else []
    page = page.removesuffix(" --clean")
    done = docgen_open(page, "--print", *flags, cwd=project["docs"], lab=fake_lab)
    assert done.returncode == 2, done.stdout + done.stderr
    assert re.search(message, done.stderr), done.stderr
    assert "Traceback" not in done.stderr
    assert not list((fake_lab["root"] / "tmp").glob("docgen-open-*"))  # nothing left behind


def test_open_without_jupyter_says_what_to_install(project: dict, fake_lab: dict) -> None:
    here = Path(sys.executable).parent
    if any((here / name).exists() for name in ("jupyter-lab", "jupyter-notebook")):
        pytest.skip("Jupyter is installed beside this Python")
    done = docgen_open(
        "deep page",
        "--print",
        cwd=project["docs"],
        lab=fake_lab,
        path=os.path.dirname(shutil.which("git") or "/usr/bin/git"),
    )
    assert done.returncode == 2
    assert "pip install jupyterlab" in done.stderr and "deep.ipynb" in done.stderr


def test_open_starts_jupyterlab_when_none_runs(project: dict, fake_lab: dict) -> None:
    lab = shutil.which("jupyter-lab")
    if lab is None:
        pytest.skip("JupyterLab is not installed on PATH")
    done = docgen_open("deep page", "--print", cwd=project["docs"], lab=fake_lab, timeout=150)
    records = list(fake_lab["runtime"].glob("jpserver-*.json"))
    pids = [json.loads(p.read_text())["pid"] for p in records]
    try:
        assert done.returncode == 0, done.stderr
        url = done.stdout.strip()
        assert "/lab/tree/nbs/sub/deep.ipynb?token=" in url
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while pids and time.monotonic() < deadline:
            pids = [p for p in pids if _alive(p)]
            time.sleep(0.2)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_open_options_live_in_their_table(tmp_path: Path) -> None:
    from docgen.config import load_config
    from docgen.errors import UsageError

    config_file = tmp_path / "pyproject.toml"
    config_file.write_text('[tool.docgen.open]\nref = "v1.0"\nsetup = ["%pip install x"]\n')
    config = load_config(cwd=tmp_path)
    assert (config.open_ref, config.open_setup) == ("v1.0", ["%pip install x"])
    for text, message in [
        (
            '[tool.docgen]\nsetup = ["x"]\n',
            r"option 'setup' in \[tool.docgen\] .* belongs in "
            r"\[tool.docgen.open\]",
        ),
        ('[tool.docgen.open]\nrefs = "x"\n', "unknown option 'refs' .*did you mean 'ref'"),
        ("[tool.docgen.open]\nsetup = 1\n", "option 'setup' must be a list of strings"),
    ]:
        config_file.write_text(text)
        with pytest.raises(UsageError, match=message):
            load_config(cwd=tmp_path)


@pytest.mark.browser
def test_the_open_menu_works_from_the_keyboard_without_javascript(browser, project: dict) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto((project["site"] / "sub" / "deep.html").as_uri())
        item = tab.locator("a.open-clean")
        assert not item.is_visible()
        tab.locator(".open-menu summary").focus()
        tab.keyboard.press("Enter")
        assert item.is_visible()
        tab.keyboard.press("Tab")  # the first entry of the menu
        focused = tab.evaluate("document.activeElement.className")
        assert focused == "open-notebook"
    finally:
        context.close()
