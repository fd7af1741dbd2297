"""Search: ranking quality on docgen's own docs, and load time and size on a 1,000-page site.

1. Precision@1 over docgen's own docs (doc_nbs/), ranked by the site's own search.js in
   headless Chromium, on two query sets reported apart: the tuning set
   (tests/fixtures/search_queries.json), which the ranker was adjusted on, and the evaluation
   set (tests/fixtures/search_eval.json), written from the docs' prose before it was ever run
   and never used to adjust anything. Only the evaluation figure says how well search works.
2. A synthetic site of 1,000 pages (prose from the standard library's docstrings, code
   cells with outputs, API entries on every fifth page), built with `--no-exec`: the time
   from the first keystroke in a freshly opened page to the results on screen (loading the
   index script, building the term index, ranking, drawing), from file:// and over HTTP.
   Goal: 200 ms.
3. Sizes, for both sites: the index script (`_static/search-index.js`) and the text shards
   (`_static/search-text/*.js`), against the indexed text (the UTF-8 bytes of the page titles,
   headings, API names and section prose that the index is built from). The goal (index at most
   30%) is measured against the page bodies (their HTML, markup included), printed too.

`--minisearch FILE` (the UMD build from `npm pack minisearch@7`) also times MiniSearch
indexing the same sections, and measures its serialized index, for comparison.

Usage: .venv/bin/python bench/search.py [--pages 1000] [--repeat 5] [--minisearch FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import importlib
import inspect
import json
import random
import statistics
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from docgen.config import load_config  # noqa: E402
from docgen.pipeline import build  # noqa: E402
from docgen.site.search import SEARCH_INDEX, SEARCH_TEXT, index_data, site_text_size  # noqa: E402

TUNING = REPO / "tests" / "fixtures" / "search_queries.json"
EVALUATION = REPO / "tests" / "fixtures" / "search_eval.json"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking"]
GOAL_MS = 200.0
GOAL_SIZE = 0.30
FIRST_QUERY = "socket timeout"
CORPUS_MODULES = (
    "os", "re", "json", "pathlib", "collections", "itertools", "functools", "subprocess",
    "threading", "asyncio", "argparse", "logging", "typing", "dataclasses", "inspect", "shutil",
    "tempfile", "socket", "ssl", "zipfile", "tarfile", "csv", "sqlite3", "decimal", "statistics",
    "random", "string", "textwrap", "difflib", "heapq", "enum", "contextlib", "io", "datetime",
    "calendar", "unittest", "pickle", "pprint", "multiprocessing", "concurrent.futures", "queue",
    "selectors", "signal", "struct", "weakref", "types", "glob", "gzip", "hashlib", "base64",
    "uuid", "ipaddress", "smtplib", "configparser", "shlex", "ast", "tokenize", "traceback",
    "warnings", "email.message", "http.client", "urllib.request", "xml.etree.ElementTree",
)

# One fresh page: the time from the first keystroke to the results on screen.
TYPE_AND_WAIT = """query => new Promise(resolve => {
  const box = document.querySelector(".search");
  const input = box.querySelector(".search-input");
  const start = performance.now();
  box.addEventListener("docgen:results", e => resolve([performance.now() - start, e.detail.count]),
                       {once: true});
  input.value = query;
  input.dispatchEvent(new Event("input"));
})"""

MINISEARCH_TIMES = """docs => {
  const options = {fields: ["title", "heading", "text"]};
  let start = performance.now();
  const ms = new MiniSearch(options);
  ms.addAll(docs);
  const build = performance.now() - start;
  const json = JSON.stringify(ms);
  start = performance.now();
  MiniSearch.loadJSON(json, options);
  return {build, load: performance.now() - start, serialized: json.length};
}"""


# --- corpora ----------------------------------------------------------------------


def docstring_paragraphs() -> list[str]:
    paragraphs: dict[str, None] = {}
    for name in CORPUS_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        objects = [module] + [getattr(module, n) for n in dir(module) if not n.startswith("_")]
        for obj in objects:
            doc = inspect.getdoc(obj)
            if not isinstance(doc, str):
                continue
            for paragraph in doc.split("\n\n"):
                paragraph = " ".join(paragraph.split())
                if len(paragraph) > 80 and not paragraph.startswith(">>>"):
                    paragraphs[paragraph] = None
    return list(paragraphs)


def synthetic_notebooks(folder: Path, pages: int, seed: int = 7) -> None:
    """`pages` notebooks like doc pages: prose sections, code cells with output, API entries."""
    rng = random.Random(seed)
    paragraphs = docstring_paragraphs()
    words = sorted({w for p in paragraphs for w in p.split() if w.isalpha() and len(w) > 3})

    def phrase(n: int) -> str:
        return " ".join(rng.choice(words) for _ in range(n)).capitalize()

    for number in range(pages):
        nb = new_notebook()
        nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3",
                                  "language": "python"}
        title = phrase(rng.randint(2, 5))
        nb.cells.append(new_markdown_cell(f"# {title}\n\n{rng.choice(paragraphs)}"))
        for _ in range(rng.randint(4, 6)):
            prose = "\n\n".join(rng.choice(paragraphs) for _ in range(rng.randint(1, 2)))
            nb.cells.append(new_markdown_cell(f"## {phrase(rng.randint(1, 4))}\n\n{prose}"))
            name = rng.choice(words).lower()
            code = f"{name} = make_{name}(size={rng.randint(2, 64)})\nresult = {name}.run()\nresult"
            cell = new_code_cell(code, execution_count=1)
            cell.outputs = [new_output("stream", name="stdout",
                                       text=f"{name}: {rng.random():.4f} s\n" * rng.randint(1, 4))]
            nb.cells.append(cell)
        if number % 5 == 0:
            module = f"synth.mod{number}"
            entries = []
            for _ in range(3):
                name = f"{rng.choice(words).lower()}_{rng.choice(words).lower()}"
                entries.append(
                    f'<div class="api-doc api-function" data-name="{module}.{name}">'
                    f'<h3 class="api-heading" id="{module}.{name}">'
                    f'<code class="api-name">{name}</code></h3>'
                    f'<div class="api-docstring"><p>{rng.choice(paragraphs)}</p></div></div>'
                )
            nb.cells.append(new_markdown_cell("\n\n".join(entries)))
        target = folder / f"part{number // 50:02d}" / f"page{number:04d}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)


def build_site(project: Path, out: Path, nbs: Path | None = None) -> list:
    """Build the docs of the project at `project` (its pyproject.toml) with `--no-exec`."""
    overrides: dict[str, object] = {"out": out, "execute": False}
    if nbs is not None:
        overrides["nbs"] = nbs
    return build(load_config(cwd=project, overrides=overrides), log=lambda _: None).pages


# --- browser ----------------------------------------------------------------------


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def first_query_ms(browser, url: str, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        context = browser.new_context()
        page = context.new_page()
        page.goto(url)
        ms, count = page.evaluate(TYPE_AND_WAIT, FIRST_QUERY)
        assert count > 0, f"no results for {FIRST_QUERY!r}"
        times.append(ms)
        context.close()
    return times


def precision_at_1(  # type: ignore[no-untyped-def]
    browser, site: Path, queries: list[dict]
) -> tuple[float, float, list[str]]:
    page = browser.new_page()
    page.goto((site / "index.html").as_uri())
    results = page.evaluate(
        "qs => Promise.all(qs.map(q => docgenSearch.search(q, 1)))", [q["query"] for q in queries]
    )
    page.close()
    pages = sections = 0
    misses = []
    for q, found in zip(queries, results, strict=True):
        url, _, anchor = (found[0]["url"] if found else "").partition("#")
        pages += url == q["page"]
        sections += url == q["page"] and (q["section"] is None or anchor == q["section"])
        if url != q["page"]:
            misses.append(f"{q['query']!r} -> {found[0]['url'] if found else 'nothing'} "
                          f"(expected {q['page']})")
    return pages / len(queries), sections / len(queries), misses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--minisearch", type=Path, help="MiniSearch's UMD build, to compare")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium")
        return 2
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        work = Path(tmp)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        own = build_site(REPO, work / "own")
        for name, path in [("tuning", TUNING), ("evaluation", EVALUATION)]:
            queries = json.loads(path.read_text())["queries"]
            p1, sections, misses = precision_at_1(browser, work / "own", queries)
            hits = round(p1 * len(queries))
            print(f"search quality, {name} set ({path.name}, {len(queries)} queries over "
                  f"doc_nbs/): precision@1 {p1:.0%} ({hits}/{len(queries)}, page), "
                  f"{sections:.0%} (page and section)")
            for miss in misses:
                print(f"  miss: {miss}")
        report_sizes("docgen's docs", work / "own", own)

        synthetic_notebooks(work / "nbs", args.pages)
        (work / "pyproject.toml").write_text('[tool.docgen]\ntitle = "Synthetic"\n')
        pages = build_site(work, work / "site", work / "nbs")
        report_sizes("synthetic site", work / "site", pages)
        text = site_text_size(pages)
        first = next(p for p in sorted((work / "site").rglob("*.html")) if p.name != "404.html")
        rel = first.relative_to(work / "site").as_posix()
        for how, url in [("file://", first.as_uri())]:
            times = first_query_ms(browser, url, args.repeat)
            report_times(how, times)
        with serve(work / "site") as base:
            report_times("HTTP", first_query_ms(browser, f"{base}/{rel}", args.repeat))

        if args.minisearch:
            data, texts = index_data(pages)
            docs = [{"id": i, "title": data["pages"][row[0]][1], "heading": row[2], "text": text}
                    for i, (row, text) in enumerate(zip(data["sections"], texts, strict=True))]
            page = browser.new_page()
            page.goto(first.as_uri())
            page.add_script_tag(path=str(args.minisearch))
            ms = page.evaluate(MINISEARCH_TIMES, docs)
            print(f"MiniSearch on the same sections: addAll {ms['build']:.0f} ms; serialized "
                  f"index {ms['serialized'] / 1024:.0f} KiB = "
                  f"{ms['serialized'] / indexed_text_size(pages):.0%} of the indexed text, "
                  f"{ms['serialized'] / text:.0%} of the page bodies; "
                  f"loadJSON {ms['load']:.0f} ms")
        browser.close()
    return 0


def indexed_text_size(pages: list) -> int:
    """UTF-8 bytes of what the index is built from: titles, headings, API names, section prose."""
    data, texts = index_data(pages)
    titles = sum(len(row[1].encode()) for row in data["pages"])
    headings = sum(len(row[2].encode()) + (len(row[4].encode()) if len(row) > 4 else 0)
                   for row in data["sections"])
    return titles + headings + sum(len(t.encode()) for t in texts)


def report_sizes(name: str, site: Path, pages: list) -> None:
    index = (site / SEARCH_INDEX).stat().st_size
    shard_files = sorted((site / SEARCH_TEXT).iterdir())
    shards = sum(p.stat().st_size for p in shard_files)
    text = indexed_text_size(pages)
    bodies = site_text_size(pages)
    print(f"{name}: {len(pages)} pages, indexed text {text / 1024:.0f} KiB "
          f"(page bodies, markup included: {bodies / 1024:.0f} KiB)")
    print(f"  index {index / 1024:.0f} KiB = {index / text:.0%} of the indexed text; "
          f"{len(shard_files)} text shards {shards / 1024:.0f} KiB = {shards / text:.0%}; "
          f"index and shards {(index + shards) / 1024:.0f} KiB = {(index + shards) / text:.0%} "
          f"of the indexed text")
    print(f"  goal: index <= {GOAL_SIZE:.0%} of the page bodies: {index / bodies:.1%} "
          f"(index and shards: {(index + shards) / bodies:.1%})")


def report_times(how: str, times: list[float]) -> None:
    median = statistics.median(times)
    print(f"first query from {how}, fresh page: median {median:.0f} ms "
          f"(min {min(times):.0f}, max {max(times):.0f}, n={len(times)}); "
          f"goal {GOAL_MS:.0f} ms, ratio {median / GOAL_MS:.2f}")


if __name__ == "__main__":
    sys.exit(main())
