"""Code cells to HTML: Pygments highlighting with spans only where the stylesheet styles a
token, and names linked to their documentation.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable

from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.token import STANDARD_TYPES, Token, _TokenType
from pygments.util import ClassNotFound

from docgen.notebooks.cells import CellOptions, parse_directives
from docgen.render.context import Resolver


def code_lexer(nb_metadata: dict) -> Lexer:
    """The Pygments lexer for a notebook's code cells, from its language_info or kernelspec."""
    info = nb_metadata.get("language_info", {})
    for name in (
        info.get("pygments_lexer"),
        info.get("name"),
        nb_metadata.get("kernelspec", {}).get("language"),
    ):
        if name:
            try:
                return get_lexer_by_name("python" if name.startswith("ipython") else name)
            except ClassNotFound:
                continue
    return TextLexer()


_STYLED_CLASSES = frozenset(HtmlFormatter(cssclass="highlight").class2style)


@functools.lru_cache(maxsize=512)
def _token_class(ttype: _TokenType) -> str:
    """The nearest CSS class the stylesheet styles for a token type; '' when none does."""
    while ttype is not None:
        name = STANDARD_TYPES.get(ttype)
        if name in _STYLED_CLASSES:
            return name
        ttype = ttype.parent
    return ""


def highlight_code(source: str, lexer: Lexer, link: Resolver | None = None) -> str:
    """Pygments highlighting, with spans only where the stylesheet gives them a style.

    Names, operators and whitespace stay bare text, which keeps code-heavy pages small.
    `link` may turn a name into a link (its text unchanged) to the name's docs: it is asked
    about whole dotted names (`nn.Conv2d`), then about shorter prefixes of them.
    """
    parts: list[str] = []
    run_class = ""
    run: list[str] = []  # neighbouring tokens of one class share a span

    def flush() -> None:
        if run:
            text = "".join(run)
            parts.append(f'<span class="{run_class}">{text}</span>' if run_class else text)
            run.clear()

    tokens = list(lexer.get_tokens(source))
    i = 0
    while i < len(tokens):
        ttype, value = tokens[i]
        if link is not None and ttype in Token.Name and not _follows_dot(tokens, i):
            url, n = _longest_link(link, _dotted_chain(tokens, i))
            if url:
                flush()
                inner = "".join(_token_html(t, v) for t, v in tokens[i : i + 2 * n - 1])
                parts.append(f'<a class="code-link" href="{html.escape(url)}">{inner}</a>')
                i += 2 * n - 1
                continue
        text = html.escape(value, quote=False)
        cls = "" if value.isspace() else _token_class(ttype)
        i += 1
        if cls != run_class and not value.isspace():
            flush()
            run_class = cls
        run.append(text)
    flush()
    return f'<div class="highlight"><pre><code>{"".join(parts)}</code></pre></div>\n'


def _token_html(ttype: _TokenType, value: str) -> str:
    text = html.escape(value, quote=False)
    cls = "" if value.isspace() else _token_class(ttype)
    return f'<span class="{cls}">{text}</span>' if cls else text


def _longest_link(link: Resolver, names: list[str]) -> tuple[str | None, int]:
    """The link of the longest prefix of `a.b.c` that has one, and how many names it spans."""
    for n in range(len(names), 0, -1):
        url = link(".".join(names[:n]))
        if url:
            return url, n
    return None, 0


def _is_dot(token: tuple[_TokenType, str]) -> bool:
    return token[1] == "." and token[0] in Token.Operator


def _follows_dot(tokens: list[tuple[_TokenType, str]], i: int) -> bool:
    return i > 0 and _is_dot(tokens[i - 1])


def _dotted_chain(tokens: list[tuple[_TokenType, str]], i: int) -> list[str]:
    """The names of `a.b.c` starting at token `i` (a name token)."""
    names = [tokens[i][1]]
    while i + 2 < len(tokens) and _is_dot(tokens[i + 1]) and tokens[i + 2][0] in Token.Name:
        names.append(tokens[i + 2][1])
        i += 2
    return names


def pygments_css(style: str = "default") -> str:
    return HtmlFormatter(style=style, cssclass="highlight").get_style_defs(".highlight")


def dark_pygments_css(style: str = "github-dark") -> str:
    """Code colours for dark mode: chosen with the toggle, or by the system unless the
    toggle chose light (see docgen.css)."""
    formatter = HtmlFormatter(style=style, cssclass="highlight")
    chosen = formatter.get_style_defs(':root[data-theme="dark"] .highlight')
    system = formatter.get_style_defs(':root:not([data-theme="light"]) .highlight')
    return f"\n{chosen}\n@media (prefers-color-scheme: dark) {{\n{system}\n}}\n"


# nbdev's `#| hide_line`: the line it ends is run but not shown.
_HIDE_LINE = re.compile(r"^.*#\s*\|\s*hide_line\s*\n?", re.MULTILINE)

Highlight = Callable[[str, Lexer, "Resolver | None"], str]


def render_code_input(
    source: str,
    lexer: Lexer,
    options: CellOptions,
    link: Resolver | None = None,
    highlight: Highlight = highlight_code,
) -> str:
    """A code cell's source, without its directive lines, highlighted; collapsed if asked.

    `link` turns names into links to their docs (see `highlight_code`)."""
    _, code = parse_directives(source)
    code = _HIDE_LINE.sub("", code).strip("\n")
    if not code:
        return ""
    body = highlight(code, lexer, link)
    if options.collapse_input:
        return f'<details class="cell-input collapsed"><summary>Show code</summary>{body}</details>'
    return f'<div class="cell-input">{body}</div>'
