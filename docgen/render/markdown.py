"""Markdown cells to HTML: math as MathML, heading anchors, images, links between notebooks,
and backticked names linked to their documentation.
"""

from __future__ import annotations

import hashlib
import html
import mimetypes
import os
import posixpath
import re
import stat
import xml.etree.ElementTree as etree
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import latex2mathml.converter
import markdown
from markdown.extensions import Extension
from markdown.inlinepatterns import BACKTICK_RE, BacktickInlineProcessor, InlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import HTML_PLACEHOLDER_RE

from docgen.model import Heading
from docgen.render import mdguard
from docgen.render.context import _SCHEME, PageContext
from docgen.render.gfm import GfmExtension
from docgen.site.urls import path_of


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
                href = el.get("href", "")
                el.set("href", _linked_image(href, ctx) or _notebook_href(href, ctx))
        _unlink_nested(root, self.md.htmlStash.rawHtmlBlocks)
        blocks = self.md.htmlStash.rawHtmlBlocks
        for i, block in enumerate(blocks):
            if isinstance(block, str) and "<" in block:
                blocks[i] = _RAW_REF.sub(lambda m: _raw_ref(m, ctx), block)


# `src` of an <img>, `href` of an <a>, in a markdown cell's raw HTML.
_RAW_REF = re.compile(r"(<(img|a)\b[^>]*?\s(src|href)\s*=\s*)(\"[^\"]*\"|'[^']*')", re.IGNORECASE)


def _raw_ref(m: re.Match[str], ctx: PageContext) -> str:
    """An image or link in raw HTML resolved as the same one in markdown would be."""
    tag, attr, quoted = m.group(2).lower(), m.group(3).lower(), m.group(4)
    if (tag, attr) not in (("img", "src"), ("a", "href")):
        return m.group(0)
    value = html.unescape(quoted[1:-1])
    if tag == "img":
        new = _image_src(value, ctx)
    else:
        new = _linked_image(value, ctx) or _notebook_href(value, ctx)
    return m.group(0) if new == value else f'{m.group(1)}"{html.escape(new)}"'


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
    if _SCHEME.match(src) or src.startswith(("//", "#")):
        return src
    if src.startswith("/"):  # from the notebooks folder, as Quarto reads it, if it is there
        if not _from_root(ctx, src).is_file():
            return src
        src = posixpath.relpath(src, "/" + ctx.folder)
    data = _project_file(ctx, src)
    if data is None:
        return src
    mime = mimetypes.guess_type(path_of(src))[0] or "application/octet-stream"
    return ctx.add_image(data, mime)


def _from_root(ctx: PageContext, src: str) -> Path:
    """The file a `/`-rooted path names in the notebooks folder."""
    root = ctx.nb_dir
    for _ in PurePosixPath(ctx.folder).parts:
        root = root.parent
    return root / path_of(src).lstrip("/")


def _linked_image(href: str, ctx: PageContext) -> str | None:
    """A link to one of the project's image files (`[![](a.svg)](a.svg)`, to open it whole)
    points at the copy the site publishes; None for any other link."""
    if _SCHEME.match(href) or href.startswith(("//", "#")) or "#" in href:
        return None
    mime = mimetypes.guess_type(path_of(href))[0] or ""
    if not mime.startswith("image/"):
        return None
    path = _from_root(ctx, href) if href.startswith("/") else ctx.nb_dir / path_of(href)
    if not path.is_file():
        return None
    return _image_src(href, ctx)


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
        ctx.read_files[str(path)] = None
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
            data = f.read()
        ctx.read_files[str(path)] = hashlib.sha256(data).hexdigest()
        return data
    finally:
        os.close(fd)


def _notebook_href(link: str, ctx: PageContext) -> str:
    """Links between notebooks (`other.ipynb#x`) point at the pages they become; one
    from the root (`/api/01_core.ipynb`, as Quarto writes them) starts at the notebooks
    folder."""
    if link.startswith(("#", "//")):
        return link
    folder, as_written = ctx.folder, link
    if link.startswith("/"):
        written = link.partition("#")[0]
        if not path_of(written).endswith(".ipynb"):
            return link
        link, folder = link[1:], ""
    written, _, fragment = link.partition("#")
    # `my%20page.ipynb` names the notebook `my page.ipynb`, unless one is named `my%20page.ipynb`.
    paths = dict.fromkeys([written, path_of(written)])
    keys = [posixpath.normpath(posixpath.join(folder, p)) for p in paths]
    # `page_links` may also know a page by another `.html` name (nbdev's, for an nbdev site).
    if not any(p.endswith(".ipynb") for p in paths) and not any(
        k.endswith(".html") and k in ctx.page_links for k in keys
    ):
        return link
    # `step1:setup.ipynb` reads as a URL with a scheme, but means the notebook if there is one.
    target = next((ctx.page_links[key] for key in keys if key in ctx.page_links), None)
    if target is None and _SCHEME.match(link):
        return as_written
    if target is None:
        ctx.warnings.append(
            f"{ctx.where()}: link to '{as_written}', which is not a notebook of the docs"
        )
        return as_written
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
                "pymdownx.superfences",
                "codehilite",
                "attr_list",
                "md_in_html",
                "sane_lists",
                "def_list",
                "footnotes",
                "admonition",
                # GitHub-flavoured markdown, as JupyterLab shows it (see gfm.py).
                "pymdownx.tilde",
                "pymdownx.tasklist",
                "pymdownx.magiclink",
                GfmExtension(),
                _DocgenExtension(self._current),
            ],
            extension_configs={
                "codehilite": {"css_class": "highlight", "guess_lang": False},
                # `~sub~` is strikethrough on GitHub, never a subscript.
                "pymdownx.tilde": {"subscript": False},
                "pymdownx.tasklist": {"custom_checkbox": False},
            },
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
