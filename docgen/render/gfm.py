"""Markdown as JupyterLab shows it (GitHub-flavoured), read by Python-Markdown.

Python-Markdown follows the original Markdown: a list needs a blank line before it, nested
lists need four spaces, and `#title` is a heading. Notebook authors write CommonMark, so
before Python-Markdown parses a cell this rewrites the lines it would read differently into
the form it reads as CommonMark does:

- a list or a table straight after a paragraph gets the blank line before it;
- list items and their content are re-indented to four columns a level, from wherever
  CommonMark puts their content (two spaces for `- `, three for `1. `);
- `#title` (no space) stays a paragraph;
- GitHub alerts (`> [!NOTE]`), MyST fences (`:::{note}` ... `:::`) and Quarto callouts
  (`::: {.callout-note}`) become admonitions (`!!! note`, the admonition extension), whose
  bodies are rewritten the same way.

It runs after superfences and raw HTML set their blocks aside, so their lines are untouched;
a block set aside inside a list item moves with the item. Two steps run before those: a fence
left open is closed at the end of the cell, and an HTML element with a blank line inside gets
`markdown="1"` (md_in_html), as CommonMark reads markdown again after the blank line.
Task lists and bare URLs are pymdown-extensions' (see markdown.py), and so is `~~strike~~`;
GitHub's `~strike~` is added here.
"""

from __future__ import annotations

import bisect
import re

from markdown import Markdown
from markdown.extensions import Extension
from markdown.inlinepatterns import SimpleTagInlineProcessor
from markdown.preprocessors import Preprocessor
from markdown.util import HTML_PLACEHOLDER_RE

# What each spelling's types are called here: the admonition's CSS class.
ADMONITION_TYPES = {
    "note", "tip", "important", "warning", "caution", "attention", "danger", "error", "hint",
    "seealso", "admonition",
}  # fmt: skip

_ALERT = re.compile(r"^ {0,3}> ?\[!(note|tip|important|warning|caution)\][ \t]*$", re.I)
_QUOTE = re.compile(r"^ {0,3}> ?")
COLON_OPEN = re.compile(r"^ {0,3}(:{3,})[ \t]*\{\.?(?:callout-)?([\w-]+)([^}]*)\}[ \t]*(.*)$")
COLON_CLOSE = re.compile(r"^ {0,3}(:{3,})[ \t]*$")
_QUOTED_TITLE = re.compile(r"""title\s*=\s*["']([^"']*)["']""")
_MYST_OPTION = re.compile(r"^:[\w-]+:")
_BANG = re.compile(r"^(!!!|\?\?\?\+?)[ \t]+\S")
_LIST_ITEM = re.compile(r"^( *)([-*+]|\d{1,9}[.)])( +|$)")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_TIGHT_HEADING = re.compile(r"^( {0,3})(#{1,6})(?=[^#\s])")
_TABLE_DELIMITER = re.compile(r"^ {0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_PLACEHOLDER = re.compile(rf"^\s*{HTML_PLACEHOLDER_RE.pattern}\s*$")
# GitHub strikes through `~one~` as well as `~~two~~` (pymdownx.tilde's, which runs first).
_SINGLE_TILDE = r"(?<![~\w])(~)(?![~\s])(.+?)(?<![~\s])~(?![~\w])"
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _starts_block(line: str) -> bool:
    """Whether `line` starts a block that ends a list item's paragraph, lazy or not."""
    return bool(
        _QUOTE.match(line)
        or COLON_OPEN.match(line)
        or _RULE.match(line)
        or re.match(r"^ {0,3}#{1,6}(\s|$)", line)
    )


def _starts_table(lines: list[str], i: int) -> bool:
    """Whether `lines[i]` is a table's header row: cells, then a delimiter row of as many."""
    if i + 1 >= len(lines) or "|" not in lines[i] or not _TABLE_DELIMITER.match(lines[i + 1]):
        return False
    delimiter = lines[i + 1].strip()
    header = lines[i].strip()
    cells = (header.strip("|").count("|") + 1, delimiter.strip("|").count("|") + 1)
    return cells[0] == cells[1] and ("|" in delimiter or cells[0] == 1)


class _Item:
    """An open list item: the column its content starts at, and where it is rewritten to."""

    def __init__(self, content: int, target: int) -> None:
        self.content, self.target = content, target


def _admonition(kind: str, title: str | None, body: list[str]) -> list[str]:
    head = f"!!! {kind}" + (f' "{title}"' if title else "")
    return ["", head] + [("    " + line) if line.strip() else "" for line in gfm_lines(body)] + [""]


def _alert(lines: list[str], i: int) -> tuple[list[str], int]:
    """A GitHub alert at `lines[i]`: its admonition and the index after it."""
    kind = _ALERT.match(lines[i]).group(1).lower()  # type: ignore[union-attr]
    end = i + 1
    while end < len(lines) and _QUOTE.match(lines[end]):
        end += 1
    body = [_QUOTE.sub("", line, count=1) for line in lines[i + 1 : end]]
    return _admonition(kind, None, body), end


def _colon_fence(lines: list[str], i: int) -> tuple[list[str], int] | None:
    """A MyST or Quarto `:::` block at `lines[i]`, as an admonition; None for other blocks."""
    m = COLON_OPEN.match(lines[i])
    assert m is not None
    kind = m.group(2).lower()
    if kind not in ADMONITION_TYPES:
        return None
    depth, end = 1, i + 1
    while end < len(lines):
        if COLON_OPEN.match(lines[end]):
            depth += 1
        elif (close := COLON_CLOSE.match(lines[end])) and len(close.group(1)) >= 3:
            depth -= 1
            if depth == 0:
                break
        end += 1
    body = lines[i + 1 : end]
    while body and _MYST_OPTION.match(body[0]):  # `:class: tip` and the like
        body = body[1:]
    quoted = _QUOTED_TITLE.search(m.group(3))
    title = quoted.group(1) if quoted else m.group(4).strip() or None
    if kind == "admonition" and title is None:
        title = "Note"
    return _admonition(kind, title, body), end + 1


def _bang_block(lines: list[str], i: int) -> tuple[list[str], int]:
    """`!!! note` and its indented body, the body rewritten as a cell of its own."""
    end = i + 1
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith(("    ", "\t"))):
        end += 1
    while end > i + 1 and not lines[end - 1].strip():
        end -= 1
    body = [
        line[4:] if line.startswith("    ") else line.lstrip("\t") for line in lines[i + 1 : end]
    ]
    indented = [("    " + line) if line.strip() else "" for line in gfm_lines(body)]
    return [lines[i], *indented], end


def _fence(lines: list[str], i: int, owner: _Item | None) -> tuple[list[str], int]:
    """A fenced code block that fenced code could not set aside (in a list item or a quote),
    moved to its item's new indentation with blank lines around it, as superfences wants."""
    strip, target = (owner.content, owner.target + 4) if owner else (0, 0)
    opening = _FENCE.match(lines[i].expandtabs(4))
    assert opening is not None
    close = re.compile(rf"^ *{re.escape(opening.group(1)[0])}{{{len(opening.group(1))},}}[ \t]*$")
    end = i + 1
    while end < len(lines) and not close.match(lines[end].expandtabs(4)):
        end += 1
    block = []
    for line in lines[i : end + 1]:
        line = line.expandtabs(4)
        cut = min(strip, _indent(line))
        block.append(" " * target + line[cut:] if line.strip() else "")
    return (["", *block, ""] if owner else block), end + 1


def gfm_lines(lines: list[str]) -> list[str]:
    """The lines of a cell, rewritten so Python-Markdown reads them as CommonMark does."""
    out: list[str] = []
    items: list[_Item] = []
    prev_blank, prev_text = True, False
    i = 0
    while i < len(lines):
        line = lines[i].expandtabs(4)
        if not line.strip():
            out.append("")
            prev_blank, prev_text, i = True, False, i + 1
            continue
        n = _indent(line)
        if items and (prev_blank or _starts_block(line)):
            while items and n < items[-1].content:
                items.pop()
        owner = next((item for item in reversed(items) if n >= item.content), None)
        fenced = _FENCE.match(line[owner.content :] if owner else line)
        if owner and _PLACEHOLDER.match(line):  # a fenced block superfences set aside
            out += ["", " " * (owner.target + 4) + line.strip(), ""]
            prev_blank, prev_text, i = False, False, i + 1
            continue
        if fenced and (owner or n < 4):
            block, i = _fence(lines, i, owner)
            out += block
            prev_blank, prev_text = False, False
            continue
        if not items and n < 4:
            found = None
            if _ALERT.match(line):
                found = _alert(lines, i)
            elif COLON_OPEN.match(line):
                found = _colon_fence(lines, i)
            elif _BANG.match(line):
                found = _bang_block(lines, i)
            elif _QUOTE.match(line):
                end = i
                while end < len(lines) and _QUOTE.match(lines[end]):
                    end += 1
                inner = gfm_lines([_QUOTE.sub("", x, count=1) for x in lines[i:end]])
                found = ([("> " + x) if x else ">" for x in inner], end)
            if found is not None:
                out += found[0]
                i = found[1]
                # A list straight after a quote is not part of it (no lazy lines for lists).
                prev_blank, prev_text = False, True
                continue
        marker = _LIST_ITEM.match(line)
        if marker and _RULE.match(line):
            marker = None
        if marker and not items and (n >= 4 and prev_blank):
            marker = None  # an indented code block
        if marker and items and n >= items[-1].content + 4:
            marker = None  # code inside an item
        if marker and not items and prev_text:
            # CommonMark: only a bullet, or `1.`, interrupts a paragraph; and not when empty.
            number = marker.group(2)[:-1]
            if (number and number != "1") or not line[marker.end() :].strip():
                marker = None
        if marker:
            if not items and prev_text:
                out.append("")
            while items and n < items[-1].content:
                items.pop()
            target = items[-1].target + 4 if items else 0
            spaces = len(marker.group(3))
            width = len(marker.group(2)) + (spaces if 1 <= spaces <= 4 else 1)
            items.append(_Item(n + width, target))
            # `1)` is CommonMark's other ordered marker; Python-Markdown knows only `1.`.
            bullet = marker.group(2)[:-1] + "." if marker.group(2)[-1] == ")" else marker.group(2)
            out.append(" " * target + bullet + " " + line[marker.end() :])
        elif items:
            if owner is None:
                out.append(line.lstrip(" "))  # a lazy continuation line
            else:
                out.append(" " * (owner.target + 4) + line[owner.content :])
        else:
            if prev_text and _starts_table(lines, i):
                out.append("")  # GFM: a table may follow a paragraph directly
            out.append(_TIGHT_HEADING.sub(r"\1\\\2", line, count=1))
        prev_blank, prev_text = False, True
        i += 1
    return out


_HTML_OPEN = re.compile(
    r"^ {0,3}<(details|div|section|aside|article|figure|center|header|footer|main|nav)"
    r"(?=[\s>])([^>]*)>",
    re.I,
)


_HTML_CLOSE = re.compile(r"</(\w+)", re.I)


def html_with_markdown(lines: list[str]) -> list[str]:
    """CommonMark ends an HTML block at a blank line, and what follows is markdown again:
    `<details>`, a blank line, then a list. Python-Markdown keeps the whole element raw
    unless it says `markdown="1"` (md_in_html), so an element with a blank line inside says so.
    """
    out = list(lines)
    next_blank, blank = [len(lines)] * len(lines), len(lines)
    for i in range(len(lines) - 1, -1, -1):  # linear: a cell of many `<div>` lines stays fast
        next_blank[i] = blank
        blank = i if not lines[i].strip() else blank
    closes: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        for name in _HTML_CLOSE.findall(line):
            closes.setdefault(name.lower(), []).append(i)
    for i, line in enumerate(lines):
        m = _HTML_OPEN.match(line)
        if not m or "markdown" in m.group(2).lower() or next_blank[i] == len(lines):
            continue
        at = closes.get(m.group(1).lower(), [])
        k = bisect.bisect_left(at, i)
        if k < len(at) and at[k] <= next_blank[i]:
            continue  # closed before any blank line: a raw element, as CommonMark has it
        out[i] = line[: m.end() - 1] + ' markdown="1"' + line[m.end() - 1 :]
    return out


def closed_fences(lines: list[str]) -> list[str]:
    """A fence left open runs to the end of the cell in CommonMark; Python-Markdown would
    show its backticks and format its code as prose, so the missing closing fence is added."""
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m or (m.group(1)[0] == "`" and "`" in lines[i][m.end() :]):
            i += 1
            continue
        fence, indent = m.group(1), lines[i][: _indent(lines[i])]
        close = re.compile(rf"^ *{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        i += 1
        while i < len(lines) and not close.match(lines[i]):
            i += 1
        if i == len(lines):
            return [*lines, indent + fence]
        i += 1
    return lines


class _FencePreprocessor(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        return closed_fences(lines)


class _HtmlPreprocessor(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        return html_with_markdown(lines)


class _GfmPreprocessor(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        return gfm_lines(lines)


class GfmExtension(Extension):
    """The line rewriting above, after fenced code (25) and raw HTML (20) are set aside;
    HTML elements with markdown inside are marked before raw HTML is set aside."""

    def extendMarkdown(self, md: Markdown) -> None:
        md.preprocessors.register(_GfmPreprocessor(md), "docgen-gfm", 15)
        md.preprocessors.register(_HtmlPreprocessor(md), "docgen-gfm-html", 21)
        md.preprocessors.register(_FencePreprocessor(md), "docgen-gfm-fences", 27)
        md.inlinePatterns.register(SimpleTagInlineProcessor(_SINGLE_TILDE, "del"), "gfm-tilde", 59)
