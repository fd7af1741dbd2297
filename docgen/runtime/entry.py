"""An API entry as HTML: heading, linked signature, docstring sections, source link."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from docgen.runtime.docstrings import _TABLE_SECTIONS, DocSection, parse_docstring

_TAG = re.compile(r"<[^>]*>")


def html_text(fragment: str) -> str:
    """The text of an HTML fragment: tags removed first, then entities decoded, so that
    escaped markup such as `&lt;b&gt;` in a default value stays text."""
    return html.unescape(_TAG.sub("", fragment))

_IDENTIFIER = re.compile(r"[^\W\d]\w*(?:\.[^\W\d]\w*)*")


Markdown = Callable[[str], str]


Link = Callable[[str], "str | None"]


def _linked_annotation(text: str, names: dict[str, list[str]], link: Link) -> str:
    """An annotation's text, escaped, with each name that resolves made a link."""
    out, pos = [], 0
    for m in _IDENTIFIER.finditer(text):
        out.append(html.escape(text[pos : m.start()]))
        written = m.group(0)
        url = next((u for u in (link(c) for c in names.get(written, [])) if u), None)
        shown = html.escape(written.rsplit(".", 1)[-1] if url else written)
        if url:
            out.append(
                f'<a class="api-link" href="{html.escape(url)}" '
                f'title="{html.escape(written)}">{shown}</a>'
            )
        else:
            out.append(shown)
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def _signature_html(data: dict[str, Any], link: Link) -> str:
    names = data.get("names", {})
    parts = []
    saw_keyword_only = False
    params = data.get("params", [])
    for i, p in enumerate(params):
        kind = p["kind"]
        if kind == "KEYWORD_ONLY" and not saw_keyword_only:
            parts.append("*")
        if kind in ("KEYWORD_ONLY", "VAR_POSITIONAL"):
            saw_keyword_only = True
        prefix = {"VAR_POSITIONAL": "*", "VAR_KEYWORD": "**"}.get(kind, "")
        text = f'<span class="api-param-name">{prefix}{html.escape(p["name"])}</span>'
        if p.get("annotation"):
            text += ": " + _linked_annotation(p["annotation"], names, link)
        if p.get("default") is not None:
            sep = " = " if p.get("annotation") else "="
            text += f'{sep}<span class="api-default">{html.escape(p["default"])}</span>'
        parts.append(f'<span class="api-param">{text}</span>')
        is_last_positional_only = kind == "POSITIONAL_ONLY" and (
            i + 1 == len(params) or params[i + 1]["kind"] != "POSITIONAL_ONLY"
        )
        if is_last_positional_only:
            parts.append("/")
    sig = f"({', '.join(parts)})"
    if data.get("returns"):
        sig += " → " + _linked_annotation(data["returns"], names, link)
    return sig


def _section_html(section: DocSection, data: dict[str, Any], markdown: Markdown, link: Link) -> str:
    title = f'<p class="api-section-title">{html.escape(section.title)}</p>'
    if not section.items:
        return f'<div class="api-section">{title}{markdown(section.text)}</div>'
    params = {p["name"]: p for p in data.get("params", [])}
    names = data.get("names", {})
    with_defaults = section.title in _TABLE_SECTIONS and any(
        params.get(n.lstrip("*"), {}).get("default") is not None for n, _, _ in section.items
    )
    has_names = any(n for n, _, _ in section.items)
    returns = data.get("returns") if section.title in ("Returns", "Yields") else None
    rows = []
    for name, type_, desc in section.items:
        p = params.get(name.lstrip("*"), {})
        type_text = type_ or p.get("annotation") or returns or ""
        cells = []
        if has_names:
            cells.append(f'<td class="api-param-name"><code>{html.escape(name)}</code></td>')
        cells.append(
            f"<td><code>{_linked_annotation(type_text, names, link)}</code></td>"
            if type_text
            else "<td></td>"
        )
        if with_defaults:
            default = p.get("default")
            cells.append(
                f"<td><code>{html.escape(default)}</code></td>"
                if default is not None
                else "<td></td>"
            )
        cells.append(f"<td>{markdown(desc) if desc else ''}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = (["Name"] if has_names else []) + ["Type"]
    head += (["Default"] if with_defaults else []) + ["Description"]
    header = "".join(f"<th>{h}</th>" for h in head)
    return (
        f'<div class="api-section">{title}<table class="api-params">'
        f"<thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _with_docments(sections: list[DocSection], data: dict[str, Any]) -> list[DocSection]:
    """The docstring's sections, plus a parameter table (and returns) from parameter
    comments (docments.py) where the docstring has none."""
    titles = {s.title for s in sections}
    extra = []
    commented = [(p["name"], "", p["comment"]) for p in data.get("params", []) if p.get("comment")]
    if commented and not titles & set(_TABLE_SECTIONS):
        extra.append(DocSection("Parameters", items=commented))
    if data.get("returns_comment") and "Returns" not in titles:
        extra.append(DocSection("Returns", items=[("", "", data["returns_comment"])]))
    return [*extra, *sections]


def render_doc_html(
    data: dict[str, Any],
    *,
    markdown: Markdown,
    link: Link = lambda name: None,
    anchor: str | None = None,
    source_url: str | None = None,
) -> str:
    """The HTML of one `describe` result.

    `markdown` renders docstring text; `link` maps a full name to a URL (or None);
    `anchor` is the heading's id (None: no id, the heading links to the object's home).
    """
    kind = data.get("kind", "function")
    level = max(1, min(6, int(data.get("level") or 3)))
    display = html.escape(data.get("display") or data.get("name", ""))
    name = html.escape(data.get("name", ""))
    label = f'<span class="api-kind">{kind}</span> ' if kind != "function" else ""
    title = f'<code class="api-name">{display}</code>'
    if anchor is None:
        home = link(data.get("name", ""))
        if home:
            title = f'<a class="api-link" href="{html.escape(home)}">{title}</a>'
        heading = f'<h{level} class="api-heading">{label}{title}'
    else:
        heading = (
            f'<h{level} class="api-heading" id="{html.escape(anchor)}">{label}{title}'
            f'<a class="anchor" href="#{html.escape(anchor)}" aria-label="Link to {name}">¶</a>'
        )
    if source_url:
        heading += f' <a class="source-link" href="{html.escape(source_url)}">source</a>'
    heading += f"</h{level}>"
    parts = [heading]
    if kind not in ("module",) and (
        data.get("params") or kind != "property" or data.get("returns")
    ):
        sig = (
            _signature_html(data, link)
            if kind != "property"
            else (
                ": " + _linked_annotation(data["returns"], data.get("names", {}), link)
                if data.get("returns")
                else ""
            )
        )
        if sig:
            parts.append(f'<div class="api-signature"><code>{display}{sig}</code></div>')
    intro, sections = parse_docstring(data.get("doc", ""))
    sections = _with_docments(sections, data)
    if intro:
        parts.append(f'<div class="api-docstring">{markdown(intro)}</div>')
    for section in sections:
        parts.append(_section_html(section, data, markdown, link))
    return f'<div class="api-doc api-{kind}" data-name="{name}">{"".join(parts)}</div>'
