"""Rendering speed and page size: `docgen build --no-exec` against `jupyter nbconvert --to html`.

Both render the same folder of executed notebooks, in separate processes, several times in
this one run; the script prints the median times, their ratio, and the median page sizes
with images left out (nbconvert inlines them as base64; docgen writes them as files).
nbconvert's page also inlines its theme (<style> and <script> blocks, the same on every
page), where docgen's links a stylesheet and scripts shared by all pages (their size is
printed too, once per site); so
the size is compared twice: against nbconvert's whole page, and against its page with every
<style> and <script> block removed, which shows the markup of the notebook itself.

Corpus: by default the executed notebooks of this project's own documentation, as the last
`make docs` copied them into site/ (real pages: prose, code, tables, plots, tracebacks).
Any folder of notebooks with outputs can be given instead: `bench/render.py DIR`.
Goals: at least 10x faster than nbconvert, and at most 1/10 of its median page size (whole).
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA_URI = re.compile(rb"data:image/[a-z+]+;base64,[A-Za-z0-9+/=\s]+")
INLINE_THEME = re.compile(rb"<(style|script)\b[^>]*>.*?</\1\s*>", re.DOTALL | re.IGNORECASE)


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def page_sizes(folder: Path, skip: set[str], strip_theme: bool = False) -> list[int]:
    """Bytes of each page without its images; with `strip_theme`, without <style>/<script> too."""
    sizes = []
    for page in folder.rglob("*.html"):
        if page.name in skip:
            continue
        html = DATA_URI.sub(b"", page.read_bytes())
        if strip_theme:
            html = INLINE_THEME.sub(b"", html)
        sizes.append(len(html))
    return sizes


def corpus_from(source: Path, into: Path) -> list[Path]:
    """Copy the notebooks of `source` (not the site's other files) into a folder of their own."""
    notebooks = sorted(source.rglob("*.ipynb"))
    for nb in notebooks:
        target = into / nb.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(nb, target)
    return sorted(into.rglob("*.ipynb"))


def write_synthetic_corpus(into: Path, notebooks: int = 22, cells: int = 82) -> None:
    """Notebooks of many short code cells with stored outputs, like a tutorial series:
    the shape of the corpus behind the goal (22 notebooks, about 1,800 code cells)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    into.mkdir(parents=True, exist_ok=True)
    for i in range(notebooks):
        nb = new_notebook()
        nb.metadata.kernelspec = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nb.metadata.language_info = {"name": "python", "pygments_lexer": "ipython3"}
        nb.cells.append(new_markdown_cell(f"# Lesson {i}\n\nA generated page of many cells."))
        for j in range(cells):
            if j % 3 == 0:
                nb.cells.append(
                    new_markdown_cell(
                        f"## Step {j}\n\nSome prose with `code`, *emphasis* and a "
                        "[link](https://example.org).\n\n- item one\n- item two"
                    )
                )
            cell = new_code_cell(
                f"import numpy as np\nx = np.arange({j})\nfor k in range(3):\n"
                "    print(k, x.sum())\nx.mean()",
                execution_count=j + 1,
            )
            cell.outputs = [
                new_output("stream", name="stdout", text="0 1\n1 2\n2 3\n"),
                new_output("execute_result", data={"text/plain": f"{j}.5"}, execution_count=j + 1),
            ]
            nb.cells.append(cell)
        nbformat.write(nb, into / f"lesson_{i:02d}.ipynb")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=REPO / "site")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--synthetic",
        action="store_true",
        help="use 22 generated notebooks of 82 short code cells each instead of a folder",
    )
    args = parser.parse_args()
    if args.synthetic:
        generated = tempfile.TemporaryDirectory()
        args.corpus = Path(generated.name)
        write_synthetic_corpus(args.corpus)
    if not args.corpus.is_dir() or not any(args.corpus.rglob("*.ipynb")):
        print(f"no notebooks under {args.corpus}; run `make docs` first or name a folder")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        notebooks = corpus_from(args.corpus, work / "nbs")
        cells = sum(p.read_text().count('"cell_type": "code"') for p in notebooks)
        print(f"corpus: {len(notebooks)} notebooks, {cells} code cells, from {args.corpus}")
        docgen = [
            sys.executable,
            "-m",
            "docgen",
            "build",
            "--no-exec",
            "--nbs",
            str(work / "nbs"),
            "--out",
            str(work / "docgen"),
        ]
        nbconvert = [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "html",
            "--output-dir",
            str(work / "nbconvert"),
            *map(str, notebooks),
        ]
        times: dict[str, list[float]] = {"docgen": [], "nbconvert": []}
        for _ in range(args.repeat):  # interleaved, so drift in machine load hits both alike
            times["docgen"].append(timed(docgen, work))
            times["nbconvert"].append(timed(nbconvert, work))
        ours = statistics.median(times["docgen"])
        theirs = statistics.median(times["nbconvert"])
        size_ours = statistics.median(page_sizes(work / "docgen", {"404.html"}))
        size_theirs = statistics.median(page_sizes(work / "nbconvert", set()))
        size_bare = statistics.median(page_sizes(work / "nbconvert", set(), strip_theme=True))
        assets = sum(
            f.stat().st_size
            for f in (work / "docgen" / "_static").iterdir()
            if f.is_file() and f.suffix in {".css", ".js"} and not f.name.startswith("search-index")
        )

    def runs(name: str) -> str:
        return ", ".join(f"{t:.2f}" for t in times[name])

    print(f"docgen build --no-exec   median {ours:6.2f} s  (runs: {runs('docgen')})")
    print(f"jupyter nbconvert --html median {theirs:6.2f} s  (runs: {runs('nbconvert')})")
    print(f"speed: docgen is {theirs / ours:.1f}x faster than nbconvert (goal: >= 10x)")
    print(
        f"median page without images: docgen {size_ours / 1024:.1f} KB, "
        f"nbconvert {size_theirs / 1024:.1f} KB"
        f" -> {size_ours / size_theirs:.3f} of nbconvert's whole page (goal: <= 0.100)"
    )
    print(
        f"median page without images, nbconvert's <style> and <script> blocks removed: "
        f"nbconvert {size_bare / 1024:.1f} KB -> docgen's whole page is "
        f"{size_ours / size_bare:.2f} of it"
    )
    print(f"docgen's shared stylesheets and scripts (_static/*.css, *.js, loaded once per site, "
          f"search index not included): {assets / 1024:.1f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
