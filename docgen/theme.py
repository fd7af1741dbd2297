"""A user's templates folder: checked before anything runs, and template errors made readable.

Jinja reports a syntax error with its file and line, but an exception raised while a
template renders, a missing parent template, an include of itself or a file that is not
UTF-8 come out as Python tracebacks. Each becomes a `DocgenError` naming the template file
and line here; the line of a runtime error is the template's frame in the traceback (Jinja
rewrites tracebacks so template code shows as its own file and line).
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path
from typing import Any

import jinja2

from .errors import DocgenError, UsageError

STATIC = "static"  # the folder of a theme's assets; not templates
# Files checked up front; others (a README, say) are only read if a template uses them.
TEMPLATE_SUFFIXES = (".jinja2", ".jinja", ".j2", ".html", ".htm", ".xml")


def check_user_templates(folder: Path | None) -> None:
    """Every template file in `folder` is UTF-8 and parses; raise naming file and line.

    Run before any notebook, so a typo in a template does not wait for the whole build.
    """
    if folder is None:
        return
    if not folder.is_dir():
        raise UsageError(f"templates folder {folder} does not exist (option `templates`)")
    env = jinja2.Environment()
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or rel.parts[0] == STATIC or path.suffix not in TEMPLATE_SUFFIXES:
            continue
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n") + 1
            raise DocgenError(
                f"template {path}, line {line}: is not UTF-8 text (byte {e.start}); "
                "save it as UTF-8"
            ) from e
        try:
            env.parse(text, rel.as_posix(), str(path))
        except jinja2.TemplateSyntaxError as e:
            raise DocgenError(f"template {path}, line {e.lineno}: {e.message}") from e


def _template_frame(e: BaseException, name: str) -> str:
    """'template FILE, line N' of the innermost template frame in `e`'s traceback."""
    frames = [
        f
        for f in traceback.extract_tb(e.__traceback__)
        if not f.filename.endswith(".py") and os.path.isfile(f.filename)
    ]
    if not frames:
        return f"template {name}"
    return f"template {frames[-1].filename}, line {frames[-1].lineno}"


def _describe(e: Exception, name: str) -> tuple[str, str]:
    """Where in which template `e` happened, and what it is."""
    if isinstance(e, jinja2.TemplateSyntaxError):
        return f"template {e.filename or e.name}, line {e.lineno}", e.message or "syntax error"
    where = _template_frame(e, name)
    if isinstance(e, jinja2.TemplateNotFound):
        return where, (
            f"template '{e.name}' does not exist in the templates folder or docgen's theme "
            '(the theme\'s own are "default/NAME", e.g. "default/page.html.jinja2")'
        )
    if isinstance(e, RecursionError):
        return where, "the template includes or extends itself without end"
    if isinstance(e, UnicodeDecodeError):
        return f"template {name}", f"a template it uses is not UTF-8 text: {e}"
    return where, f"{type(e).__name__}: {e}"


def render_template(env: jinja2.Environment, name: str, what: str, **context: Any) -> str:
    """`name` rendered with `context`; any failure is a `DocgenError` naming the template
    file and line, and `what` was being rendered (e.g. 'the page guide.html')."""
    try:
        return env.get_template(name).render(**context)
    except Exception as e:  # the user's template code can raise anything
        where, problem = _describe(e, name)
        raise DocgenError(f"{where}: {problem} (while rendering {what})") from e
