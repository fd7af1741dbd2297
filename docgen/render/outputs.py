"""Cell outputs to HTML: streams, rich display data, images and errors.

Images become content-hashed files (through `PageContext.add_image`), never base64 in the
page; very large text is cut with a notice so one chatty cell cannot bloat a page. An output
this cannot show (data that is not text, an image that does not decode) becomes a warning
naming the notebook, cell and output, never a failed build.
"""

from __future__ import annotations

import html
import math
import re

from docgen.render.ansi import ansi_to_html
from docgen.render.context import PageContext, decode_notebook_image
from docgen.render.frontend import frontend_note
from docgen.render.markdown import MarkdownRenderer
from docgen.runtime.entry import html_text

# Richest first: what a reader of the page should see when an output offers several forms.
MIME_ORDER = (
    "text/html",
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "text/markdown",
    "text/latex",
    "text/plain",
)
_IMAGE_TYPES = {"image/svg+xml", "image/png", "image/jpeg", "image/gif", "image/webp"}
_CARRIAGE_RETURN_LINE = re.compile(r"^.*\r(?!\n)", re.MULTILINE)
_CSS_LENGTH = re.compile(r"\d+(?:\.\d+)?(?:px|%|em|rem|vw|vh)?")
# An SVG's own accessible name: the `<title>` that is the root element's first child.
_SVG_TITLE = re.compile(
    r"<svg\b[^>]*>\s*(?:<!--.*?-->\s*)*<title\b[^>]*>(.*?)</title>", re.S | re.I
)


class _Unshowable(Exception):
    """An output, or one form of it, that the page cannot show; the message says why."""


def _text(value: object, what: str = "the output") -> str:
    """Text as nbformat stores it: a string, or a list of lines."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(line, str) for line in value):
        return "".join(value)
    raise _Unshowable(f"{what} is {type(value).__name__} data, not text")


def apply_carriage_returns(text: str) -> str:
    """What a terminal would show of progress bars: each `\\r` rewrites its line."""
    text = text.replace("\r\n", "\n")
    return _CARRIAGE_RETURN_LINE.sub("", text)


def _truncated(text: str, limit: int) -> tuple[str, str]:
    if len(text) <= limit:
        return text, ""
    notice = (
        f'<div class="output-truncated">Output truncated: showing the first {limit:,} of '
        f"{len(text):,} characters. The notebook has the whole output.</div>"
    )
    return text[:limit], notice


def _merge_streams(outputs: list) -> list:
    """Consecutive stream outputs of the same name, joined (kernels split them arbitrarily)."""
    merged: list = []
    for out in outputs:
        if (
            isinstance(out, dict)
            and out.get("output_type") == "stream"
            and merged
            and merged[-1].get("output_type") == "stream"
            and merged[-1].get("name") == out.get("name")
        ):
            try:
                text = _text(merged[-1].get("text", "")) + _text(out.get("text", ""))
            except _Unshowable:
                merged.append(out)  # shown, or reported, one by one
                continue
            merged[-1] = {**merged[-1], "text": text}
        else:
            merged.append(out)
    return merged


def _size(name: str, value: object) -> tuple[str, str]:
    """An image's width or height, as an attribute (a number) or a style (`'50%'`)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if math.isfinite(value) and 0 < value < 1e6:
            return f' {name}="{round(value)}"', ""
    elif isinstance(value, str) and _CSS_LENGTH.fullmatch(value.strip()):
        return "", f"{name}:{value.strip()}"
    elif value is None:  # what a notebook stores for "not set"
        return "", ""
    raise _Unshowable(f"image {name} {value!r} is not a size (a number, or text like '50%')")


def _text_of(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def alt_text(mime: str, raw: bytes, metadata: object, ctx: PageContext) -> str:
    """An output image's alt text: its own `alt` metadata (IPython's `Image(alt=...)`), the
    cell's (`#| fig-alt`, `alt`), the figure's title (`title` metadata, an SVG's `<title>`),
    else which cell made it. A PNG does not carry a matplotlib figure's title."""
    meta = metadata if isinstance(metadata, dict) else {}
    per_mime = meta.get(mime)
    per_mime = per_mime if isinstance(per_mime, dict) else {}
    for candidate in (per_mime.get("alt"), meta.get("alt"), ctx.cell_alt):
        if text := _text_of(candidate):
            return text
    for candidate in (per_mime.get("title"), meta.get("title")):
        if text := _text_of(candidate):
            return text
    if mime == "image/svg+xml" and (m := _SVG_TITLE.search(raw[:4096].decode("utf-8", "replace"))):
        if text := _text_of(html_text(m.group(1))):
            return text
    return f"Output of cell {ctx.cell_index + 1}"


def _image_html(mime: str, data: object, metadata: object, ctx: PageContext) -> str:
    try:
        raw = decode_notebook_image(data, mime)
    except ValueError as e:
        raise _Unshowable(str(e)) from e
    meta = metadata.get(mime) if isinstance(metadata, dict) else None
    attrs, styles = "", []
    for name in ("width", "height"):
        if isinstance(meta, dict) and name in meta:
            attr, style = _size(name, meta[name])
            attrs += attr
            styles += [style] if style else []
    if styles:
        attrs += f' style="{";".join(styles)}"'
    src = ctx.add_image(raw, mime)
    alt = html.escape(alt_text(mime, raw, metadata, ctx))
    return f'<img src="{src}" alt="{alt}"{attrs} loading="lazy">'


def _rendered_by_build(data: dict, ctx: PageContext, md: MarkdownRenderer) -> str | None:
    for known, render in ctx.mime_renderers.items():
        if known in data:
            try:
                rendered = render(data[known], ctx, md)
            except (TypeError, ValueError, KeyError, AttributeError) as e:
                ctx.warnings.append(
                    f"{ctx.where()}: its {known} output is malformed ({e!r}); "
                    "its other forms are shown instead"
                )
                rendered = None
            if rendered is not None:
                return str(rendered)
    return None


def render_display(out: dict, ctx: PageContext, md: MarkdownRenderer, limit: int) -> str:
    """An output's static form, and a note where its richest form needs a live front end."""
    data = out.get("data")
    if not isinstance(data, dict):
        raise _Unshowable(f"its data is {type(data).__name__}, not a mapping of types to data")
    rendered = _rendered_by_build(data, ctx, md)
    if rendered is not None:
        return rendered
    mime = next((m for m in MIME_ORDER if m in data), None)
    note = frontend_note(data, mime is not None, ctx.widget_models)
    return (_static_form(out, data, mime, ctx, md, limit) if mime else "") + note


def _static_form(
    out: dict, data: dict, mime: str, ctx: PageContext, md: MarkdownRenderer, limit: int
) -> str:
    if mime in _IMAGE_TYPES:
        body = _image_html(mime, data[mime], out.get("metadata", {}), ctx)
        return f'<div class="output output-image">{body}</div>'
    text = _text(data[mime], mime)
    if mime == "text/html":
        if len(text) > limit:
            return (
                '<div class="output-truncated">An HTML output of '
                f"{len(text):,} characters is too large to show (limit {limit:,}). "
                "The notebook has it.</div>"
            )
        return f'<div class="output output-html">{text}</div>'
    if mime == "text/markdown":
        text, notice = _truncated(text, limit)
        return f'<div class="output output-markdown">{md.render(text, ctx)}</div>{notice}'
    if mime == "text/latex":
        text, notice = _truncated(text, limit)
        stripped = text.strip()
        if not stripped.startswith("$"):
            stripped = f"$${stripped}$$"
        return f'<div class="output output-latex">{md.render(stripped, ctx)}</div>{notice}'
    text, notice = _truncated(text, limit)
    return f'<pre class="output output-text">{ansi_to_html(text)}</pre>{notice}'


def render_output(out: dict, ctx: PageContext, md: MarkdownRenderer, limit: int) -> str:
    """One output of a code cell; `_Unshowable` when it has no form the page can show."""
    kind = out.get("output_type")
    if kind == "stream":
        name = "stderr" if out.get("name") == "stderr" else "stdout"
        text, notice = _truncated(apply_carriage_returns(_text(out.get("text", ""))), limit)
        return f'<pre class="output output-{name}">{ansi_to_html(text)}</pre>{notice}'
    if kind in ("display_data", "execute_result"):
        return render_display(out, ctx, md, limit)
    if kind == "error":
        traceback = out.get("traceback")
        text = "\n".join(traceback) if isinstance(traceback, list) else ""
        text = text or f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"
        text, notice = _truncated(text, limit)
        return f'<pre class="output output-error">{ansi_to_html(text)}</pre>{notice}'
    return ""


def render_outputs(outputs: list, ctx: PageContext, md: MarkdownRenderer, limit: int) -> str:
    """All outputs of one code cell, in order; one that cannot be shown is a warning."""
    parts = []
    for out in _merge_streams(outputs):
        kind = out.get("output_type") if isinstance(out, dict) else type(out).__name__
        try:
            if not isinstance(out, dict):
                raise _Unshowable("it is not an output (a mapping with an output_type)")
            parts.append(render_output(out, ctx, md, limit))
        except _Unshowable as e:
            ctx.warnings.append(f"{ctx.where()}: a {kind} output is not shown: {e}")
    return "".join(p for p in parts if p)
