"""Preview latency: the time from saving a notebook to the change being visible in the page
a browser shows, through `docgen serve` (watcher, rebuild, server-sent event, reload).

Cases:
- prose edit on this project's docs (doc_nbs/, `--no-exec`: a prose edit runs no kernel
  either way, and the first build need not execute PyTorch);
- prose edit on a generated 1,000-page site (`--no-exec`);
- one-cell code edit on a generated one-notebook project, executed: its goal is the
  notebook's own run time (as `docgen serve` reports it) + 1 s.

Each save rewrites the notebook file whole, as Jupyter does; the clock stops when headless
Chromium (Debian's, as the browser tests use) finds the new text in the page, polled every
animation frame. Goals: prose <= 0.5 s on both sites; code <= run time + 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
PROSE_GOAL_S = 0.5
CODE_MARGIN_S = 1.0
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _md(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _code(text: str) -> dict:
    return {
        "cell_type": "code",
        "metadata": {},
        "source": text,
        "outputs": [],
        "execution_count": None,
    }


def _write(path: Path, cells: list[dict]) -> None:
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": KERNELSPEC}}
    nb["cells"] = [{**c, "id": f"c{i}"} for i, c in enumerate(cells)]
    tmp = path.with_suffix(".saving")
    tmp.write_text(json.dumps(nb, indent=1))
    tmp.replace(path)  # the way Jupyter saves: never a half-written notebook


class Served:
    """`docgen serve --port 0` in `root`, with its stderr collected."""

    def __init__(self, root: Path, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "docgen", "serve", "--port", "0", *args],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        line = self.process.stdout.readline()
        match = re.fullmatch(r"Serving (\S+)\n", line)
        if not match:
            raise SystemExit(f"docgen serve did not start: {line}{self.process.stderr.read()}")
        self.url = match.group(1)
        self.err: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.err.append(line)

    def build_seconds(self) -> list[float]:
        """How long each rebuild took, as `docgen serve` reports it (the first build left out)."""
        found = [re.match(r"built \d+ pages in ([\d.]+) s", line) for line in self.err]
        return [float(m.group(1)) for m in found if m][1:]

    def builds(self) -> int:
        return sum(line.startswith("built ") for line in self.err)

    def wait_builds(self, count: int, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while self.builds() < count:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("docgen serve failed:\n" + "".join(self.err[-30:]))
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.send_signal(2)
        self.process.wait(timeout=60)


def time_edits(served: Served, page, path: str, edit, text_of, repeats: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Seconds from each save to its text visible in the page at `path`."""
    page.goto(served.url + path)
    page.wait_for_function("() => document.readyState === 'complete'")
    time.sleep(1.0)  # the event stream connects
    times = []
    for i in range(repeats):
        builds = served.builds()
        start = time.perf_counter()
        edit(i)
        try:
            _wait_for_text(page, text_of(i))
        except Exception as e:
            raise SystemExit(f"{e}\n--- docgen serve said:\n" + "".join(served.err[-20:])) from e
        times.append(time.perf_counter() - start)
        served.wait_builds(builds + 1)
        time.sleep(0.5)  # the page settles, its event stream reconnects
    return times


def _wait_for_text(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "t => document.querySelector('main') && "
        "document.querySelector('main').innerText.includes(t)",
        arg=text,
        polling="raf",
        timeout=60_000,
    )


def prose_case(
    browser, root: Path, notebook: Path, page_path: str, repeats: int
) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    original = json.loads(notebook.read_text())
    served = Served(root, "--no-exec")
    try:
        served.wait_builds(1)
        page = browser.new_page()

        def edit(i: int) -> None:
            nb = json.loads(json.dumps(original))
            nb["cells"].insert(1, {**_md(f"Edited paragraph number {i}."), "id": f"bench{i}"})
            tmp = notebook.with_suffix(".saving")
            tmp.write_text(json.dumps(nb, indent=1))
            tmp.replace(notebook)

        times = time_edits(
            served, page, page_path, edit, lambda i: f"paragraph number {i}.", repeats
        )
        return times, served.build_seconds()
    finally:
        served.stop()
        notebook.write_text(json.dumps(original, indent=1))


def generated_site(root: Path, pages: int) -> None:
    (root / "nbs").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.docgen]\ntitle = "Generated"\nnbs = "nbs"\n')
    for n in range(pages):
        prose = "\n\n".join(f"Paragraph {j} of page {n}, about part {j} of it." for j in range(8))
        _write(
            root / "nbs" / f"page_{n:04d}.ipynb",
            [_md(f"# Page {n}\n\n{prose}"), _md(f"## Details\n\nMore about page {n}.")],
        )


def code_case(browser, root: Path, repeats: int) -> tuple[list[float], list[float], list[float]]:  # type: ignore[no-untyped-def]
    (root / "nbs").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.docgen]\ntitle = "Code"\nnbs = "nbs"\n')
    notebook = root / "nbs" / "index.ipynb"
    _write(notebook, [_md("# Code"), _code("print('value', 0)")])
    served = Served(root)
    try:
        served.wait_builds(1, timeout=300)
        page = browser.new_page()

        def edit(i: int) -> None:
            _write(notebook, [_md("# Code"), _code(f"print('value', {1000 + i})")])

        times = time_edits(served, page, "index.html", edit, lambda i: f"value {1000 + i}", repeats)
        runs = [
            float(m.group(1))
            for line in served.err
            if (m := re.match(r"ran .* in ([\d.]+) s", line))
        ]
        return times, served.build_seconds(), runs[1:]
    finally:
        served.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000, help="pages of the generated site")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rows: list[tuple[str, list[float], list[float], float]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        with tempfile.TemporaryDirectory(prefix="docgen-bench-serve-") as tmp:
            docs = Path(tmp) / "docs"
            shutil.copytree(REPO / "doc_nbs", docs / "doc_nbs")
            shutil.copy(REPO / "pyproject.toml", docs / "pyproject.toml")
            notebook = docs / "doc_nbs" / "02_writing.ipynb"
            times, builds = prose_case(browser, docs, notebook, "writing.html", args.repeats)
            rows.append(("prose edit, this project's docs", times, builds, PROSE_GOAL_S))
            site = Path(tmp) / "generated"
            generated_site(site, args.pages)
            name = f"page_{args.pages // 2:04d}"
            times, builds = prose_case(
                browser, site, site / "nbs" / f"{name}.ipynb", f"{name}.html", args.repeats
            )
            rows.append((f"prose edit, {args.pages}-page site", times, builds, PROSE_GOAL_S))
            times, builds, runs = code_case(browser, Path(tmp) / "code", args.repeats)
            goal = statistics.median(runs) + CODE_MARGIN_S
            rows.append(("one-cell code edit", times, builds, goal))
        browser.close()
    for name, times, builds, goal in rows:
        median = statistics.median(times)
        verdict = "meets" if median <= goal else "misses"
        print(
            f"{name}: save to visible, median {median:.3f} s (max {max(times):.3f} s, "
            f"{len(times)} saves), of which the rebuild {statistics.median(builds):.3f} s; "
            f"{verdict} the goal of {goal:.2f} s"
        )


if __name__ == "__main__":
    main()
