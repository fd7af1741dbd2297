"""A time and depth budget for one markdown cell.

Python-Markdown recurses once per level of nested lists or quotes (a RecursionError near 300
levels) and, for each `[` it cannot close, scans to the end of its paragraph (100,000 of them
take many minutes). It has no hook to stop it, so a cell is checked twice: `too_costly` turns
away input known to be costly before it starts, and `watch_inline_processors` makes every
inline processor check a deadline, which catches the rest of the slow inline cases. A cell
over budget is shown as its escaped source, with a warning (render.MarkdownRenderer).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import markdown

from docgen.render.gfm import COLON_CLOSE, COLON_OPEN

MAX_NESTING = 100  # levels of lists and quotes; real documents stay under ten
MAX_BRACKET_WORK = 2_000_000  # unclosed `[` in a paragraph times its length (about 1 s)
SECONDS = 5.0

_BLOCK_SEPARATOR = re.compile(r"\n[ \t]*\n")
# A list item's or quote's marker at the start of a line, after the ones before it.
_MARKER = re.compile(r"[ \t]*(?:[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t])|>)[ \t]*")
_INDENT = re.compile(r"[ \t]*")


class OverBudget(Exception):
    """The cell would take too long or nest too deep; the message says which."""


def _nesting(line: str) -> int:
    """Levels a line opens: its indentation (2 columns a level, as `- ` nests lists once gfm.py
    has rewritten them) and its leading markers."""
    indent = len(_INDENT.match(line).group(0).expandtabs(4)) // 2  # type: ignore[union-attr]
    pos = markers = 0
    while m := _MARKER.match(line, pos):
        if m.end() == pos:
            break
        markers, pos = markers + 1, m.end()
    return indent + markers if markers else 0


def _fence_nesting(text: str) -> int:
    """How deep `:::` admonitions nest (gfm.py turns each level into an indented block)."""
    if ":::" not in text:
        return 0
    depth = deepest = 0
    for line in text.splitlines():
        if COLON_OPEN.match(line):
            depth += 1
            deepest = max(deepest, depth)
        elif COLON_CLOSE.match(line):
            depth = max(0, depth - 1)
    return deepest


def _unclosed_brackets(block: str) -> int:
    opened = 0
    for char in block:
        if char == "[":
            opened += 1
        elif char == "]" and opened:
            opened -= 1
    return opened


def too_costly(text: str) -> str | None:
    """Why rendering `text` would exceed the budget, or None when it can be tried."""
    if text.count("[") * len(text) > MAX_BRACKET_WORK:  # cheap test first: most cells pass it
        for block in _BLOCK_SEPARATOR.split(text):
            unclosed = _unclosed_brackets(block)
            if unclosed * len(block) > MAX_BRACKET_WORK:
                return f"{unclosed:,} unclosed '[' in a paragraph of {len(block):,} characters"
    depth = max((_nesting(line) for line in text.splitlines()), default=0)
    depth = max(depth, _fence_nesting(text))
    if depth > MAX_NESTING:
        return f"lists or quotes nested {depth} levels deep (at most {MAX_NESTING})"
    return None


def watch_inline_processors(md: markdown.Markdown, check: Callable[[], None]) -> None:
    """Make every inline processor of `md` call `check` (which raises `OverBudget`) first."""
    for processor in md.inlinePatterns:
        processor.handleMatch = _checked(processor.handleMatch, check)  # type: ignore[method-assign]


def _checked(handle: Callable, check: Callable[[], None]) -> Callable:
    def handle_match(*args):  # type: ignore[no-untyped-def]
        check()
        return handle(*args)

    return handle_match


def deadline_check(seconds: float) -> Callable[[], None]:
    """A `check` that raises `OverBudget` once `seconds` have passed from now."""
    deadline = time.monotonic() + seconds

    def check() -> None:
        if time.monotonic() > deadline:
            raise OverBudget(f"took over {seconds:g} s")

    return check
