"""Reading the documented project's own code without trusting it.

Importing a module runs its code, and so does reading an attribute (properties, metaclasses,
a module's `__getattr__`): any of it may raise anything, `sys.exit()` included, and return
anything, a `__module__` of None included. These helpers turn that into a value or a
`UserCodeError` that says why, so API discovery can warn and go on.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import pkgutil
import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

# What user code may raise; not KeyboardInterrupt, so Ctrl-C and SIGTERM still stop a build.
FAILURES = (Exception, SystemExit)


class UserCodeError(Exception):
    """The project's code failed while docgen read it; the message says how."""


def is_public_name(dotted: str) -> bool:
    """No part of `a.b.c` starts with an underscore."""
    return not any(part.startswith("_") for part in dotted.split("."))


def reason(e: BaseException) -> str:
    """What went wrong, in words: `RuntimeError: boom`, or `it calls sys.exit(3)`."""
    if isinstance(e, SystemExit):
        return f"it calls sys.exit({e.code!r})"
    return f"{type(e).__name__}: {e}"


@contextlib.contextmanager
def contained() -> Iterator[None]:
    """Import side effects kept from docgen, as pdoc keeps them: the module sees the
    `sys.argv` of a bare interpreter (not docgen's command line, which an argparse call at
    import would reject) and an empty stdin (so `input()` at import fails, never waits)."""
    argv, stdin = sys.argv, sys.stdin
    sys.argv, sys.stdin = [""], io.StringIO()
    try:
        yield
    finally:
        sys.argv, sys.stdin = argv, stdin


def guarded_import(name: str) -> ModuleType:
    """`importlib.import_module` inside `contained()`."""
    with contained():
        return importlib.import_module(name)


def import_module(name: str) -> ModuleType:
    """`importlib.import_module`, with any failure of the module's own code a `UserCodeError`.

    `ModuleNotFoundError` for `name` itself is passed on: the caller knows what to suggest."""
    try:
        return guarded_import(name)
    except ModuleNotFoundError as e:
        if e.name and name.split(".")[0] == e.name.split(".")[0]:
            raise
        raise UserCodeError(reason(e)) from e
    except FAILURES as e:
        raise UserCodeError(reason(e)) from e


def get_attr(obj: Any, name: str, default: Any = None) -> Any:
    """`getattr(obj, name, default)`; `UserCodeError` when reading it runs code that fails."""
    try:
        return getattr(obj, name, default)
    except FAILURES as e:
        raise UserCodeError(reason(e)) from e


def text_attr(obj: Any, name: str) -> str:
    """`obj.<name>` when it is a string (`__module__`, `__qualname__`); "" otherwise."""
    try:
        value = getattr(obj, name, "")
    except FAILURES:
        return ""  # a property that raises is as good as no value here
    return value if isinstance(value, str) else ""


def docstring(obj: Any) -> str:
    """`inspect.getdoc(obj)`, or "" when there is none or reading it fails."""
    try:
        doc = inspect.getdoc(obj)
    except FAILURES:
        return ""
    return doc if isinstance(doc, str) else ""


def submodules(package: ModuleType, warn: Callable[[str], None]) -> list[ModuleType]:
    """`package` and every public module under it, imported, sorted by name.

    A module that fails to import is a warning and is left out with everything under it.
    (pkgutil.walk_packages would let `sys.exit()` in a subpackage end the whole program.)
    """
    found = {package.__name__: package}
    seen_paths: set[str] = set()

    def walk(module: ModuleType) -> None:
        path = vars(module).get("__path__")  # not getattr: a module __getattr__ may raise
        if path is None:
            return
        try:
            entries = [p for p in path if isinstance(p, str) and p not in seen_paths]
        except FAILURES:
            return
        seen_paths.update(entries)
        for info in pkgutil.iter_modules(entries, module.__name__ + "."):
            if not is_public_name(info.name):
                continue
            try:
                child = import_module(info.name)
            except (UserCodeError, ImportError) as e:
                detail = str(e) if isinstance(e, UserCodeError) else reason(e)
                warn(f"module {info.name} cannot be imported ({detail}); its API is left out")
                continue
            found[info.name] = child
            if info.ispkg:
                walk(child)

    walk(package)
    return [found[name] for name in sorted(found)]
