"""Benchmark of the offline `docgen check`: pages checked per second on a generated site.

Generates a site of 2,000 pages (20 folders of 100) of 20-40 KB each, shaped like what
docgen writes: stylesheets and a script under _static/, a sidebar, eight sections with
ids and permalinks, pygments-highlighted code, an output image, links into other pages'
sections, into PyTorch's and Python's docs (through the installed nbdev indexes), the
page's notebook copy, and an objects.inv. About 50 links a page; none broken, but for
the few planted ones the run must find.

    python bench/check.py [--pages 2000] [--keep DIR]

Goal: 1,000 pages/s.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from docgen.api.external import nbdev_indexes  # noqa: E402
from docgen.api.inventory import InventoryItem, write_inventory  # noqa: E402
from docgen.linkcheck.offline import check_site  # noqa: E402

GOAL_PAGES_PER_S = 1000.0
FOLDERS = 20
SECTIONS = 8
PLANTED = 3  # broken links planted on purpose

WORDS = (
    "tensor augment batch image random crop flip rotate colour jitter pipeline device "
    "kernel gradient the a of to and in is with for on by this that each returns"
).split()

CODE = (
    '<div class="cell"><div class="input"><div class="highlight"><pre>'
    '<span class="kn">import</span> <span class="nn">torch</span>\n'
    '<span class="kn">from</span> <span class="nn">augment</span> '
    '<span class="kn">import</span> <span class="n">RandomCrop</span>'
    '<span class="p">,</span> <span class="n">Flip</span>\n'
    '<span class="n">x</span> <span class="o">=</span> <span class="n">torch</span>'
    '<span class="o">.</span><span class="n">rand</span><span class="p">(</span>'
    '<span class="mi">8</span><span class="p">,</span> <span class="mi">3</span>'
    '<span class="p">,</span> <span class="mi">224</span><span class="p">,</span> '
    '<span class="mi">224</span><span class="p">)</span>\n'
    '<span class="k">for</span> <span class="n">i</span> <span class="ow">in</span> '
    '<span class="nb">range</span><span class="p">(</span><span class="mi">{n}</span>'
    '<span class="p">):</span>\n'
    '    <span class="n">y</span> <span class="o">=</span> <span class="n">RandomCrop</span>'
    '<span class="p">(</span><span class="mi">128</span><span class="p">)(</span>'
    '<span class="n">x</span><span class="p">)</span>  '
    '<span class="c1"># &lt;a href="not-a-link.html"&gt; in a comment</span>\n'
    '    <span class="k">assert</span> <span class="n">y</span><span class="o">.</span>'
    '<span class="n">shape</span><span class="p">[</span><span class="o">-</span>'
    '<span class="mi">1</span><span class="p">]</span> <span class="o">==</span> '
    '<span class="mi">128</span>\n'
    "</pre></div></div>\n"
    '<div class="output"><pre>torch.Size([8, 3, 128, 128])\n'
    "tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])</pre></div></div>\n"
)


def external_urls() -> list[str]:
    indexes, _ = nbdev_indexes()
    return sorted(url for entries in indexes.values() for _, url in entries)


def page_path(i: int) -> str:
    return f"sec{i % FOLDERS:02d}/page{i // FOLDERS:03d}.html"


def make_page(i: int, n: int, rng: random.Random, externals: list[str]) -> str:
    here = page_path(i)
    folder = here.split("/")[0]
    up = "../"

    def rel(target: str) -> str:
        return target[len(folder) + 1 :] if target.startswith(folder + "/") else up + target

    def text(words: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(words))

    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Page {i} — augment</title>\n"
        f'<link rel="stylesheet" href="{up}_static/docgen.css">\n'
        f'<link rel="stylesheet" href="{up}_static/pygments.css">\n'
        f'<link rel="icon" href="{up}_static/favicon.svg">\n'
        f'<script defer src="{up}_static/search.js"></script>\n'
        "</head>\n<body>\n"
        f'<header><a class="brand" href="{up}index.html">augment</a>'
        '<a href="https://github.com/docgen-dev/augment">GitHub</a>'
        f'<input id="search" placeholder="Search (press /)" data-index="{up}_static/s.json">'
        '</header>\n<nav class="sidebar"><ul>\n'
    ]
    for k in range(8):
        j = (i + FOLDERS * (k - 4)) % n
        parts.append(
            f'<li><a href="{rel(page_path(j))}" title="Page {j} &gt; intro">Page {j}</a></li>\n'
        )
    for f in range(5):
        parts.append(f'<li><a href="{up}sec{(i + f) % FOLDERS:02d}/">Section {f}</a></li>\n')
    parts.append('</ul></nav>\n<main>\n<!-- <a href="commented-out.html"> -->\n')
    parts.append(f'<h1 id="page-{i}">Page {i}</h1>\n')
    for s in range(SECTIONS):
        other = page_path(rng.randrange(n))
        ext = rng.choice(externals)
        parts.append(
            f'<section><h2 id="section-{s}">Section {s} '
            f'<a class="anchor" href="#section-{s}">¶</a></h2>\n'
            f'<p>{text(40)} <a href="{rel(other)}#section-{rng.randrange(SECTIONS)}">'
            f'see {other}</a> {text(30)} <code><a href="{ext}">{ext.rsplit("#")[-1]}'
            f"</a></code> {text(60)}.</p>\n<p>{text(80)}</p>\n" + CODE.replace("{n}", str(s))
        )
        if s == 3:
            parts.append(
                f'<img src="{up}_images/{here[:-5].replace("/", "-")}-1.png" '
                'alt="augmented batch" width="640">\n'
            )
        parts.append("</section>\n")
    prev, nxt = page_path((i - 1) % n), page_path((i + 1) % n)
    parts.append(
        f'</main>\n<footer><a href="{rel(prev)}">Previous</a> <a href="{rel(nxt)}">Next</a>'
        f' <a href="{here.split("/")[1][:-5]}.ipynb" download>Notebook</a></footer>\n'
        "<script>const tpl = '<a href=\"in-a-script.html\">'; if (1 < 2) {}</script>\n"
        "</body>\n</html>\n"
    )
    return "".join(parts)


NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
    },
    "cells": [
        {
            "id": f"c{k}",
            "cell_type": "code",
            "execution_count": k + 1,
            "metadata": {},
            "source": "import torch\nx = torch.rand(8, 3, 224, 224)\n" * 4,
            "outputs": [
                {
                    "output_type": "stream",
                    "name": "stdout",
                    "text": "torch.Size([8, 3, 128, 128])\n" * 20,
                }
            ],
        }
        for k in range(SECTIONS)
    ],
}


def make_site(root: Path, n: int) -> None:
    rng = random.Random(0)
    externals = external_urls()
    (root / "_static").mkdir(parents=True)
    (root / "_images").mkdir()
    for name in ("docgen.css", "pygments.css", "favicon.svg", "search.js", "s.json"):
        (root / "_static" / name).write_text("/* */\n")
    notebook = json.dumps(NOTEBOOK, indent=1)
    for f in range(FOLDERS):
        (root / f"sec{f:02d}").mkdir()
    items = []
    for i in range(n):
        here = page_path(i)
        (root / here).write_text(make_page(i, n, rng, externals), encoding="utf-8")
        (root / here.replace(".html", ".ipynb")).write_text(notebook)
        (root / "_images" / f"{here[:-5].replace('/', '-')}-1.png").write_bytes(b"\x89PNG")
        items += [
            InventoryItem(
                f"page{i}.section{s}", "std", "label", -1, f"{here}#section-{s}", f"Section {s}"
            )
            for s in range(SECTIONS)
        ]
    for f in range(FOLDERS):
        index = f"sec{f:02d}/index.html"
        (root / index).write_text(
            '<h1 id="top-of-section">Section</h1><a href="page000.html">first</a>'
        )
    (root / "index.html").write_text(
        '<h1 id="home">augment</h1>'
        + "".join(f'<a href="sec{f:02d}/">s{f}</a>' for f in range(FOLDERS))
        # The planted problems: a missing page, a missing anchor, a wrong PyTorch anchor.
        + '<a href="sec00/nope.html">x</a><a href="sec00/page000.html#nope">y</a>'
        + '<a href="https://pytorch.org/docs/stable/nn.html#torch.nn.Nope">z</a>'
    )
    (root / "objects.inv").write_bytes(write_inventory("augment", "1.0", items))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    parser.add_argument("--keep", type=Path, help="generate the site here and keep it")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="docgen-bench-check-"))
    root = args.keep or tmp / "site"
    try:
        if not (root / "objects.inv").exists():
            make_site(root, args.pages)
        html = list(root.rglob("*.html"))
        size = sum(p.stat().st_size for p in html) / len(html) / 1024
        best = None
        for _ in range(args.repeat):
            started = time.perf_counter()
            report = check_site(root)
            seconds = time.perf_counter() - started
            best = seconds if best is None else min(best, seconds)
        assert report is not None and best is not None
        broken = report.broken
        assert len(broken) == PLANTED, [f"{r.filename}:{r.lineno}: {r.uri}" for r in broken]
        pages_per_s = report.pages / best
        print(
            f"site: {report.pages} pages, mean {size:.1f} KB, {report.links} links "
            f"({report.links / report.pages:.0f} a page), {len(broken)} broken as planted"
        )
        print(
            f"offline check: {best:.2f} s (best of {args.repeat}) = {pages_per_s:,.0f} pages/s, "
            f"{report.links / best:,.0f} links/s"
        )
        print(f"goal 1,000 pages/s: {pages_per_s / GOAL_PAGES_PER_S:.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
