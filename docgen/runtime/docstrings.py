"""Google- and NumPy-style docstrings split into a summary and sections of items."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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
                items.append(
                    ("", (type_ or name).strip(), "")
                    if not type_
                    else (name.strip(), type_.strip(), "")
                )
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
