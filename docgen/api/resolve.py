"""Turning backticked names, and names in code cells, into links to their documentation.

A page's names mean what they mean in its notebook: its import statements are read with
`ast` and carried out in the build process (`notebook_namespace`), so after
`import torch.nn as nn` the backticked `nn.Conv2d` is the object `torch.nn.Conv2d`.
From an object, the candidates for its documentation entry are the dotted path it was
reached by, then where it is really defined (`__module__` + `__qualname__`), then the
public parent packages that export that same object (checked by identity, never by
string guessing); the first candidate some index documents wins. That is how
`torch.nn.Parameter` finds the entry of `torch.nn.parameter.Parameter`.

A backticked text is tried, in order, as: an exact documented name; a name rooted in the
page's imports; a short name of this project's API (`show_doc`), when unique; a dotted
name rooted in a known top-level module (`pathlib.Path`); a builtin (`str.join`, `dict`,
`len()`; bare builtin functions such as `max` stay plain words). Anything else stays
plain code. A text that looks like a reference — a dotted or called name whose first
part is known — but names no existing object is recorded in `PageResolver.unresolved`.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import keyword
import re
import sys
from dataclasses import dataclass
from typing import Any

from docgen.api.index import SymbolIndex
from docgen.api.introspect import import_object
from docgen.notebooks.cells import parse_directives
from docgen.runtime.userobjects import FAILURES, guarded_import, text_attr

_NAME = re.compile(r"([^\W\d]\w*(?:\.[^\W\d]\w*)*)(\(\))?")
# IPython line magics and shell escapes, and `obj?` help; a comment ending in `?` is none.
_MAGIC = re.compile(r"^(\s*)(?:[%!].*|[^#]*\?)$")
_NOT_A_REFERENCE = frozenset({"self", "cls"})
_FILE_SUFFIXES = frozenset(
    "py ipynb yaml yml toml json ini cfg txt md qmd rst html css js csv sh lock".split()
)
_MISSING = object()
_ANNOTATED = object()  # a class attribute declared by annotation only: real, but no object


@dataclass(frozen=True)
class ImportBinding:
    """One name an import statement binds: `name` -> `module` (or `module`.`attr`)."""

    name: str
    module: str
    attr: str | None = None  # None: the name is the module itself
    star: bool = False  # `from module import *`


# --- what a notebook imports and defines ----------------------------------------------


def _python_source(source: str) -> str:
    """A code cell as plain Python: directives dropped, IPython magics blanked out."""
    _, code = parse_directives(source)
    if code.lstrip().startswith("%%"):
        return ""
    return "\n".join(
        _MAGIC.sub(r"\1pass", line) if _MAGIC.match(line) else line for line in code.splitlines()
    )


def notebook_imports(cells: list[str]) -> tuple[list[ImportBinding], set[str]]:
    """The import bindings of some code cells, in order, and the other names they define."""
    bindings: list[ImportBinding] = []
    defined: set[str] = set()
    for source in cells:
        try:
            tree = ast.parse(_python_source(source))
        except (SyntaxError, ValueError):
            continue  # a cell that isn't Python (or uses syntax we don't know) binds nothing
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        bindings.append(ImportBinding(alias.asname, alias.name))
                    else:
                        top = alias.name.split(".")[0]
                        bindings.append(ImportBinding(top, top))
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.name == "*":
                        bindings.append(ImportBinding("*", node.module, star=True))
                    else:
                        bindings.append(
                            ImportBinding(alias.asname or alias.name, node.module, alias.name)
                        )
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                defined.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                defined.add(node.id)
    return bindings, defined


class Importer:
    """Imports modules for name resolution, for one build.

    A module that is not there is no failure: many names are tried as submodules. One that
    is there but raises while importing is remembered (`failures`: module -> the exception)
    and not tried again, so the build warns once per module, naming it and the exception.
    """

    def __init__(self) -> None:
        self.failures: dict[str, str] = {}

    def __call__(self, module: str) -> Any:
        if module in self.failures:
            return None
        try:
            return guarded_import(module)
        except ModuleNotFoundError as e:
            if e.name and (module == e.name or module.startswith(e.name + ".")):
                return None  # no such module: the name is not a module after all
            self.failures[module] = f"{type(e).__name__}: {e}"
        except FAILURES as e:  # the module's own code failed: its names stay unlinked
            self.failures[module] = f"{type(e).__name__}: {e}"
        return None


class LazyImport:
    """The object an import statement binds, imported only when it is first needed.

    Most names resolve from their dotted path alone (`nn.Conv2d` is `torch.nn.Conv2d`, an
    entry of the PyTorch index), so a page that mentions torch need not import it here.
    """

    def __init__(self, importer: Importer, module: str, attr: str | None = None) -> None:
        self.importer, self.module, self.attr = importer, module, attr

    @functools.cached_property
    def obj(self) -> Any:
        module = self.importer(self.module)
        if module is None or self.attr is None:
            return module
        try:
            obj = getattr(module, self.attr, None)
        except FAILURES:  # a module `__getattr__` may raise anything
            obj = None
        return obj if obj is not None else self.importer(f"{self.module}.{self.attr}")


def bind_imports(bindings: list[ImportBinding], importer: Importer) -> dict[str, tuple[Any, str]]:
    """Import bindings: name -> (object or `LazyImport`, dotted path reached by)."""
    namespace: dict[str, tuple[Any, str]] = {}
    for b in bindings:
        if b.star:  # the names a star import binds are known only by importing
            module = importer(b.module)
            if module is None:
                continue
            names = vars(module).get("__all__")
            if not isinstance(names, list | tuple):
                names = [n for n in vars(module) if not n.startswith("_")]
            for n in names:
                try:
                    namespace[n] = (getattr(module, n), f"{b.module}.{n}")
                except FAILURES:  # missing, or a module `__getattr__` that raises
                    continue
        elif b.attr is None:
            namespace[b.name] = (LazyImport(importer, b.module), b.module)
        else:
            namespace[b.name] = (LazyImport(importer, b.module, b.attr), f"{b.module}.{b.attr}")
    return namespace


def _bound(value: Any) -> Any:
    return value.obj if isinstance(value, LazyImport) else value


def notebook_namespace(
    cells: list[str], importer: Importer | None = None
) -> tuple[dict[str, tuple[Any, str]], set[str]]:
    """The names a notebook's code cells import (bound to objects) and define."""
    bindings, defined = notebook_imports(cells)
    namespace = bind_imports(bindings, importer or Importer())
    return namespace, defined - set(namespace)


# --- from an object to its documentation --------------------------------------------


def _canonical_names(obj: Any) -> list[str]:
    """Where `obj` is defined, then the public parent packages that export it."""
    if inspect.ismodule(obj):
        return [obj.__name__]
    if isinstance(obj, property) and obj.fget is not None:
        obj = obj.fget
    module, qualname = text_attr(obj, "__module__"), text_attr(obj, "__qualname__")
    if not module or not qualname or "<" in qualname:
        return []
    names = [f"{module}.{qualname}"]
    top, _, rest = qualname.partition(".")
    owner = vars(sys.modules[module]).get(top) if module in sys.modules else None
    if owner is None:
        return names
    parts = module.split(".")
    for i in range(len(parts) - 1, 0, -1):
        parent = ".".join(parts[:i])
        if parent in sys.modules and vars(sys.modules[parent]).get(top) is owner:
            names.append(f"{parent}.{top}" + (f".{rest}" if rest else ""))
    return names


def _annotates(cls: type, attr: str) -> bool:
    try:
        return attr in getattr(cls, "__annotations__", {})
    except FAILURES:  # annotations that are not a mapping, or a descriptor that raises
        return False


def _attribute(obj: Any, attr: str, importer: Importer) -> Any:
    """`getattr`, importing a submodule of a package when that is what the name means."""
    try:
        return getattr(obj, attr)
    except AttributeError:
        if inspect.isclass(obj) and any(_annotates(c, attr) for c in obj.__mro__):
            return _ANNOTATED
        if inspect.ismodule(obj) and "__path__" in vars(obj):
            module = importer(f"{obj.__name__}.{attr}")
            return _MISSING if module is None else module
        return _MISSING
    except FAILURES:  # a descriptor of someone's class may raise anything
        return _MISSING


class PageResolver:
    """Resolves names as one page's notebook sees them. Call it with a backticked text."""

    unresolved: list[str]  # backticked texts that look like references to nothing, in order

    def __init__(
        self,
        index: SymbolIndex,
        namespace: dict[str, tuple[Any, str]] | None = None,
        defined: set[str] | None = None,
        importer: Importer | None = None,
    ) -> None:
        self.index = index
        self.importer = importer or Importer()
        self.namespace = namespace or {}
        self.defined = defined or set()
        self.unresolved: list[str] = []
        self._memo: dict[str, str | None] = {}

    def __call__(self, text: str) -> str | None:
        """The URL a backticked text links to, or None (recording likely broken references)."""
        text = text.strip()
        if text in self._memo:
            return self._memo[text]
        url, reference = self._resolve(text)
        if url is None and text.rpartition(".")[2].lower() in _FILE_SUFFIXES:
            reference = False  # `meta.yaml`, `__init__.py`: a file, even after a known name
        self._memo[text] = url
        if url is None and reference and text not in self.unresolved:
            self.unresolved.append(text)
        return url

    def resolve_code(self, dotted: str) -> str | None:
        """The URL of a dotted name in a code cell: only through the page's imports."""
        parts = dotted.split(".")
        if parts[0] not in self.namespace:
            return None
        value, reached = self.namespace[parts[0]]
        url = self.index.lookup(".".join([reached, *parts[1:]]))
        if url is not None or not self._documented_root(reached):
            return url
        obj = _bound(value)
        return None if obj is None else self._walk(obj, [reached], parts[1:])[0]

    def resolve_full(self, name: str) -> str | None:
        """The URL of a fully qualified name (an annotation), without recording failures."""
        url = self.index.lookup(name)
        if url is None and name.split(".")[0] in self.index.roots:
            obj = self._import_path(name.split("."))
            if obj is not None:
                url = self._walk(obj, [name], [])[0]
        return url

    def _resolve(self, text: str) -> tuple[str | None, bool]:
        """(URL, whether the text is a reference to something that does not exist)."""
        m = _NAME.fullmatch(text)
        if not m:
            return None, False
        dotted, called = m.group(1), bool(m.group(2))
        parts = dotted.split(".")
        head, rest = parts[0], parts[1:]
        if head in _NOT_A_REFERENCE or keyword.iskeyword(head):
            return None, False
        if rest or dotted in self.index.api.symbols:
            url = self.index.lookup(dotted)
            if url is not None:
                return url, True
        reference = bool(rest) or called
        if head in self.namespace:
            value, reached = self.namespace[head]
            url = self.index.lookup(".".join([reached, *rest]))
            if url is not None:
                return url, True
            obj = _bound(value) if self._documented_root(reached) else None
            if obj is not None:
                url, exists = self._walk(obj, [reached], rest)
                return url, reference and not exists
        if head in self.defined:
            return None, False
        short = self.index.short.get(head)
        if short:
            if len(short) > 1:
                return None, reference  # ambiguous: the reader can't tell which is meant either
            obj = import_object(short[0])
            if obj is not None:
                url, exists = self._walk(obj, [short[0]], rest)
                return url, reference and not exists
        if rest and head in self.index.roots:
            obj = self._import_path(parts)
            if obj is None:
                return None, True
            return self._walk(obj, [dotted], [])[0], False
        if hasattr(builtins, head):
            obj = getattr(builtins, head)
            if not rest and not called and not inspect.isclass(obj):
                return None, False  # `max`, `id`, `input`: more often words than references
            url, exists = self._walk(obj, [f"builtins.{head}"], rest)
            return url, reference and not exists
        return None, called and not rest

    def _documented_root(self, dotted: str) -> bool:
        """Whether any index documents the package `dotted` is in: else importing is useless."""
        return dotted.split(".")[0] in self.index.roots

    def _import_path(self, parts: list[str]) -> Any:
        obj = self.importer(parts[0])
        for attr in parts[1:]:
            if obj is None:
                return None
            obj = _attribute(obj, attr, self.importer)
            if obj is _MISSING:
                return None
        return obj

    def _walk(self, obj: Any, reached: list[str], rest: list[str]) -> tuple[str | None, bool]:
        """Follow `rest` from `obj`: (URL of the first documented candidate, whether it exists)."""
        names = list(reached)
        for attr in rest:
            child = _attribute(obj, attr, self.importer)
            if child is _MISSING:
                return None, False
            # An attribute of a class may be documented as a member of any of its names.
            names = list(dict.fromkeys(f"{n}.{attr}" for n in names + _canonical_names(obj)))
            obj = child
        if obj is _ANNOTATED:
            return next((u for u in map(self.index.lookup, names) if u), None), True
        for name in names + _canonical_names(obj):
            url = self.index.lookup(name)
            if url is not None:
                return url, True
        return None, True
