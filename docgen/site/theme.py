"""A user's templates folder: checked before anything runs, and template errors made readable.

Jinja reports a syntax error with its file and line, but an exception raised while a
template renders, a missing parent template, an include of itself or a file that is not
UTF-8 come out as Python tracebacks, and one of the user's that is a folder or a dangling
symlink is silently replaced by the theme's. Each becomes a `DocgenError` naming the
template file and line here (`TemplateLoader` names a file it cannot use); the line of a
runtime error is the template's frame in the traceback (Jinja rewrites tracebacks so
template code shows as its own file and line).
"""

from __future__ import annotations

import os
import posixpath
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from jinja2.loaders import split_template_path

from docgen.errors import DocgenError, UsageError
from docgen.site.urls import href

STATIC = "static"  # the folder of a theme's assets; not templates


# Files checked up front; others (a README, say) are only read if a template uses them.
TEMPLATE_SUFFIXES = (".jinja2", ".jinja", ".j2", ".html", ".htm", ".xml")


class TemplateFileError(jinja2.TemplateError):
    """A template file that cannot be used: `where` names it (and the line)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


def _not_a_file(path: Path) -> str | None:
    """Why `path`, which exists as a name, is no template file (None when it is one)."""
    if path.is_file():
        return None
    if path.is_symlink() and not path.exists():
        return f"is a symbolic link to {os.readlink(path)}, which does not exist"
    return "is a folder" if path.is_dir() else "is not a regular file"


def _read_template(path: Path) -> str:
    """The text of the template file `path`, or a `TemplateFileError` saying why not."""
    problem = _not_a_file(path)
    if problem:
        raise TemplateFileError(
            f"template {path}",
            f"{problem}; docgen would use its theme's template of that name instead: make it "
            "a template file, or remove it",
        )
    try:
        data = path.read_bytes()
    except OSError as e:
        raise TemplateFileError(f"template {path}", f"cannot be read: {e.strerror}") from e
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise TemplateFileError(
            f"template {path}, line {line}", f"is not UTF-8 text (byte {e.start}); save it as UTF-8"
        ) from e


class TemplateLoader(jinja2.FileSystemLoader):
    """Jinja's file loader, but a template file it cannot use is a `TemplateFileError`
    naming it: not UTF-8, unreadable, or (so the theme's does not silently stand in) a
    folder or a dangling symlink."""

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)
        for searchpath in self.searchpath:
            path = Path(posixpath.join(searchpath, *pieces))
            if os.path.lexists(path):
                text = _read_template(path)
                mtime = os.path.getmtime(path)

                def uptodate(path: Path = path, mtime: float = mtime) -> bool:
                    try:
                        return os.path.getmtime(path) == mtime
                    except OSError:
                        return False

                return text, os.path.normpath(path), uptodate
        raise jinja2.TemplateNotFound(template)


def check_user_templates(folder: Path | None) -> None:
    """Every template file in `folder` is UTF-8 and parses; raise naming file and line.

    Run before any notebook, so a typo in a template does not wait for the whole build.
    """
    if folder is None:
        return
    if not folder.is_dir():
        problem = "is a file, not a folder" if folder.exists() else "does not exist"
        raise UsageError(f"templates folder {folder} {problem} (option `templates`)")
    env = jinja2.Environment()
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if rel.parts[0] == STATIC or path.suffix not in TEMPLATE_SUFFIXES:
            continue
        try:
            text = _read_template(path)
        except TemplateFileError as e:
            raise DocgenError(str(e)) from e
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
    if isinstance(e, TemplateFileError):
        return e.where, e.problem
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


def templates_dir() -> Path:
    """The default theme: inside the package when installed, beside it in a checkout."""
    here = Path(__file__).parent.parent  # the package folder
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "page.html.jinja2").is_file():
            return candidate
    raise FileNotFoundError(f"docgen's default templates are missing (looked beside {here})")


def template_environment(user_templates: Path | None) -> jinja2.Environment:
    """User templates first, so one can `{% extends "default/page.html.jinja2" %}`."""
    default = TemplateLoader(templates_dir())
    loaders: list[jinja2.BaseLoader] = []
    if user_templates is not None:
        loaders.append(TemplateLoader(user_templates))
    loaders += [default, jinja2.PrefixLoader({"default": default})]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "jinja2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # `{{ root }}{{ page.url | href }}`: a site path as a link, whatever its file's name.
    env.filters["href"] = href
    return env
