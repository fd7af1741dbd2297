"""nbdev's own `show_doc` output read back into docgen's entry data, for an object the build
cannot import (one the notebook defines itself, `say_hello` in a tutorial).

nbdev's `BasicMarkdownRenderer` writes markdown: an optional `[source](...)` link, a
`### name` heading, then the signature: a `>` quote followed, after the docstring, by a
table of the parameters' types, defaults and comments (nbdev 2), or a fenced
`def name(...)` block whose parameters carry their comments, and the docstring in italics
(nbdev 3). Read back, it renders as any other entry.
"""

from __future__ import annotations

import re
from typing import Any

_HEADING = re.compile(r"^(#{2,6})[ \t]+([\w.]+)[ \t]*$", re.MULTILINE)
_ROW = re.compile(r"^\|(.*)\|[ \t]*$")


def _split_params(text: str) -> list[str]:
    """`a, b:dict[str,int]={}, *c` at its top-level commas."""
    parts, depth, start, quote = [], 0, 0, ""
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _param(text: str) -> dict[str, Any]:
    kind = "POSITIONAL_OR_KEYWORD"
    if text.startswith("**"):
        kind, text = "VAR_KEYWORD", text[2:]
    elif text.startswith("*"):
        kind, text = "VAR_POSITIONAL", text[1:]
    head, eq, default = text.partition("=")
    name, colon, annotation = head.partition(":")
    return {
        "name": name.strip(),
        "kind": kind,
        "annotation": annotation.strip() if colon else None,
        "default": default.strip() if eq else None,
    }


def _table(lines: list[str]) -> dict[str, str]:
    """Parameter name -> its comment, from nbdev's `| name | Type | [Default |] Details |`."""
    comments: dict[str, str] = {}
    for line in lines[2:]:  # after the header and its `| -- |` rule
        m = _ROW.match(line)
        if m is None:
            break
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", m.group(1))]
        if len(cells) >= 3 and cells[0] and not cells[0].startswith("**") and cells[-1]:
            comments[cells[0]] = cells[-1].replace("\\|", "|")
    return comments


_FENCE = re.compile(r"\A```(?:python)?[ \t]*\n(.*?)\n```[ \t]*(?:\n|\Z)", re.DOTALL)
_SIGNATURE = re.compile(r"\A(?:async[ \t]+)?(?:def|class)?[ \t]*([\w.]+)[ \t]*\(")


def _balanced(text: str, start: int) -> int:
    """The index of the `)` closing the `(` at `start`, or -1."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] in "([{":
            depth += 1
        elif text[i] in ")]}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _strip_comments(code: str) -> tuple[str, dict[str, str], str]:
    """(the code without `# comments`, parameter -> its comment, the return's comment):
    docments style, each comment after the parameter (or the `)`) it describes."""
    kept, comments, returns = [], {}, ""
    for line in code.splitlines():
        body, _, comment = line.partition("  #") if "  #" in line else line.partition(" #")
        kept.append(body)
        if comment.strip():
            last = [p for p in _split_params(body.strip().rstrip(":").split("(")[-1]) if p]
            if body.strip().startswith(")"):
                returns = comment.strip()
            elif last:
                comments[_param(last[-1])["name"]] = comment.strip()
    return "\n".join(kept), comments, returns


def _signature(lines: list[str], name: str) -> tuple[str, str, dict[str, str], str] | None:
    """(parameters, return annotation, comments, return's comment) from nbdev's signature:
    a `> name (a, b)` quote (nbdev 2) or a fenced `def name(...)` block (nbdev 3); the
    lines it took are removed from `lines`. None when neither opens `lines`."""
    text = "\n".join(lines)
    fence = _FENCE.match(text)
    if fence:
        code, comments, returns_comment = _strip_comments(fence.group(1))
        del lines[: len(text[: fence.end()].splitlines())]
    else:
        quoted = []
        while lines and lines[0].startswith(">"):
            quoted.append(lines.pop(0).lstrip(">").strip())
        code, comments, returns_comment = " ".join(quoted), {}, ""
    m = _SIGNATURE.match(code.strip())
    short = name.rsplit(".", 1)[-1]
    if m is None or m.group(1) not in (name, short):
        return None
    code = code.strip()
    close = _balanced(code, m.end() - 1)
    if close < 0:
        return None
    returns = code[close + 1 :].strip().rstrip(":").strip()
    returns = returns[2:].strip() if returns.startswith("->") else ""
    return code[m.end() : close], returns, comments, returns_comment


def parse_nbdev_show_doc(markdown: str) -> dict[str, Any] | None:
    """The `describe` data of one nbdev `show_doc` markdown output; None when `markdown`
    is not one (no `### name` heading followed by the name's signature)."""
    heading = _HEADING.search(markdown)
    if heading is None:
        return None
    name = heading.group(2)
    lines = markdown[heading.end() :].strip("\n").splitlines()
    found = _signature(lines, name)
    if found is None:
        return None
    params_text, returns, comments, returns_comment = found
    table_at = next((i for i, line in enumerate(lines) if line.startswith("|")), len(lines))
    doc = "\n".join(lines[:table_at]).strip()
    if len(doc) > 1 and doc[0] == doc[-1] == "*" and "\n\n" not in doc:
        doc = doc[1:-1]  # nbdev 3 writes the docstring in italics
    comments = {**_table(lines[table_at:]), **comments}
    params = [_param(p) for p in _split_params(params_text)]
    if params and params[0]["name"] in ("self", "cls"):
        params = params[1:]
    for param in params:
        if param["name"] in comments:
            param["comment"] = comments[param["name"]]
    kind = "method" if "." in name else "class" if name[:1].isupper() else "function"
    return {
        "name": name,
        "display": name,
        "kind": kind,
        "module": "",
        "params": params,
        "returns": returns or None,
        "returns_comment": returns_comment,
        "names": {},
        "doc": doc,
        "line": None,
        "level": len(heading.group(1)),
        "home": True,
    }
