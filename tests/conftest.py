"""Shared fixtures: notebooks written on the fly, and running the docgen CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parent.parent
# Browser tests drive Debian's Chromium (Playwright's own browser download cannot work offline).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking"]


@pytest.fixture(scope="module")  # one browser per test module
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (make test installs it with apt)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite tests/golden/ from the current output"
    )


def write_notebook(path: Path, *cells: str | nbformat.NotebookNode) -> Path:
    """Write a notebook: strings are code cells, or markdown cells when they start with 'md:'."""
    nb = new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for cell in cells:
        if isinstance(cell, str):
            cell = new_markdown_cell(cell[3:]) if cell.startswith("md:") else new_code_cell(cell)
        nb.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def tagged(source: str, *tags: str) -> nbformat.NotebookNode:
    cell = new_code_cell(source)
    cell.metadata["tags"] = list(tags)
    return cell


def run_docgen(*args: str | Path, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "docgen", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by relative path, with its bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# Property tests explore the same examples on every run, so CI cannot fail on a draw that
# no one has seen before; new examples come from changing the strategies, on purpose.
from hypothesis import settings  # noqa: E402

settings.register_profile("docgen", derandomize=True, deadline=None)
settings.load_profile("docgen")


def without_provenance(files: dict[str, bytes]) -> dict[str, bytes]:
    """A site with what legitimately differs between two runs taken out: the run line, the
    provenance of each executed notebook copy (which must have one), the timing report."""
    kept = {}
    for name, data in files.items():
        if name.startswith("_timings."):
            continue
        if name.endswith(".html"):
            data = re.sub(rb'<p class="provenance">[^<]*</p>', b"", data)
        elif name.endswith("-clean.ipynb"):  # no outputs, so nothing about where they came from
            assert "provenance" not in json.loads(data)["metadata"].get("docgen", {})
        elif name.endswith(".ipynb"):
            nb = json.loads(data)
            assert nb["metadata"]["docgen"].pop("provenance")["device"]
            data = json.dumps(nb, sort_keys=True).encode()
        kept[name] = data
    return kept


def live_processes(marker: str) -> set[int]:
    """Live (not zombie) processes whose command line, arguments joined by spaces, holds
    `marker`."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != "Z":
            found.add(int(entry.name))
    return found


def run_python(script: str, cwd: Path, *path: Path, timeout: float = 120) -> str:
    """What `script` prints, run by a fresh interpreter in `cwd` with this checkout (and
    `path`) on its import path; a failure is the test's, with the script's stderr."""
    import os

    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(map(str, [REPO, *path]))},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
