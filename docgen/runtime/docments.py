"""Parameter comments, as fastcore's docments writes them: a comment after a parameter,
on its line of the signature, documents it; one after the return annotation documents
what is returned. nbdev projects document parameters this way rather than in docstrings.
"""

from __future__ import annotations

import ast
import inspect
import io
import textwrap
import tokenize
from typing import Any

from docgen.runtime.userobjects import FAILURES


def _comments(source: str) -> dict[int, str]:
    """Line number -> the text of the comment that ends it."""
    found = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                found[token.start[0]] = token.string.lstrip("#").strip()
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return found


def docments(target: Any) -> tuple[dict[str, str], str]:
    """(parameter name -> its comment, the return comment) of a function's source; empty
    when there is no source or no comment."""
    try:
        source = textwrap.dedent(inspect.getsource(target))
        tree = ast.parse(source)
    except (*FAILURES, SyntaxError):  # builtins, C functions, source not on disk
        return {}, ""
    func = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)), None
    )
    if func is None:
        return {}, ""
    comments = _comments(source)
    a = func.args
    args = [*a.posonlyargs, *a.args, *([a.vararg] if a.vararg else []), *a.kwonlyargs]
    args += [a.kwarg] if a.kwarg else []
    # A comment documents the last parameter on its line, and only lines of the signature.
    body_line = func.body[0].lineno
    last_on_line = {arg.lineno: arg.arg for arg in args if arg.lineno < body_line}
    params = {name: comments[line] for line, name in last_on_line.items() if line in comments}
    returns = ""
    if func.returns is not None:
        line = func.returns.end_lineno or func.returns.lineno
        if line not in last_on_line and line in comments:
            returns = comments[line]
    return params, returns
