"""Search: the index (docgen/search.py) and, in a real Chromium, the box that ranks with it.

A small site is built once for this module (stored outputs, no kernel) and searched over
HTTP and from file://; docgen's own docs are built once more for the two search-quality sets:
the tuning set (tests/fixtures/search_queries.json) and the held-out evaluation set
(tests/fixtures/search_eval.json). Browser tests skip when /usr/bin/chromium is missing
(`make test` installs it with apt).
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CHROMIUM, REPO, write_notebook
from hypothesis import given
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_output

from docgen.config import load_config
from docgen.pipeline import build
from docgen.site.search import (
    SEARCH_INDEX,
    SEARCH_TEXT,
    STOPWORDS,
    decode_postings,
    encode_postings,
    index_data,
    name_parts,
    page_sections,
    site_text_size,
    words,
)

TUNING_SET = Path(__file__).parent / "fixtures" / "search_queries.json"
EVALUATION_SET = Path(__file__).parent / "fixtures" / "search_eval.json"
# The share of each set whose first result is the expected page. The tuning set is what the
# ranker was adjusted on; the API reference is split by pipeline stage into many short module
# pages, which compete with the guides for prose queries (nvidia-smi, numeric prefixes): 40 of
# 45 hit at the time of writing.
TUNING_PRECISION_AT_1 = 0.85
# The evaluation set was written from the docs' prose and never used to adjust the ranker, so
# it alone says how well search works. Its threshold is what it measured when the set was
# first run (22 of 35, 0.63, on 2026-11-29), less a margin of three queries for drift in the
# docs; it is not to be raised by tuning on these queries.
EVALUATION_PRECISION_AT_1 = (22 - 3) / 35
LONG_TEXT = " ".join(["Caching keeps every executed notebook keyed by its content."] * 12)

browser_test = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (make test installs it with apt)"
)

API_ENTRY = (
    '<div class="api-doc api-function" data-name="mylib.tools.frobnicate">'
    '<h3 class="api-heading" id="mylib.tools.frobnicate"><code class="api-name">frobnicate</code>'
    '<a class="anchor" href="#mylib.tools.frobnicate">¶</a></h3>'
    '<div class="api-signature"><code>frobnicate(value, signaturewordonly=1)</code></div>'
    '<div class="api-docstring"><p>Turn a value into its frobnicated form.</p></div></div>'
)


def html_output(html: str) -> object:
    cell = new_code_cell("show_doc(frobnicate)", execution_count=1)
    data = {"text/html": html, "text/plain": "frobnicate"}
    cell.outputs = [new_output("display_data", data=data)]
    return cell


# --- the index, in Python ----------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    root = tmp_path_factory.mktemp("search")
    nbs = root / "doc_nbs"
    write_notebook(
        nbs / "index.ipynb",
        "md:# Home\n\nWelcome to the manual.\n\n## Getting around\n\n"
        "Pages are listed on the left; one of them explains how to frobnicate.",
    )
    printed = new_code_cell("print(secretcodeword)", execution_count=1)
    printed.outputs = [new_output("stream", name="stdout", text="preformattedonly\n")]
    write_notebook(
        nbs / "guide" / "01_caching.ipynb",
        "md:# Caching results\n\nWhy pages build fast the second time.",
        printed,
        f"md:## Where the cache lives\n\n{LONG_TEXT} The folder is named zanzibar.",
        "md:## Clearing the cache\n\nDelete the folder. Nothing else remembers a run.",
        "md:## Why frobnicate\n\nA heading that names the function.",
    )
    write_notebook(nbs / "guide" / "02_practice.ipynb", "md:# Frobnicate in practice\n\nExamples.")
    write_notebook(nbs / "03_reference.ipynb", "md:# Reference\n\nThe functions, one by one.",
                   html_output(API_ENTRY))
    (root / "pyproject.toml").write_text('[tool.docgen]\ntitle = "Search test"\n')
    report = build(load_config(cwd=root, overrides={"execute": False}), log=lambda _: None)
    return root / "site", report.pages


def test_sections_are_cut_at_headings_without_code() -> None:
    body = (
        '<div class="cell"><p>Before any heading.</p></div>'
        '<h1 id="title">Title<a class="anchor" href="#title">¶</a></h1><p>Intro <code>x</code>.</p>'
        '<div class="cell-input"><pre>hidden = code</pre></div><pre class="output">out</pre>'
        '<h2 id="part">Part <em>one</em></h2><p>Body</p><ul><li>item</li></ul>'
        f"{API_ENTRY}<h4>No anchor, so text</h4>"
    )
    sections = page_sections(body)
    assert [(s.anchor, s.heading, s.text) for s in sections] == [
        ("", "", "Before any heading."),
        ("title", "Title", "Intro x."),
        ("part", "Part one", "Body item"),
        ("mylib.tools.frobnicate", "frobnicate",
         "Turn a value into its frobnicated form. No anchor, so text"),
    ]
    assert (sections[3].symbol, sections[3].kind) == ("mylib.tools.frobnicate", "function")


def test_words_split_like_the_browser_and_names_have_parts() -> None:
    assert list(words("Use show_doc(), then `Conv2d`!")) == ["use", "show_doc", "then", "conv2d"]
    assert name_parts("__init__") == ["init"] and name_parts("plain") == []


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(1, 7), st.integers(0, 4)), max_size=40))
def test_postings_round_trip(entries: list[tuple[int, int, int]]) -> None:
    postings, section = [], 0
    for gap, fields, count in entries:
        section += gap + (1 if postings else 0)
        postings.append((section, fields, count))
    assert decode_postings(encode_postings(postings)) == postings


def test_index_holds_titles_headings_symbols_and_no_code(site: tuple[Path, list]) -> None:
    _, pages = site
    data, texts = index_data(pages)
    terms = data["terms"].split(" ")
    assert terms == sorted(terms)
    for word in ("secretcodeword", "preformattedonly", "signaturewordonly"):
        assert word not in terms, f"{word} comes from code and must not be indexed"
    assert not STOPWORDS & {
        t
        for t, p in zip(terms, data["postings"], strict=True)
        if all(f == 1 for _, f, _ in decode_postings(p))
    }
    rows = {(data["pages"][r[0]][0], r[1]): r for r in data["sections"]}
    assert rows[("guide/caching.html", "where-the-cache-lives")][2] == "Where the cache lives"
    assert rows[("reference.html", "mylib.tools.frobnicate")][4:] == [
        "mylib.tools.frobnicate", "function"]
    postings = dict(zip(terms, map(decode_postings, data["postings"]), strict=True))
    urls = [data["pages"][r[0]][0] for r in data["sections"]]
    first = urls.index("guide/caching.html")
    assert (first, 4 | 2, 0) in postings["caching"]  # the page title, carried by its first section
    assert len(texts) == len(data["sections"])


def test_index_kept_between_builds_equals_one_made_afresh(site: tuple[Path, list]) -> None:
    import dataclasses

    _, pages = site
    memo: dict = {}
    assert index_data(pages, memo=memo) == index_data(pages)
    assert len(memo) == len(pages)
    # One page edited, one retitled, one gone: the kept words of the others are reused,
    # and the index is the one made from scratch.
    edited = dataclasses.replace(pages[0], body=pages[0].body + "<p>Zanzibarword here.</p>")
    retitled = dataclasses.replace(pages[1], title="Quokkatitle")
    changed = [edited, retitled, *pages[3:]]
    again = index_data(changed, memo=memo)
    assert again == index_data(changed)
    assert {"zanzibarword", "quokkatitle"} <= set(again[0]["terms"].split(" "))
    assert len(memo) == len(changed)  # what no page has any more is dropped


def test_site_has_the_index_shards_and_a_search_box_on_every_page(site: tuple[Path, list]) -> None:
    out, pages = site
    index = (out / SEARCH_INDEX).read_text()
    assert index.startswith("window.docgenSearchIndex={")
    data = json.loads(index[len("window.docgenSearchIndex="):].rstrip().rstrip(";"))
    assert sorted(p.name for p in (out / SEARCH_TEXT).iterdir()) == [
        f"{k}.js" for k in range(len(data["shards"]))]
    for page in out.rglob("*.html"):
        html = page.read_text()
        assert 'class="search-input"' in html, page
        assert re.search(r'<script src="(\.\./|/)*_static/search\.js" defer></script>', html), page


def test_index_is_at_most_30_percent_of_the_site_text(own_docs: tuple[Path, list]) -> None:
    out, pages = own_docs
    size = (out / SEARCH_INDEX).stat().st_size
    assert size <= 0.30 * site_text_size(pages), (
        f"the search index is {size / site_text_size(pages):.0%} of the page bodies")


# --- in the browser ----------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server(site: tuple[Path, list]) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site[0]))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context()
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def url_of(how: str, site: tuple[Path, list], server: str, path: str) -> str:
    return (site[0] / path).as_uri() if how == "file" else f"{server}/{path}"


def type_query(page, text: str) -> None:  # type: ignore[no-untyped-def]
    box = page.locator(".search-input")
    box.click()
    box.press_sequentially(text)
    page.wait_for_function(
        "q => document.querySelector('.search-input').value === q && "
        "!document.querySelector('.search-results').hidden && "
        "document.querySelector('.search-results').dataset.query === q", arg=text)


@browser_test
@pytest.mark.browser
@pytest.mark.parametrize("how", ["http", "file"])
def test_type_see_the_page_first_press_enter_land_on_the_section(
    how: str, page, site: tuple[Path, list], server: str  # type: ignore[no-untyped-def]
) -> None:
    page.goto(url_of(how, site, server, "guide/practice.html"))
    type_query(page, "cache lives")
    first = page.locator(".search-result").first
    assert first.locator(".search-heading").inner_text() == "Where the cache lives"
    assert first.locator(".search-page").inner_text() == "Caching results"
    assert first.get_attribute("aria-selected") == "true"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/guide/caching\.html#where-the-cache-lives$"))
    assert page.evaluate("location.hash") == "#where-the-cache-lives"
    assert page.locator("[id='where-the-cache-lives']").count() == 1


@browser_test
@pytest.mark.browser
def test_snippet_shows_the_match_highlighted_far_into_a_section(
    page, site: tuple[Path, list]  # type: ignore[no-untyped-def]
) -> None:
    page.goto((site[0] / "index.html").as_uri())
    type_query(page, "zanzibar")
    first = page.locator(".search-result").first
    assert first.locator(".search-snippet mark").all_inner_texts() == ["zanzibar"]
    assert "folder is named zanzibar" in first.locator(".search-snippet").inner_text()
    assert first.get_attribute("href") == "guide/caching.html#where-the-cache-lives"


@browser_test
@pytest.mark.browser
def test_slash_focuses_and_arrows_choose_the_result(
    page, site: tuple[Path, list]  # type: ignore[no-untyped-def]
) -> None:
    page.goto((site[0] / "guide" / "caching.html").as_uri())
    page.locator("body").click()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.className") == "search-input"
    assert page.locator(".search-input").input_value() == ""  # the slash is not typed
    page.keyboard.type("cache")
    page.wait_for_function("document.querySelector('.search-results').dataset.query === 'cache'")
    options = page.locator(".search-result")
    assert options.count() >= 2
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    assert options.nth(1).get_attribute("aria-selected") == "true"
    active = page.locator(".search-input").get_attribute("aria-activedescendant")
    assert active == options.nth(1).get_attribute("id")
    target = options.nth(1).get_attribute("href")
    page.keyboard.press("Enter")
    page.wait_for_function("h => location.href.endsWith(h)", arg=target.lstrip("./"))
    page.keyboard.press("/")
    page.keyboard.press("Escape")
    assert page.locator(".search-results").is_hidden()


@browser_test
@pytest.mark.browser
def test_ranking_api_name_then_title_then_heading_then_text(
    page, site: tuple[Path, list]  # type: ignore[no-untyped-def]
) -> None:
    page.goto((site[0] / "index.html").as_uri())
    found = page.evaluate("q => docgenSearch.search(q).then(r => r.map(x => x.url))", "frobnicate")
    assert found[:4] == [
        "reference.html#mylib.tools.frobnicate",  # the exact API name
        "guide/practice.html#frobnicate-in-practice",  # a title
        "guide/caching.html#why-frobnicate",  # a heading
        "index.html#getting-around",  # the text
    ]
    search = "q => docgenSearch.search(q).then(r => r.length ? r[0].url : null)"
    api = "reference.html#mylib.tools.frobnicate"
    assert page.evaluate(search, "mylib.tools.frobnicate") == api
    assert page.evaluate(search, "frobnicate()") == api
    assert page.evaluate(search, "tools.frobnicate") == api
    assert page.evaluate(search, "zanzib") == "guide/caching.html#where-the-cache-lives"  # prefix
    assert page.evaluate(search, "zanizbar") == "guide/caching.html#where-the-cache-lives"  # typo
    assert page.evaluate(search, "clearnig") == "guide/caching.html#clearing-the-cache"
    assert page.evaluate(search, "secretcodeword") is None  # code is not searched
    assert page.evaluate(search, "preformattedonly") is None


@browser_test
@pytest.mark.browser
def test_no_results_says_so(page, site: tuple[Path, list]) -> None:  # type: ignore[no-untyped-def]
    page.goto((site[0] / "index.html").as_uri())
    type_query(page, "qwertyuiop")
    assert page.locator(".search-none").inner_text() == "No results for “qwertyuiop”"


# --- the quality set, over docgen's own docs ---------------------------------------


@pytest.fixture(scope="module")
def own_docs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    out = tmp_path_factory.mktemp("own") / "site"
    config = load_config(cwd=REPO, overrides={"execute": False, "out": out})
    return out, build(config, log=lambda _: None).pages


def quality_misses(page, out: Path, path: Path) -> tuple[float, list[str]]:  # type: ignore[no-untyped-def]
    queries = json.loads(path.read_text())["queries"]
    assert len(queries) >= 20
    page.goto((out / "index.html").as_uri())
    found = page.evaluate("qs => Promise.all(qs.map(q => docgenSearch.search(q, 1)))",
                          [q["query"] for q in queries])
    misses = [
        f"{q['query']!r}: {r[0]['url'] if r else 'nothing'}, expected {q['page']}"
        for q, r in zip(queries, found, strict=True)
        if not r or r[0]["url"].partition("#")[0] != q["page"]
    ]
    return (len(queries) - len(misses)) / len(queries), misses


@browser_test
@pytest.mark.browser
def test_search_quality_on_the_tuning_set(page, own_docs: tuple[Path, list]) -> None:  # type: ignore[no-untyped-def]
    precision, misses = quality_misses(page, own_docs[0], TUNING_SET)
    assert precision >= TUNING_PRECISION_AT_1, (
        f"precision@1 {precision:.2f} < {TUNING_PRECISION_AT_1}; misses:\n" + "\n".join(misses)
        + f"\nIf the docs changed, update {TUNING_SET.relative_to(REPO)}."
    )


@browser_test
@pytest.mark.browser
def test_search_quality_on_the_held_out_evaluation_set(  # type: ignore[no-untyped-def]
    page, own_docs: tuple[Path, list]
) -> None:
    evaluation = json.loads(EVALUATION_SET.read_text())
    assert "must not be used for tuning" in evaluation["about"]
    tuning = {q["query"].lower() for q in json.loads(TUNING_SET.read_text())["queries"]}
    assert not tuning & {q["query"].lower() for q in evaluation["queries"]}, "the sets overlap"
    precision, misses = quality_misses(page, own_docs[0], EVALUATION_SET)
    assert precision >= EVALUATION_PRECISION_AT_1, (
        f"precision@1 {precision:.2f} < {EVALUATION_PRECISION_AT_1}; misses:\n"
        + "\n".join(misses)
        + f"\nIf a page or heading was renamed, fix {EVALUATION_SET.relative_to(REPO)} by "
        "reading the docs; never adjust the ranker to these queries."
    )
