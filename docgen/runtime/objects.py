"""Facts about live objects that both `show_doc` and API discovery need: the function
behind a descriptor, and the line an object's source starts on.
"""

from __future__ import annotations

import ast
import functools
import inspect
import os
from pathlib import Path
from typing import Any

from docgen.runtime.userobjects import (
    text_attr,
)


def member_function(obj: Any) -> Any:
    """The function behind a property (its getter), staticmethod or classmethod; else `obj`."""
    if isinstance(obj, property):
        obj = obj.fget
    if isinstance(obj, staticmethod | classmethod):
        obj = obj.__func__
    return obj


def source_line(obj: Any) -> int | None:
    """The line an object's source starts on, or None when it has no Python source.

    Functions carry it in their code object; only classes need inspect's search of the
    module's source, which parses the whole file each time.
    """
    obj = member_function(obj)
    try:
        code = getattr(inspect.unwrap(obj), "__code__", None) if callable(obj) else None
    except ValueError:  # a `__wrapped__` that leads back to itself
        code = None
    if isinstance(getattr(code, "co_firstlineno", None), int):
        return int(code.co_firstlineno)  # type: ignore[union-attr]
    if inspect.isclass(obj):
        try:
            path = inspect.getsourcefile(obj)
        except (TypeError, OSError):
            return None
        if path:
            return _class_lines(path, os.path.getmtime(path)).get(text_attr(obj, "__qualname__"))
    return None


@functools.lru_cache(maxsize=256)
def _class_lines(path: str, mtime: float) -> dict[str, int]:
    """qualname -> line of every class statement in a source file, from one parse."""
    try:
        tree = ast.parse(Path(path).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return {}
    lines: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                name = prefix + child.name
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                lines.setdefault(name, first)
                visit(child, name + ".")
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, f"{prefix}{child.name}.<locals>.")

    visit(tree, "")
    return lines
