"""`show_doc(obj)` and `doc(obj)`: an object's documentation, inside a notebook.

In Jupyter the result shows as HTML. Its display data also carries a plain-JSON
description of the object under `DOC_MIME` (name, signature, docstring, source line), so
the build renders it again with what only the build knows: the anchor, links for every
name in the signature and docstring, and a source link into the configured repository.
The kernel needs no configuration.

`show_doc` documents the object on the page it is called on (the page becomes its home:
the heading gets the object's full name as anchor). `doc` only shows it, with its heading
linking to the object's home.
"""

from __future__ import annotations

import builtins
import dataclasses
import html
import inspect
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .symbols import member_function, source_line
from .userobjects import FAILURES, docstring, text_attr

__all__ = ["DOC_MIME", "show_doc", "doc", "describe", "render_doc_html"]

DOC_MIME = "application/vnd.docgen.doc+json"
_MISSING = object()
_IDENTIFIER = re.compile(r"[^\W\d]\w*(?:\.[^\W\d]\w*)*")
_GOOGLE_SECTIONS = {
    "args": "Parameters",
    "arguments": "Parameters",
    "parameters": "Parameters",
    "params": "Parameters",
    "keyword args": "Keyword arguments",
    "keyword arguments": "Keyword arguments",
    "other parameters": "Other parameters",
    "attributes": "Attributes",
    "returns": "Returns",
    "return": "Returns",
    "yields": "Yields",
    "yield": "Yields",
    "raises": "Raises",
    "exceptions": "Raises",
    "examples": "Examples",
    "example": "Examples",
    "notes": "Notes",
    "note": "Notes",
    "warnings": "Warnings",
    "warning": "Warnings",
    "see also": "See also",
    "references": "References",
}
_TABLE_SECTIONS = {"Parameters", "Keyword arguments", "Other parameters", "Attributes"}
_SECTION_HEADER = re.compile(r"^([A-Za-z][A-Za-z ]*?)\s*:\s*$")
_NUMPY_UNDERLINE = re.compile(r"^\s*-{3,}\s*$")
_GOOGLE_ITEM = re.compile(r"^(\*{0,2}[^\W\d]\w*)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$")
_NUMPY_ITEM = re.compile(r"^(\*{0,2}[^\W\d]\w*)\s*(?::\s*(.*))?$")


# --- what an object is --------------------------------------------------------------


def _kind(obj: Any) -> str:
    if inspect.ismodule(obj):
        return "module"
    if inspect.isclass(obj):
        return "class"
    if isinstance(obj, property):
        return "property"
    qualname = text_attr(obj, "__qualname__")
    if "." in qualname and "<locals>" not in qualname.split(".")[-2]:
        return "method"
    return "function"


def full_name(obj: Any) -> str:
    """`module.qualname` of an object (of a property's getter for a property)."""
    if inspect.ismodule(obj):
        return obj.__name__
    target = obj.fget if isinstance(obj, property) else obj
    module = text_attr(target, "__module__")
    qualname = text_attr(target, "__qualname__") or text_attr(target, "__name__")
    return f"{module}.{qualname}" if module else qualname


def _is_documentable(obj: Any) -> bool:
    """Classes, functions and modules; not values such as `Size = tuple[int, int]`."""
    return inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj)


def _annotation_names(text: str, globalns: dict[str, Any]) -> dict[str, list[str]]:
    """Dotted names in an annotation's text -> full names of what they denote, best first.

    Looked up in the namespace of the object's module, as Python would evaluate them:
    `Tensor` written in a module that did `from torch import Tensor` is `torch.Tensor`.
    """
    found: dict[str, list[str]] = {}
    for m in _IDENTIFIER.finditer(text):
        written = m.group(0)
        head, *rest = written.split(".")
        obj = globalns[head] if head in globalns else getattr(builtins, head, _MISSING)
        candidates = []
        if obj is not _MISSING:
            reached = obj.__name__ if inspect.ismodule(obj) else full_name(obj)
            for attr in rest:
                try:
                    obj = getattr(obj, attr, _MISSING)
                except FAILURES:  # a descriptor or module `__getattr__` that raises
                    obj = _MISSING
                reached = f"{reached}.{attr}"
                if obj is _MISSING:
                    break
            if obj is not _MISSING and reached and _is_documentable(obj):
                candidates.append(reached)
                real = full_name(obj)
                if real and real not in candidates:
                    candidates.append(real)
        elif rest:
            candidates.append(written)  # a string annotation naming a module not imported
        if candidates:
            found[written] = candidates
    return found


def _format_annotation(annotation: Any) -> str:
    if isinstance(annotation, str):
        return annotation
    try:
        return inspect.formatannotation(annotation)
    except FAILURES:  # its repr is the project's code
        return f"<{type(annotation).__name__}>"


def _default_text(value: Any, factories: dict[str, Any] | None = None, name: str = "") -> str:
    """A default value as the signature shows it: short, and the same from run to run."""
    try:
        text = repr(value)
    except FAILURES:  # a default value's `__repr__` is the project's code
        return f"<{type(value).__name__}>"
    if text == "<factory>" and factories and name in factories:
        factory = factories[name]  # a dataclass field's default_factory
        label = text_attr(factory, "__qualname__")
        return f"{label}()" if label and "<lambda>" not in label else "..."
    if inspect.isfunction(value) or inspect.isclass(value) or inspect.isbuiltin(value):
        return text_attr(value, "__qualname__") or f"<{type(value).__name__}>"
    if inspect.ismodule(value):
        return value.__name__
    if len(text) > 60 or "\n" in text or " at 0x" in text or text == "<factory>":
        text = f"<{type(value).__name__}>"
    return text


def describe(obj: Any, name: str | None = None, level: int | None = None,
             home: bool = True) -> dict[str, Any]:
    """A plain-JSON description of `obj`: what `render_doc_html` needs, nothing live."""
    kind = _kind(obj)
    target = member_function(obj)
    fullname = name or full_name(obj)
    module = obj.__name__ if kind == "module" else text_attr(target, "__module__")
    qualname = text_attr(target, "__qualname__") or fullname
    display = fullname if kind == "module" else qualname
    globalns = vars(sys.modules[module]) if module in sys.modules else {}
    params: list[dict[str, Any]] = []
    returns = None
    names: dict[str, list[str]] = {}
    if kind not in ("module", "property"):
        try:
            sig = inspect.signature(target)
        except FAILURES:  # no signature, or a `__signature__` of the project's that raises
            sig = None
        factories = {
            f.name: f.default_factory
            for f in (dataclasses.fields(target) if dataclasses.is_dataclass(target) else ())
            if f.default_factory is not dataclasses.MISSING
        }
        if sig is not None:
            for p in sig.parameters.values():
                annotation = None
                if p.annotation is not inspect.Parameter.empty:
                    annotation = _format_annotation(p.annotation)
                    names.update(_annotation_names(annotation, globalns))
                params.append(
                    {
                        "name": p.name,
                        "kind": p.kind.name,
                        "annotation": annotation,
                        "default": None
                        if p.default is inspect.Parameter.empty
                        else _default_text(p.default, factories, p.name),
                    }
                )
            if sig.return_annotation is not inspect.Signature.empty and kind != "class":
                returns = _format_annotation(sig.return_annotation)
                names.update(_annotation_names(returns, globalns))
            if kind == "method" and params and params[0]["name"] in ("self", "cls"):
                params = params[1:]
    elif kind == "property":
        try:
            annotations = getattr(target, "__annotations__", None)
        except FAILURES:  # the project's own descriptor
            annotations = None
        ret = annotations.get("return") if isinstance(annotations, dict) else None
        if ret is not None:
            returns = _format_annotation(ret)
            names.update(_annotation_names(returns, globalns))
    line = source_line(target) if kind != "module" else 1
    if level is None:
        level = {"module": 2, "class": 3, "function": 3}.get(kind, 4)
    return {
        "name": fullname,
        "display": display,
        "kind": kind,
        "module": module,
        "params": params,
        "returns": returns,
        "names": names,
        "doc": docstring(obj),
        "line": line,
        "level": level,
        "home": home,
    }


# --- docstrings ---------------------------------------------------------------------


@dataclass
class DocSection:
    title: str
    text: str = ""
    items: list[tuple[str, str, str]] = field(default_factory=list)  # (name, type, description)


def _dedent(lines: list[str]) -> list[str]:
    indents = [len(ln) - len(ln.lstrip()) for ln in lines if ln.strip()]
    cut = min(indents, default=0)
    return [ln[cut:] for ln in lines]


def _items(lines: list[str], numpy: bool) -> list[tuple[str, str, str]] | None:
    """`name (type): description` (Google) or `name : type` + indented text (NumPy) items."""
    items: list[list[str]] = []
    pattern = _NUMPY_ITEM if numpy else _GOOGLE_ITEM
    for line in _dedent(lines):
        if not line.strip():
            if items:
                items[-1][2] += "\n"
            continue
        if line[0] != " ":
            m = pattern.match(line)
            if not m:
                return None
            if numpy:
                items.append([m.group(1), (m.group(2) or "").strip(), ""])
            else:
                items.append([m.group(1), (m.group(2) or "").strip(), m.group(3)])
        elif items:
            items[-1][2] += ("\n" if items[-1][2] else "") + line.strip()
        else:
            return None
    return [(n, t, " ".join(d.split())) for n, t, d in items]


def _returns(lines: list[str], numpy: bool) -> list[tuple[str, str, str]]:
    body = _dedent(lines)
    if numpy:
        items: list[tuple[str, str, str]] = []
        for line in body:
            if line.strip() and line[0] != " ":
                name, _, type_ = line.partition(":")
                items.append(("", (type_ or name).strip(), "") if not type_ else
                             (name.strip(), type_.strip(), ""))
            elif line.strip() and items:
                n, t, d = items[-1]
                items[-1] = (n, t, (d + " " + line.strip()).strip())
        return items
    text = " ".join(" ".join(body).split())
    m = re.match(r"^([\w.\[\], |]+?):\s+(.*)$", text)
    if m and " " not in m.group(1).replace(", ", ",").replace(" | ", "|"):
        return [("", m.group(1), m.group(2))]
    return [("", "", text)]


def parse_docstring(doc: str) -> tuple[str, list[DocSection]]:
    """Split a docstring into its free text and its Google- or NumPy-style sections."""
    lines = doc.expandtabs().splitlines()
    starts: list[tuple[int, int, str, bool]] = []  # (header line, body start, title, numpy)
    i = 0
    while i < len(lines):
        line = lines[i]
        if line and not line[0].isspace():
            m = _SECTION_HEADER.match(line)
            if m and m.group(1).lower() in _GOOGLE_SECTIONS:
                starts.append((i, i + 1, _GOOGLE_SECTIONS[m.group(1).lower()], False))
            elif (
                line.strip().lower() in _GOOGLE_SECTIONS
                and i + 1 < len(lines)
                and _NUMPY_UNDERLINE.match(lines[i + 1])
            ):
                starts.append((i, i + 2, _GOOGLE_SECTIONS[line.strip().lower()], True))
                i += 1
        i += 1
    intro = "\n".join(lines[: starts[0][0]] if starts else lines).strip()
    sections = []
    for n, (_, body_start, title, numpy) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        body = lines[body_start:end]
        while body and not body[-1].strip():
            body.pop()
        section = DocSection(title)
        if title in _TABLE_SECTIONS or title == "Raises":
            items = _items(body, numpy)
            if items is not None and title == "Raises":  # `ValueError: when ...`: a type
                section.items = [("", name, desc) for name, _, desc in items]
            elif items is not None:
                section.items = items
            else:
                section.text = "\n".join(_dedent(body)).strip()
        elif title in ("Returns", "Yields"):
            section.items = _returns(body, numpy)
        else:
            section.text = "\n".join(_dedent(body)).strip()
            if title == "Examples" and ">>>" in section.text and "```" not in section.text:
                section.text = f"```python\n{section.text}\n```"
        sections.append(section)
    return intro, sections


# --- HTML ---------------------------------------------------------------------------

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
            out.append(f'<a class="api-link" href="{html.escape(url)}" '
                       f'title="{html.escape(written)}">{shown}</a>')
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


def _section_html(section: DocSection, data: dict[str, Any], markdown: Markdown,
                  link: Link) -> str:
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
            if type_text else "<td></td>"
        )
        if with_defaults:
            default = p.get("default")
            cells.append(f"<td><code>{html.escape(default)}</code></td>" if default is not None
                         else "<td></td>")
        cells.append(f"<td>{markdown(desc) if desc else ''}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = (["Name"] if has_names else []) + ["Type"]
    head += (["Default"] if with_defaults else []) + ["Description"]
    header = "".join(f"<th>{h}</th>" for h in head)
    return (f'<div class="api-section">{title}<table class="api-params">'
            f"<thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


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
    if kind not in ("module",) and (data.get("params") or kind != "property"
                                     or data.get("returns")):
        sig = _signature_html(data, link) if kind != "property" else (
            ": " + _linked_annotation(data["returns"], data.get("names", {}), link)
            if data.get("returns") else "")
        if sig:
            parts.append(f'<div class="api-signature"><code>{display}{sig}</code></div>')
    intro, sections = parse_docstring(data.get("doc", ""))
    if intro:
        parts.append(f'<div class="api-docstring">{markdown(intro)}</div>')
    for section in sections:
        parts.append(_section_html(section, data, markdown, link))
    return f'<div class="api-doc api-{kind}" data-name="{name}">{"".join(parts)}</div>'


def _plain_markdown(text: str) -> str:
    import markdown

    return markdown.markdown(text, extensions=["fenced_code", "tables"])


class ShowDoc:
    """What `show_doc` returns: displayed by Jupyter, rendered again by the docgen build."""

    def __init__(self, data: dict[str, Any]):
        self.data = data

    def _repr_html_(self) -> str:
        anchor = self.data["name"] if self.data["home"] else None
        return render_doc_html(self.data, markdown=_plain_markdown, anchor=anchor)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        plain = f"{self.data['display']}{self._plain_signature()}"
        bundle = {"text/html": self._repr_html_(), "text/plain": plain, DOC_MIME: self.data}
        return bundle, {DOC_MIME: {"name": self.data["name"]}}

    def _plain_signature(self) -> str:
        if self.data["kind"] in ("module", "property"):
            return ""
        return re.sub(r"<[^>]+>", "", html.unescape(_signature_html(self.data, lambda n: None)))

    def __repr__(self) -> str:
        return f"<show_doc {self.data['name']}>"


def show_doc(obj: Any, name: str | None = None, level: int | None = None) -> ShowDoc:
    """Document `obj` here: heading with a stable anchor, signature, docstring, source link.

    Args:
        obj: A module, class, function, method or property.
        name: The name to document it under, if not its `module.qualname`.
        level: Heading level; by default 2 for modules, 3 for classes and functions,
            4 for methods and properties.
    """
    return ShowDoc(describe(obj, name=name, level=level, home=True))


def doc(obj: Any) -> ShowDoc:
    """Show `obj`'s documentation, linking to the page that documents it."""
    return ShowDoc(describe(obj, home=False))
