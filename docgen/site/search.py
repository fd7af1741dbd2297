"""The search index: every page cut into sections at its headings, ranked in the browser.

`search_files(pages)` is a pure function of the rendered pages. Each page body is cut at
every heading that has an anchor — markdown headings and the headings `show_doc` writes
for API entries alike — into sections of plain text. Code never enters the text: code
cells, `<pre>` outputs and signatures are left out, so a query ranks prose, not source
lines. An API entry (`<div class="api-doc" data-name=...>`) makes its section a symbol,
found by its full name and its short names.

Two kinds of script come out, each setting a global, so that the search box can load them
with `<script>` tags: search works from file:// as well as over HTTP, with no fetch.

- `_static/search-index.js`, loaded the first time the box is used: the pages, the
  sections (page, anchor, heading, length) and an inverted index — every word once, with
  its postings (section, fields it is in, count) packed into a string. Nothing is tokenised
  in the browser, so a thousand pages load in one `JSON.parse`-sized step.
- `_static/search-text/N.js`, the sections' text in shards of about 16 KiB, loaded only
  for the results on screen, to cut the snippets from.

`templates/static/search.js` ranks: exact API names, then titles, then headings, then text.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Protocol

from docgen.site.urls import href

SEARCH_INDEX = "_static/search-index.js"
SEARCH_TEXT = "_static/search-text"
INDEX_VERSION = 2
SHARD_CHARS = 16 * 1024

# Fields a word can be in, as bits of a posting.
TEXT, HEADING, TITLE = 1, 2, 4
MAX_COUNT = 4  # counts above this rank alike (BM25 saturates)
# A posting is a base-36 section delta then one marker for (fields, count): the markers are
# printable, never base-36 digits, and need no escaping in a JSON string.
MARKERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%&'()*+,-./:;<=>?@[]^_`{|}~"
# Left out of section text (a query of only these words still finds titles and headings).
STOPWORDS = frozenset(
    "a an and are as at be by can do does for from how i in is it of on or that the this to "
    "what when where which with".split()
)
_WORD_SPLIT = re.compile(r"[^\w]+")

_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
)
_INLINE = frozenset(
    {
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "cite",
        "code",
        "data",
        "dfn",
        "em",
        "i",
        "kbd",
        "mark",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "time",
        "u",
        "var",
    }
)
# Elements whose text is code, page furniture or markup rather than prose.
_SKIPPED_TAGS = frozenset(
    {"pre", "script", "style", "math", "svg", "summary", "button", "template", "textarea", "thead"}
)
_PRE_BLOCK = re.compile(r"<pre\b[^>]*>.*?</pre>", re.S | re.I)
_SKIPPED_CLASSES = frozenset(
    {
        "anchor",
        "source-link",
        "api-signature",
        "api-kind",
        "output-truncated",
        "output-note",
        "cell-input",
    }
)
_SPACES = re.compile(r"\s+")


class IndexedPage(Protocol):
    """What the index reads of a page (the pages of docgen.site have it)."""

    @property
    def url(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def body(self) -> str: ...


@dataclass(frozen=True)
class Section:
    """The part of a page from one heading to the next, as plain text."""

    anchor: str  # "" for text before the page's first heading
    heading: str
    text: str
    symbol: str = ""  # full API name when the heading is a `show_doc` entry
    kind: str = ""  # its kind: class, function, method, property or module


SectionsOf = Callable[[str], "list[Section]"]
# (page title, body digest) -> its sections' index rows and words, kept between builds.
SearchMemo = MutableMapping[str, "list[_IndexedSection]"]
# (the row of a section without its page number, its words -> [fields, count], its text)
_IndexedSection = tuple["list[int | str]", "dict[str, list[int]]", str]


class _SectionSplitter(HTMLParser):
    """Cuts a page body into sections at anchored headings, keeping only prose text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[Section] = []
        self._open: list[tuple[str, bool]] = []  # (tag, starts a skipped region)
        self._skipping = 0
        self._symbols: list[tuple[str, str, int]] = []  # api-doc name, kind, depth
        self._anchor, self._heading, self._symbol, self._kind = "", "", "", ""
        self._text: list[str] = []
        self._in_heading: tuple[str, int] | None = None  # tag and depth of an anchored heading
        self._heading_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        classes = set(attr.get("class", "").split())
        if tag not in _INLINE:
            self._text.append(" ")
        if tag in _VOID:
            return
        skip = tag in _SKIPPED_TAGS or bool(classes & _SKIPPED_CLASSES)
        self._open.append((tag, skip))
        self._skipping += skip
        if tag == "div" and "api-doc" in classes and attr.get("data-name"):
            kind = next((c[4:] for c in classes if c.startswith("api-") and c != "api-doc"), "")
            self._symbols.append((attr["data-name"], kind, len(self._open)))
        if tag in _HEADINGS and attr.get("id") and self._in_heading is None and not self._skipping:
            self._finish_section()
            self._anchor = attr["id"]
            symbol = self._symbols[-1] if self._symbols else None
            self._symbol, self._kind = (symbol[0], symbol[1]) if symbol else ("", "")
            self._in_heading = (tag, len(self._open))
            self._heading_text = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _INLINE:
            self._text.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if not any(open_tag == tag for open_tag, _ in self._open):
            return  # a stray end tag in hand-written HTML
        while self._open:
            depth = len(self._open)
            open_tag, skip = self._open.pop()
            self._skipping -= skip
            if self._in_heading is not None and self._in_heading[1] == depth:
                self._heading = _collapse("".join(self._heading_text))
                self._in_heading = None
            if self._symbols and self._symbols[-1][2] == depth:
                self._symbols.pop()
            if open_tag == tag:
                break
        if tag not in _INLINE:
            self._text.append(" ")

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._in_heading is not None:
            self._heading_text.append(data)
        else:
            self._text.append(data)

    def _finish_section(self) -> None:
        text = _collapse("".join(self._text))
        if self._anchor or text:
            self.sections.append(
                Section(self._anchor, self._heading, text, self._symbol, self._kind)
            )
        self._text = []

    def close(self) -> None:
        super().close()
        if self._in_heading is not None:
            self._heading = _collapse("".join(self._heading_text))
            self._in_heading = None
        self._finish_section()


def _collapse(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def page_sections(body: str) -> list[Section]:
    """A page body's sections in order; text before the first heading has anchor ""."""
    splitter = _SectionSplitter()
    # <pre> holds no text the index keeps and nothing that nests outside it; cutting it out
    # first spares the parser most tags of a code-heavy page (highlighted code is all spans).
    splitter.feed(_PRE_BLOCK.sub(" ", body))
    splitter.close()
    return splitter.sections


def words(text: str) -> Iterator[str]:
    """Lower-case words: runs of letters, digits and underscores, as search.js splits a query."""
    return (word for word in _WORD_SPLIT.split(text.lower()) if word)


def name_parts(word: str) -> list[str]:
    """The parts of a snake_case name: `show_doc` is also found by `doc`."""
    return [part for part in word.split("_") if part] if "_" in word else []


def _base36(n: int) -> str:
    digits = ""
    while True:
        n, d = divmod(n, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[d] + digits
        if not n:
            return digits


def encode_postings(postings: Sequence[tuple[int, int, int]]) -> str:
    """(section, fields, count) triples, sections ascending, as one compact string."""
    out, previous = [], 0
    for section, fields, count in postings:
        out.append(_base36(section - previous) + MARKERS[fields * (MAX_COUNT + 1) + count])
        previous = section
    return "".join(out)


def decode_postings(encoded: str) -> list[tuple[int, int, int]]:
    """The inverse of `encode_postings` (search.js has its own copy)."""
    postings, delta, section = [], "", 0
    for char in encoded:
        if char in MARKERS:
            section += int(delta, 36)
            fields, count = divmod(MARKERS.index(char), MAX_COUNT + 1)
            postings.append((section, fields, count))
            delta = ""
        else:
            delta += char
    return postings


def is_reference(sections: Sequence[Section]) -> bool:
    """Whether a page is made of API entries (a module's page): its title is then an API
    name rather than a topic, and search.js ranks it with the headings, not the titles."""
    return any(s.symbol for s in sections) and all(s.symbol for s in sections[1:])


def _js_order(word: str) -> bytes:
    """JavaScript compares strings by UTF-16 code units; search.js bisects this order."""
    return word.encode("utf-16-be")


def index_data(
    pages: Sequence[IndexedPage],
    sections_of: SectionsOf | None = None,
    memo: SearchMemo | None = None,
) -> tuple[dict, list[str]]:
    """The index as plain data, and every section's text (for the snippets).

    Index: pages as [link, title] (the link from the site root, encoded), plus 1 for a
    reference page (`is_reference`); sections as [page number, anchor, heading, number of
    words] plus [symbol, kind] for API entries; `terms`, the sorted vocabulary joined by
    spaces, with `postings` (one encoded string per term); `shards`, the first section of
    each text shard. A page's first section carries the page title. `sections_of` cuts a
    body into sections (default: `page_sections`; a build session remembers them), and
    `memo` keeps each page's words for the next call: only a changed page is read again.
    """
    sections_of = sections_of or page_sections
    rows: list[list[int | str]] = []
    texts: list[str] = []
    postings: dict[str, list[tuple[int, int, int]]] = {}
    page_rows: list[list[str | int]] = []
    used: set[str] = set()
    for number, page in enumerate(pages):
        key = ""
        indexed = None
        if memo is not None:
            body = hashlib.sha256(page.body.encode("utf-8", "surrogatepass")).hexdigest()
            key = f"{body} {page.title}"
            used.add(key)
            indexed = memo.get(key)
        if indexed is None:
            indexed = _index_page(page.title, sections_of(page.body) or [Section("", "", "")])
            if memo is not None:
                memo[key] = indexed
        reference = any(row[3:] for row, _, _ in indexed) and all(
            row[3:] for row, _, _ in indexed[1:]
        )
        link = href(page.url)  # search.js puts it after the root as it is
        page_rows.append([link, page.title, 1] if reference else [link, page.title])
        for row, fields, text in indexed:
            sid = len(rows)
            for word, (field, count) in fields.items():
                postings.setdefault(word, []).append((sid, field, count))
            rows.append([number, *row])
            texts.append(text)
    if memo is not None:  # what no page has any more
        for key in memo.keys() - used:
            del memo[key]
    terms = sorted(postings, key=_js_order)
    shards, size = [], SHARD_CHARS
    for sid, text in enumerate(texts):
        if size >= SHARD_CHARS:
            shards.append(sid)
            size = 0
        size += len(text)
    data = {
        "version": INDEX_VERSION,
        "markers": MARKERS,
        "stopwords": sorted(STOPWORDS),
        "pages": page_rows,
        "sections": rows,
        "terms": " ".join(terms),
        "postings": [encode_postings(postings[term]) for term in terms],
        "shards": shards,
    }
    return data, texts


def _index_page(title: str, sections: Sequence[Section]) -> list[_IndexedSection]:
    """Each section's row (without its page number), words and text."""
    indexed: list[_IndexedSection] = []
    for position, section in enumerate(sections):
        fields: dict[str, list[int]] = {}  # word -> [fields, count]

        def add(
            word: str, field: int, counts: bool = True, fields: dict[str, list[int]] = fields
        ) -> None:
            entry = fields.setdefault(word, [0, 0])
            entry[0] |= field
            if field == TEXT and counts:
                entry[1] = min(MAX_COUNT, entry[1] + 1)

        # The parts of a name, and the modules of an API entry's full name, are found but
        # rank below any text that says them: `doc` does not put every *_doc function at
        # heading rank, nor `nvidia smi` the function parse_nvidia_smi above a guide.
        for text, field in (
            (title if position == 0 else "", TITLE),
            (section.heading, HEADING),
            (section.symbol, TEXT),
        ):
            for word in words(text):
                add(word, field, counts=False)
                for part in name_parts(word):
                    add(part, TEXT, counts=False)
        length = 0
        for word in words(section.text):
            if word not in STOPWORDS:
                add(word, TEXT)
                length += 1
                for part in name_parts(word):
                    add(part, TEXT)
        row: list[int | str] = [section.anchor, section.heading, length]
        if section.symbol:
            row += [section.symbol, section.kind]
        indexed.append((row, fields, section.text))
    return indexed


def _script(statement: str, value: object) -> bytes:
    return f"{statement}{json.dumps(value, ensure_ascii=False, separators=(',', ':'))};\n".encode()


def search_files(
    pages: Sequence[IndexedPage],
    sections_of: SectionsOf | None = None,
    memo: SearchMemo | None = None,
) -> dict[str, bytes]:
    """The index script and the text shards, by their path in the site."""
    data, texts = index_data(pages, sections_of, memo)
    files = {SEARCH_INDEX: _script("window.docgenSearchIndex=", data)}
    bounds = [*data["shards"], len(texts)]
    for k, (first, end) in enumerate(itertools.pairwise(bounds)):
        files[f"{SEARCH_TEXT}/{k}.js"] = _script(
            f"(window.docgenSearchText=window.docgenSearchText||{{}})[{k}]=", texts[first:end]
        )
    return files


def site_text_size(pages: Iterable[IndexedPage]) -> int:
    """Bytes of every page body: what the index's size is measured against."""
    return sum(len(page.body.encode()) for page in pages)
