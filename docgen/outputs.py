"""Cell outputs to HTML: streams, rich display data, images and errors.

Images become content-hashed files (through `PageContext.add_image`), never base64 in the
page; very large text is cut with a notice so one chatty cell cannot bloat a page.
"""

from __future__ import annotations

import re

from .ansi import ansi_to_html
from .render import MarkdownRenderer, PageContext

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


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


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
            out.get("output_type") == "stream"
            and merged
            and merged[-1].get("output_type") == "stream"
            and merged[-1].get("name") == out.get("name")
        ):
            merged[-1] = {**merged[-1], "text": _text(merged[-1]["text"]) + _text(out["text"])}
        else:
            merged.append(out)
    return merged


def _image_html(mime: str, data: str | list[str], metadata: dict, ctx: PageContext) -> str:
    src = ctx.add_notebook_image(_text(data), mime)
    meta = metadata.get(mime, {}) if isinstance(metadata.get(mime), dict) else {}
    size = "".join(f' {k}="{int(meta[k])}"' for k in ("width", "height") if k in meta)
    return f'<img src="{src}" alt="output image"{size} loading="lazy">'


def render_display(out: dict, ctx: PageContext, md: MarkdownRenderer, limit: int) -> str:
    data = out.get("data", {})
    for known, render in ctx.mime_renderers.items():
        if known in data:
            rendered = render(data[known], ctx, md)
            if rendered is not None:
                return rendered
    mime = next((m for m in MIME_ORDER if m in data), None)
    if mime is None:
        return ""  # widgets and other front-end-only outputs have no static form
    if mime in _IMAGE_TYPES:
        body = _image_html(mime, data[mime], out.get("metadata", {}), ctx)
        return f'<div class="output output-image">{body}</div>'
    text = _text(data[mime])
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


def render_outputs(outputs: list, ctx: PageContext, md: MarkdownRenderer, limit: int) -> str:
    """All outputs of one code cell, in order."""
    parts = []
    for out in _merge_streams(outputs):
        kind = out.get("output_type")
        if kind == "stream":
            name = "stderr" if out.get("name") == "stderr" else "stdout"
            text, notice = _truncated(apply_carriage_returns(_text(out.get("text", ""))), limit)
            parts.append(f'<pre class="output output-{name}">{ansi_to_html(text)}</pre>{notice}')
        elif kind in ("display_data", "execute_result"):
            parts.append(render_display(out, ctx, md, limit))
        elif kind == "error":
            text = "\n".join(out.get("traceback", [])) or (
                f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"
            )
            text, notice = _truncated(text, limit)
            parts.append(f'<pre class="output output-error">{ansi_to_html(text)}</pre>{notice}')
    return "".join(p for p in parts if p)
