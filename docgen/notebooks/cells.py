"""What each cell asks of the build: Jupyter Book tags and nbdev/Quarto `#|` directives,
folded into one `CellOptions`, so later stages never look at either form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nbformat


# A directive line as nbdev reads it: `#|` and a name, then a value after a colon
# (`#| eval: false`, Quarto's form) or after a space (`#| default_exp core`, nbdev's).
_DIRECTIVE_LINE = re.compile(r"^\s*#\s*\|")
_DIRECTIVE = re.compile(r"^\s*#\s*\|\s*([^\s:]+)\s*:?\s?(.*?)\s*$")
_CELL_MAGIC = re.compile(r"^\s*%%\w+")
# nbdev's directives that take the whole cell off the page: nbdev's docs show neither the
# module name nor internal code. (`#| export` cells stay: their code is the API's record.)
_HIDING = ("hide", "exporti", "default_exp")
# The setup cell of a page's downloadable notebooks (site/downloads.py): it installs what
# the notebook needs elsewhere, so docgen neither runs nor shows it, should one come back.
SETUP_TAG = "docgen-setup"

@dataclass(frozen=True)
class CellOptions:
    """How one cell is executed and shown, from its tags and directives."""

    execute: bool = True
    show_cell: bool = True
    show_input: bool = True
    show_output: bool = True
    collapse_input: bool = False
    collapse_output: bool = False
    may_raise: bool = False


def parse_directives(source: str) -> tuple[dict[str, str], str]:
    """Split the leading `#|` directive lines off a cell, as nbdev does; returns
    (directives, rest). Blank lines and cell magics may sit among the directives: blank
    lines there go, magics stay at the top of the rest."""
    lines = source.splitlines(keepends=True)
    directives: dict[str, str] = {}
    magics: list[str] = []
    found = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if _DIRECTIVE_LINE.match(line):
            found = True
            m = _DIRECTIVE.match(line)
            if m:
                directives[m.group(1).lower()] = (m.group(2) or "").strip().lower()
        elif _CELL_MAGIC.match(line):
            magics.append(line)
        elif line.strip():
            break
        i += 1
    if not found:
        return {}, source
    return directives, "".join([*magics, *lines[i:]])


def metadata_directives(metadata: dict) -> dict[str, str]:  # type: ignore[type-arg]
    """nbdev's directives kept in metadata (`"nbdev": {"export": "true"}`), as comment
    directives read: a bare directive's value is ''. Comment lines win over these."""
    table = metadata.get("nbdev")
    if not isinstance(table, dict):
        return {}
    return {
        str(k).lower(): "" if str(v).lower() == "true" else str(v).lower()
        for k, v in table.items()
    }


def alt_text(cell: nbformat.NotebookNode) -> str | None:
    """What a code cell says its images show: `#| fig-alt: ...`, else its `alt` (or
    `fig-alt`) metadata; as written (`parse_directives` lowercases values)."""
    if cell.cell_type != "code":
        return None
    for line in cell.source.splitlines():
        m = _DIRECTIVE.match(line)
        if not m:
            break
        if m.group(1).lower() == "fig-alt" and (value := _unquoted(m.group(2) or "")):
            return value
    metadata = cell.get("metadata", {})
    for key in ("alt", "fig-alt"):
        value = metadata.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _unquoted(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    return value


def _is_false(value: str) -> bool:
    return value in ("false", "no", "0")


def _is_shown(value: str) -> bool:
    """A hiding directive's value that hides: `#| hide`, `#| default_exp core`, not `: false`."""
    return not _is_false(value)


def _is_true(value: str) -> bool:
    return value in ("", "true", "yes", "1")


def cell_options(cell: nbformat.NotebookNode) -> CellOptions:
    """Fold a cell's tags and directives into `CellOptions`."""
    tags = set(cell.get("metadata", {}).get("tags", []))
    directives: dict[str, str] = {}
    if cell.cell_type in ("code", "markdown"):
        directives, _ = parse_directives(cell.source)
        directives = {**metadata_directives(cell.get("metadata", {})), **directives}

    def directive(name: str, check) -> bool:  # type: ignore[no-untyped-def]
        return name in directives and check(directives[name])

    return CellOptions(
        execute=cell.cell_type == "code"
        and "skip-execution" not in tags
        and SETUP_TAG not in tags
        and not directive("eval", _is_false),
        show_cell="remove-cell" not in tags
        and SETUP_TAG not in tags
        and not any(directive(name, _is_shown) for name in _HIDING)
        and not directive("include", _is_false),
        show_input="remove-input" not in tags and not directive("echo", _is_false),
        show_output="remove-output" not in tags and not directive("output", _is_false),
        collapse_input="hide-input" in tags or directive("code-fold", _is_true),
        collapse_output="hide-output" in tags,
        may_raise="raises-exception" in tags or directive("error", _is_true),
    )


LABEL_TAG = "label:"


def cell_label(cell: nbformat.NotebookNode) -> str:
    """The name a cell's `label:NAME` tag gives it ("" when it has none): the cell's anchor
    in its page, and what other sites embed it by."""
    for tag in cell.get("metadata", {}).get("tags", []):
        if isinstance(tag, str) and tag.startswith(LABEL_TAG):
            name = tag[len(LABEL_TAG) :].strip()
            if name and not any(c.isspace() for c in name):
                return name
    return ""
