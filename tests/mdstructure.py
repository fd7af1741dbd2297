"""The element structure of rendered markdown, to compare docgen with a GFM reference renderer.

Only what a reader sees as structure counts: lists and their items, tables, code, emphasis,
strikethrough, links, headings, quotes and rules, with their nesting. Attributes, wrappers
(`div`, `p`, `span`) and docgen's own additions (heading anchors, links to API docs, MathML)
are left out, so two renderers agree when they build the same document from the same cell.
"""

from __future__ import annotations

from html.parser import HTMLParser

from markdown_it import MarkdownIt
from mdit_py_plugins.gfm import gfm_plugin

KEPT = {
    "ul", "ol", "li", "table", "tr", "th", "td", "pre", "code", "em", "strong", "del",
    "a", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "hr", "img",
}  # fmt: skip
SAME = {"s": "del", "strike": "del", "b": "strong", "i": "em"}
VOID = {"hr", "img", "br", "input", "meta", "link", "source", "wbr", "area", "col", "embed"}
# Subtrees that are docgen's own, or math, which each renderer writes its own way.
DROPPED_CLASSES = {"anchor", "math", "math-error"}
CHECKBOX = "checkbox"


class _Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root: list = []
        self.stack: list[tuple[str, list | None]] = []  # (tag, children it adds to or None)

    def _children(self) -> list | None:
        for _, children in reversed(self.stack):
            return children
        return self.root

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attr = dict(attrs)
        tag = SAME.get(tag, tag)
        parent = self._children()
        classes = set((attr.get("class") or "").split())
        dropped = parent is None or bool(classes & DROPPED_CLASSES) or tag == "math"
        if tag == "input" and attr.get("type") == CHECKBOX and parent is not None:
            parent.append(("checked" if "checked" in attr else "checkbox", []))
            return
        if tag in VOID:
            if tag in KEPT and not dropped:
                parent.append((tag, []))
            return
        if dropped:
            self.stack.append((tag, None))
        elif tag in KEPT and not ("api-link" in classes and tag == "a"):
            node: tuple[str, list] = (tag, [])
            parent.append(node)
            self.stack.append((tag, node[1]))
        else:
            self.stack.append((tag, parent))

    def handle_endtag(self, tag: str) -> None:
        tag = SAME.get(tag, tag)
        if tag in VOID:
            return
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return


def structure(html: str) -> str:
    """`html` as its kept elements, nested: `ul(li(code),li)`."""
    parser = _Structure()
    parser.feed(html)
    parser.close()

    def show(nodes: list) -> str:
        return ",".join(tag + (f"({show(kids)})" if kids else "") for tag, kids in nodes)

    return show(parser.root)


def reference_renderer() -> MarkdownIt:
    """CommonMark with GitHub's extensions (tables, strikethrough, autolinks, task lists,
    alerts, footnotes), and `$` math as docgen has it."""
    md = MarkdownIt("commonmark")
    gfm_plugin(md, dollarmath=True)
    return md
