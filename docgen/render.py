"""Notebook cells to HTML fragments: markdown (with math and heading anchors) and code.

`PageContext` collects what rendering one page discovers — headings, image files,
warnings — so that writing files stays a separate step. Outputs live in outputs.py.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import mimetypes
import os
import posixpath
import re
import stat
import xml.etree.ElementTree as etree
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import latex2mathml.converter
import markdown
from markdown.extensions import Extension
from markdown.extensions.toc import slugify
from markdown.inlinepatterns import BACKTICK_RE, BacktickInlineProcessor, InlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import HTML_PLACEHOLDER_RE
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.token import STANDARD_TYPES, Token, _TokenType
from pygments.util import ClassNotFound

from . import mdguard
from .notebooks import CellOptions, parse_directives
from .urls import href, path_of

IMAGE_DIR = "_images"
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
Resolver = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Heading:
    level: int
    anchor: str
    text: str


@dataclass
class PageContext:
    """What rendering one page needs to know and what it finds out."""

    source: str  # the notebook, as named in messages
    nb_dir: Path  # folder the notebook's relative image paths start from
    root: str  # relative path from the page to the site root: "" or "../"
    # Image files may only come from inside these folders (the project's root, and the
    # notebooks folder when it lies elsewhere): a page must not publish /proc/self/environ
    # or ~/.ssh. Empty: no file is read at all.
    image_roots: tuple[Path, ...] = ()
    # Every notebook of the docs, by path relative to the notebooks folder -> its page url;
    # and this notebook's folder in the same terms, where its links to notebooks start.
    page_links: dict[str, str] = field(default_factory=dict)
    folder: str = ""
    resolve: Resolver | None = None  # backticked name -> url, or None
    link_code: Resolver | None = None  # dotted name in a code cell -> url, or None
    # Output mime types rendered by the build rather than as stored (show_doc's description):
    # mime -> render(data, ctx, markdown renderer) -> HTML, or None to use the stored forms.
    mime_renderers: dict[str, Callable] = field(default_factory=dict)
    headings: list[Heading] = field(default_factory=list)
    images: dict[str, bytes] = field(default_factory=dict)  # site path -> file content
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # problems that fail the build
    used_ids: set[str] = field(default_factory=set)
    cell_index: int = 0
    attachments: dict = field(default_factory=dict)

    def where(self) -> str:
        return f"{self.source}, cell {self.cell_index + 1}"

    def href(self, site_path: str) -> str:
        """The link from this page to the site file `site_path` (see urls.py)."""
        return self.root + href(site_path)

    def link_href(self, url: str) -> str:
        """A link relative to the site root (already encoded) as seen from this page;
        absolute URLs as they are."""
        return url if _SCHEME.match(url) else self.root + url

    def add_image(self, data: bytes, mime: str) -> str:
        """Store image bytes under a content-hashed name; returns the src for this page."""
        ext = {"image/svg+xml": ".svg", "image/jpeg": ".jpg"}.get(mime) or (
            mimetypes.guess_extension(mime) or ".bin"
        )
        name = f"{IMAGE_DIR}/{hashlib.sha256(data).hexdigest()[:20]}{ext}"
        self.images[name] = data
        return self.href(name)

    def add_notebook_image(self, data: object, mime: str) -> str | None:
        """`add_image` for an image as a notebook stores it; None, and a warning, if it is bad."""
        try:
            return self.add_image(decode_notebook_image(data, mime), mime)
        except ValueError as e:
            self.warnings.append(f"{self.where()}: {e}; the image is not shown")
            return None

    def unique_id(self, text: str) -> str:
        """A new anchor for a heading's text: its slug, made unique on the page."""
        return self.claim_id(slugify(text, "-") or "section")

    def claim_id(self, base: str) -> str:
        """`base`, else `base-1`, `base-2`, ...: the first this page has not used, now used."""
        anchor, n = base, 1
        while anchor in self.used_ids:
            anchor = f"{base}-{n}"
            n += 1
        self.used_ids.add(anchor)
        return anchor


def decode_notebook_image(data: object, mime: str) -> bytes:
    """An image's bytes from a notebook's base64 (or SVG's text), as a string or list of lines;
    `ValueError` saying what is wrong when they cannot be had."""
    if isinstance(data, list) and all(isinstance(line, str) for line in data):
        data = "".join(data)
    if not isinstance(data, str):
        raise ValueError(f"{mime} image is {type(data).__name__} data, not text")
    if mime == "image/svg+xml":
        return data.encode("utf-8", "replace")
    try:
        return base64.b64decode("".join(data.split()), validate=True)  # lines are allowed
    except ValueError as e:  # binascii.Error
        raise ValueError(f"{mime} image is not valid base64 ({e})") from e


class _MathProcessor(InlineProcessor):
    """`$...$` and `$$...$$` become MathML at build time: no script, no CDN."""

    def __init__(self, pattern: str, md: markdown.Markdown, display: str, ctx_of):  # type: ignore[no-untyped-def]
        super().__init__(pattern, md)
        self.display = display
        self.ctx_of = ctx_of

    def handleMatch(self, m, data):  # type: ignore[no-untyped-def,override]
        latex = m.group(1)
        try:
            mathml = latex2mathml.converter.convert(latex.strip(), display=self.display)
        except Exception as e:  # latex2mathml raises many types for bad input
            ctx = self.ctx_of()
            ctx.warnings.append(f"{ctx.where()}: cannot render math ${latex}$: {e!r}")
            mathml = f'<code class="math-error">{html.escape(m.group(0))}</code>'
        return self.md.htmlStash.store(mathml), m.start(0), m.end(0)


class _LinkingBacktick(BacktickInlineProcessor):
    """Inline code whose text names a known symbol becomes a link to its documentation."""

    def __init__(self, pattern: str, ctx_of):  # type: ignore[no-untyped-def]
        super().__init__(pattern)
        self.ctx_of = ctx_of

    def handleMatch(self, m, data):  # type: ignore[no-untyped-def,override]
        el, start, end = super().handleMatch(m, data)
        ctx = self.ctx_of()
        if el is None or el.tag != "code" or ctx.resolve is None:
            return el, start, end
        url = ctx.resolve(html.unescape(el.text or "").strip())
        if not url:
            return el, start, end
        link = etree.Element("a", {"href": ctx.link_href(url)})
        link.set("class", "api-link")
        link.append(el)
        return link, start, end


class _PageTreeprocessor(Treeprocessor):
    """Gives headings unique anchors, collects them, and resolves images and notebook links."""

    def __init__(self, md: markdown.Markdown, ctx_of):  # type: ignore[no-untyped-def]
        super().__init__(md)
        self.ctx_of = ctx_of

    def run(self, root: etree.Element) -> None:
        ctx: PageContext = self.ctx_of()
        for el in root.iter():
            if el.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                text = HTML_PLACEHOLDER_RE.sub("", "".join(el.itertext())).strip()
                anchor = el.get("id") or ctx.unique_id(text)
                ctx.used_ids.add(anchor)
                el.set("id", anchor)
                ctx.headings.append(Heading(int(el.tag[1]), anchor, text))
                permalink = etree.SubElement(el, "a", {"class": "anchor", "href": f"#{anchor}"})
                permalink.set("aria-label", "Link to this section")
                permalink.text = "¶"
            elif el.tag == "img" and el.get("src"):
                el.set("src", _image_src(el.get("src", ""), ctx))
                el.set("loading", "lazy")
            elif el.tag == "a" and el.get("href"):
                el.set("href", _notebook_href(el.get("href", ""), ctx))
        _unlink_nested(root, self.md.htmlStash.rawHtmlBlocks)


_RAW_LINK_TAG = re.compile(r"<(/?)a(?=[\s>/])", re.IGNORECASE)


def _unlink_nested(root: etree.Element, raw_html: list) -> None:
    """Undo symbol links inside another link: `[see `x`](url)`, or `<a href>`x`</a>`.

    A link written in markdown is an element here; one written as raw HTML is only a
    placeholder for the stashed tag, so open raw `<a>` tags are counted in document order.
    """
    open_raw = 0

    def count(text: str | None) -> None:
        nonlocal open_raw
        for m in HTML_PLACEHOLDER_RE.finditer(text or ""):
            index = int(m.group(1))
            block = str(raw_html[index]) if index < len(raw_html) else ""
            for tag in _RAW_LINK_TAG.finditer(block):
                open_raw = max(0, open_raw + (-1 if tag.group(1) else 1))

    def visit(el: etree.Element, in_link: bool) -> None:
        count(el.text)
        for i, child in enumerate(list(el)):
            if child.tag == "a" and child.get("class") == "api-link" and (in_link or open_raw):
                inner = child[0] if len(child) else None
                if inner is not None:
                    inner.tail = child.tail
                    el[i] = inner
                    child = inner
            visit(child, in_link or child.tag == "a")
            count(child.tail)

    visit(root, False)


def _image_src(src: str, ctx: PageContext) -> str:
    if src.startswith("attachment:"):
        name = src[len("attachment:") :]
        bundle = ctx.attachments.get(name)
        if not bundle:
            ctx.warnings.append(f"{ctx.where()}: image attachment '{name}' is not in the cell")
            return src
        mime, data = next(iter(bundle.items()))
        return ctx.add_notebook_image(data, mime) or src
    if _SCHEME.match(src) or src.startswith(("/", "#")):
        return src
    data = _project_file(ctx, src)
    if data is None:
        return src
    mime = mimetypes.guess_type(path_of(src))[0] or "application/octet-stream"
    return ctx.add_image(data, mime)


def _project_file(ctx: PageContext, src: str) -> bytes | None:
    """The bytes of the image file `src` names, if it is a regular file of the project.

    A file outside `ctx.image_roots` (after following symlinks) is an error, not a
    warning: copying it into the site would publish it. A missing file is a warning.
    """
    path = (ctx.nb_dir / path_of(src)).resolve()
    roots = [root.resolve() for root in ctx.image_roots]
    if not any(path.is_relative_to(root) for root in roots):
        folders = " or ".join(str(root) for root in roots) or "(none)"
        ctx.errors.append(
            f"{ctx.where()}: image '{src}' is the file {path}, outside the project folder "
            f"({folders}); images may only come from inside the notebooks folder, or the "
            "folder of the config file when there is one: copy the file into it"
        )
        return None
    try:
        # O_NOFOLLOW: the path was resolved, so a symlink here was swapped in since;
        # O_NONBLOCK: a fifo must not hang the build before fstat says what it is.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        ctx.warnings.append(f"{ctx.where()}: image '{src}' does not exist (looked for {path})")
        return None
    except OSError as e:
        ctx.errors.append(f"{ctx.where()}: image '{src}' ({path}) cannot be read: {e.strerror}")
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            ctx.errors.append(
                f"{ctx.where()}: image '{src}' ({path}) is not a regular file; "
                "images must be files of the project"
            )
            return None
        with open(fd, "rb", closefd=False) as f:
            return f.read()
    finally:
        os.close(fd)


def _notebook_href(link: str, ctx: PageContext) -> str:
    """Links between notebooks (`other.ipynb#x`) point at the pages they become."""
    if link.startswith(("#", "/")):
        return link
    written, _, fragment = link.partition("#")
    # `my%20page.ipynb` names the notebook `my page.ipynb`, unless one is named `my%20page.ipynb`.
    paths = dict.fromkeys([written, path_of(written)])
    if not any(path.endswith(".ipynb") for path in paths):
        return link
    # `step1:setup.ipynb` reads as a URL with a scheme, but means the notebook if there is one.
    target = next(
        (
            ctx.page_links[key]
            for key in (posixpath.normpath(posixpath.join(ctx.folder, p)) for p in paths)
            if key in ctx.page_links
        ),
        None,
    )
    if target is None and _SCHEME.match(link):
        return link
    if target is None:
        ctx.warnings.append(f"{ctx.where()}: link to '{link}', which is not a notebook of the docs")
        return link
    return ctx.href(target) + (f"#{fragment}" if fragment else "")


class _DocgenExtension(Extension):
    def __init__(self, ctx_of):  # type: ignore[no-untyped-def]
        super().__init__()
        self.ctx_of = ctx_of

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.inlinePatterns.register(_LinkingBacktick(BACKTICK_RE, self.ctx_of), "backtick", 190)
        md.inlinePatterns.register(
            _MathProcessor(r"(?<!\\)\$\$(.+?)\$\$", md, "block", self.ctx_of), "math-block", 186
        )
        md.inlinePatterns.register(
            _MathProcessor(
                r"(?<![\\$])\$(?![\s$])(.+?)(?<![\s\\])\$(?!\d)", md, "inline", self.ctx_of
            ),
            "math-inline",
            185,
        )
        md.treeprocessors.register(_PageTreeprocessor(md, self.ctx_of), "docgen-page", 5)


class MarkdownRenderer:
    """One Python-Markdown instance, reused for every cell of every page (it is slow to make).

    A cell gets `seconds` and a nesting depth (see mdguard.py); one over budget is shown as
    its escaped source, with a warning."""

    def __init__(self, seconds: float = mdguard.SECONDS) -> None:
        self._ctx: PageContext | None = None
        self.seconds = seconds
        self._check: Callable[[], None] = lambda: None
        self._md = self._new_markdown()

    def _new_markdown(self) -> markdown.Markdown:
        md = markdown.Markdown(
            extensions=[
                "tables",
                "fenced_code",
                "codehilite",
                "attr_list",
                "md_in_html",
                "sane_lists",
                "def_list",
                "footnotes",
                _DocgenExtension(self._current),
            ],
            extension_configs={"codehilite": {"css_class": "highlight", "guess_lang": False}},
            output_format="html",
        )
        mdguard.watch_inline_processors(md, lambda: self._check())
        return md

    def _current(self) -> PageContext:
        assert self._ctx is not None
        return self._ctx

    def render(self, text: str, ctx: PageContext) -> str:
        reason = mdguard.too_costly(text)
        if reason is None:
            headings, used_ids = len(ctx.headings), set(ctx.used_ids)
            self._ctx, self._check = ctx, mdguard.deadline_check(self.seconds)
            try:
                self._md.reset()
                return self._md.convert(text)
            except (RecursionError, mdguard.OverBudget) as e:
                reason = str(e) if isinstance(e, mdguard.OverBudget) else "nested too deeply"
                del ctx.headings[headings:]  # what the abandoned attempt found is not on the page
                ctx.used_ids = used_ids
                self._md = self._new_markdown()  # an interrupted instance is left inconsistent
            finally:
                self._ctx, self._check = None, lambda: None
        ctx.warnings.append(
            f"{ctx.where()}: markdown too costly to render ({reason}); shown as plain text"
        )
        return f'<pre class="markdown-source">{html.escape(text)}</pre>'


def code_lexer(nb_metadata: dict) -> Lexer:
    """The Pygments lexer for a notebook's code cells, from its language_info or kernelspec."""
    info = nb_metadata.get("language_info", {})
    for name in (
        info.get("pygments_lexer"),
        info.get("name"),
        nb_metadata.get("kernelspec", {}).get("language"),
    ):
        if name:
            try:
                return get_lexer_by_name("python" if name.startswith("ipython") else name)
            except ClassNotFound:
                continue
    return TextLexer()


_STYLED_CLASSES = frozenset(HtmlFormatter(cssclass="highlight").class2style)


@functools.lru_cache(maxsize=512)
def _token_class(ttype: _TokenType) -> str:
    """The nearest CSS class the stylesheet styles for a token type; '' when none does."""
    while ttype is not None:
        name = STANDARD_TYPES.get(ttype)
        if name in _STYLED_CLASSES:
            return name
        ttype = ttype.parent
    return ""


def highlight_code(source: str, lexer: Lexer, link: Resolver | None = None) -> str:
    """Pygments highlighting, with spans only where the stylesheet gives them a style.

    Names, operators and whitespace stay bare text, which keeps code-heavy pages small.
    `link` may turn a name into a link (its text unchanged) to the name's docs: it is asked
    about whole dotted names (`nn.Conv2d`), then about shorter prefixes of them.
    """
    parts: list[str] = []
    run_class = ""
    run: list[str] = []  # neighbouring tokens of one class share a span

    def flush() -> None:
        if run:
            text = "".join(run)
            parts.append(f'<span class="{run_class}">{text}</span>' if run_class else text)
            run.clear()

    tokens = list(lexer.get_tokens(source))
    i = 0
    while i < len(tokens):
        ttype, value = tokens[i]
        if link is not None and ttype in Token.Name and not _follows_dot(tokens, i):
            url, n = _longest_link(link, _dotted_chain(tokens, i))
            if url:
                flush()
                inner = "".join(_token_html(t, v) for t, v in tokens[i : i + 2 * n - 1])
                parts.append(f'<a class="code-link" href="{html.escape(url)}">{inner}</a>')
                i += 2 * n - 1
                continue
        text = html.escape(value, quote=False)
        cls = "" if value.isspace() else _token_class(ttype)
        i += 1
        if cls != run_class and not value.isspace():
            flush()
            run_class = cls
        run.append(text)
    flush()
    return f'<div class="highlight"><pre><code>{"".join(parts)}</code></pre></div>\n'


def _token_html(ttype: _TokenType, value: str) -> str:
    text = html.escape(value, quote=False)
    cls = "" if value.isspace() else _token_class(ttype)
    return f'<span class="{cls}">{text}</span>' if cls else text


def _longest_link(link: Resolver, names: list[str]) -> tuple[str | None, int]:
    """The link of the longest prefix of `a.b.c` that has one, and how many names it spans."""
    for n in range(len(names), 0, -1):
        url = link(".".join(names[:n]))
        if url:
            return url, n
    return None, 0


def _is_dot(token: tuple[_TokenType, str]) -> bool:
    return token[1] == "." and token[0] in Token.Operator


def _follows_dot(tokens: list[tuple[_TokenType, str]], i: int) -> bool:
    return i > 0 and _is_dot(tokens[i - 1])


def _dotted_chain(tokens: list[tuple[_TokenType, str]], i: int) -> list[str]:
    """The names of `a.b.c` starting at token `i` (a name token)."""
    names = [tokens[i][1]]
    while (
        i + 2 < len(tokens) and _is_dot(tokens[i + 1]) and tokens[i + 2][0] in Token.Name
    ):
        names.append(tokens[i + 2][1])
        i += 2
    return names


def pygments_css(style: str = "default") -> str:
    return HtmlFormatter(style=style, cssclass="highlight").get_style_defs(".highlight")


def render_code_input(
    source: str, lexer: Lexer, options: CellOptions, link: Resolver | None = None
) -> str:
    """A code cell's source, without its directive lines, highlighted; collapsed if asked.

    `link` turns names into links to their docs (see `highlight_code`)."""
    _, code = parse_directives(source)
    code = code.strip("\n")
    if not code:
        return ""
    body = highlight_code(code, lexer, link)
    if options.collapse_input:
        return f'<details class="cell-input collapsed"><summary>Show code</summary>{body}</details>'
    return f'<div class="cell-input">{body}</div>'
