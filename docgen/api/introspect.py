"""The project's API, found by importing its packages and walking their public names."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from docgen.errors import DocgenError, UsageError
from docgen.runtime.objects import member_function, source_line
from docgen.runtime.userobjects import (
    FAILURES,
    UserCodeError,
    docstring,
    get_attr,
    guarded_import,
    reason,
    submodules,
    text_attr,
)
from docgen.runtime.userobjects import import_module as import_user_module

# Each kind is also the symbol's role in objects.inv (`py:class`, `py:property`, ...).
KINDS = ("module", "class", "function", "method", "property")


_DOCUMENTED_DUNDERS = ("__call__", "__getitem__", "__iter__", "__len__", "__enter__", "__exit__")


Warn = Callable[[str], None]


@dataclass(frozen=True)
class Symbol:
    """One public object of this project's API."""

    name: str  # canonical dotted name: where the object is defined, e.g. "augment.transforms.Flip"
    kind: str  # one of KINDS
    module: str  # the public module whose API page lists it
    signature: str = ""  # "(p: float = 0.5)", or "" for modules and properties
    summary: str = ""  # first sentence of the docstring
    url: str = ""  # "page.html#anchor", relative to the site root, once placed

    @property
    def short_name(self) -> str:
        """The name within its module: "Flip", "Flip.matrix"."""
        return self.name[len(self.module) + 1 :] if self.name != self.module else self.name


@dataclass(frozen=True)
class ProjectApi:
    """What introspection found: symbols by canonical name, and public aliases of them."""

    packages: list[str]
    symbols: dict[str, Symbol]
    aliases: dict[str, str]  # public re-export -> canonical name
    warnings: list[str] = field(default_factory=list)

    def modules(self) -> list[str]:
        return [s.name for s in self.symbols.values() if s.kind == "module"]

    def members(self, module: str) -> list[Symbol]:
        """Symbols listed on `module`'s API page, in source-definition order."""
        return [s for s in self.symbols.values() if s.module == module and s.kind != "module"]

    def canonical(self, name: str) -> str | None:
        """The canonical form of a name or of an alias (`augment.Flip.matrix` included)."""
        if name in self.symbols:
            return name
        if name in self.aliases:
            return self.aliases[name]
        head, dot, tail = name.rpartition(".")
        while dot:
            if head in self.aliases:
                full = f"{self.aliases[head]}.{name[len(head) + 1 :]}"
                return full if full in self.symbols else None
            head, dot, _ = head.rpartition(".")
        return None


def _summary(obj: Any) -> str:
    doc = docstring(obj)
    paragraph = doc.strip().split("\n\n")[0].replace("\n", " ").strip()
    end = paragraph.find(". ")
    return paragraph[: end + 1] if end >= 0 else paragraph


class _Written(str):
    """An annotation kept as written (`from __future__ import annotations`), shown unquoted."""

    def __repr__(self) -> str:
        return str(self)


def _shown_default(value: Any) -> Any:
    """A default value, or its type's name when its `__repr__` (the project's code) fails."""
    try:
        repr(value)
    except FAILURES:
        return _Written(f"<{type(value).__name__}>")
    return value


def signature_of(obj: Any, drop_self: bool = False) -> str:
    """`(x, p: float = 0.5)` as Python prints it, or "" for objects without one."""
    try:
        sig = inspect.signature(obj)
    except FAILURES:  # none, or a `__signature__` or `__wrapped__` of the project's that raises
        return ""
    params = [
        p.replace(annotation=_Written(p.annotation)) if isinstance(p.annotation, str) else p
        for p in sig.parameters.values()
    ]
    params = [p.replace(default=_shown_default(p.default)) for p in params]
    if drop_self and params and params[0].name in ("self", "cls"):
        params = params[1:]
    ret = sig.return_annotation
    if inspect.isclass(obj):
        ret = inspect.Signature.empty
    elif isinstance(ret, str):
        ret = _Written(ret)
    try:
        return str(sig.replace(parameters=params, return_annotation=ret))
    except FAILURES:  # an annotation's `__repr__`, the project's code, failed
        return ""


def _public_names(module: Any, warn: Warn) -> list[str]:
    # From the module's own namespace: `getattr` would call a module `__getattr__`.
    explicit = vars(module).get("__all__")
    if isinstance(explicit, list | tuple):
        return [n for n in explicit if isinstance(n, str)]
    if explicit is not None:
        warn(
            f"module {module.__name__}: __all__ is {type(explicit).__name__}, not a list of "
            "names; its public classes and functions are listed instead"
        )
    return [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and text_attr(obj, "__module__") == module.__name__
    ]


def _member_kind(value: Any) -> str | None:
    if isinstance(value, property) or type(value).__name__ == "cached_property":
        return "property"
    if isinstance(value, staticmethod | classmethod):
        return "method"
    if inspect.isfunction(value) or inspect.ismethoddescriptor(value):
        return "method"
    return None


def _source_order(obj: Any) -> int:
    """A sort key that follows the source; for a class, the line of its first method will do."""
    if inspect.isclass(obj):
        lines = [source_line(v) for v in vars(obj).values() if inspect.isfunction(v)]
        known = [n for n in lines if n is not None]
        if known:
            return min(known) - 1
    return source_line(obj) or 0


def import_package(name: str) -> Any:
    """Import one of the configured packages, or fail saying how to make it importable."""
    try:
        return import_user_module(name)
    except ModuleNotFoundError as e:
        raise UsageError(
            f"package '{name}' (listed in [tool.docgen] packages) cannot be imported: "
            f"{e}. Install it into the environment docgen runs in "
            f"(for example `pip install -e .`), or remove it from `packages`."
        ) from e
    except UserCodeError as e:  # importing runs the package's own code
        raise DocgenError(
            f"package '{name}' (listed in [tool.docgen] packages) fails when imported: {e}. "
            "Fix the package, or remove it from `packages`."
        ) from e


def discover_api(packages: list[str]) -> ProjectApi:
    """Import `packages` and list their public API.

    Raises `UsageError` for a package that is not installed and `DocgenError` for one that
    fails when imported. Below that, what the project's code makes fail (a submodule, an
    attribute, an object that cannot be described) is a warning, and the rest goes on.
    """
    symbols: dict[str, Symbol] = {}
    aliases: dict[str, str] = {}
    warnings: list[str] = []
    roots = tuple(packages)
    classes: dict[int, str] = {}  # each class documented, by id -> its name: listed once

    def ours(module_name: str) -> bool:
        return any(module_name == p or module_name.startswith(p + ".") for p in roots)

    def add_class_members(cls: Any, class_name: str, module_name: str) -> None:
        classes[id(cls)] = class_name
        members = []
        for attr, value in vars(cls).items():
            if attr.startswith("_") and not (attr in _DOCUMENTED_DUNDERS and docstring(value)):
                continue
            if inspect.isclass(value) and text_attr(value, "__qualname__").endswith(f".{attr}"):
                members.append((attr, value, "class"))
                continue
            kind = _member_kind(value)
            if kind:
                members.append((attr, value, kind))
        for attr, value, kind in members:
            name = f"{class_name}.{attr}"
            if kind == "class" and id(value) in classes:
                aliases[name] = classes[id(value)]  # `Outer.Inner.Inner = Outer.Inner`
                continue
            target = member_function(value)
            symbols[name] = Symbol(
                name=name,
                kind=kind,
                module=module_name,
                signature="" if kind == "property" else signature_of(target, drop_self=True),
                summary=_summary(target),
            )
            if kind == "class":
                add_class_members(value, name, module_name)

    modules = []
    for package in packages:
        for module in submodules(import_package(package), warnings.append):
            modules.append(module)
            symbols[module.__name__] = Symbol(
                name=module.__name__,
                kind="module",
                module=module.__name__,
                summary=_summary(module),
            )

    # Definitions first, then re-exports: a name's canonical form is where it is defined.
    found: list[tuple[str, Any, Any]] = []  # (public name, object, module it was found in)
    for module in modules:
        for name in _public_names(module, warnings.append):
            try:
                obj = get_attr(module, name)
            except UserCodeError as e:
                warnings.append(
                    f"{module.__name__}.{name} cannot be read ({e}); it is left out of the docs"
                )
                continue
            if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj):
                found.append((f"{module.__name__}.{name}", obj, module))
    found.sort(key=lambda f: (f[2].__name__ != text_attr(f[1], "__module__"), f[0]))
    seen: dict[int, str] = {}

    def add_object(public: str, obj: Any, module: Any) -> None:
        if id(obj) in seen:
            if public != seen[id(obj)]:
                aliases[public] = seen[id(obj)]
            return
        # Not strings (None, a number) are as good as absent: the object is listed where found.
        defined_in = text_attr(obj, "__module__")
        qualname = text_attr(obj, "__qualname__")
        if defined_in and not ours(defined_in):
            return  # someone else's object, re-exported: their docs document it
        canonical = public
        home_module = module.__name__
        home = sys.modules.get(defined_in)
        if (
            defined_in in symbols
            and "." not in qualname
            and home is not None
            and vars(home).get(qualname) is obj
        ):
            canonical, home_module = f"{defined_in}.{qualname}", defined_in
        seen[id(obj)] = canonical
        for other in (public, f"{defined_in}.{qualname}"):
            if other != canonical and defined_in:
                aliases[other] = canonical
        kind = "class" if inspect.isclass(obj) else "function"
        symbols[canonical] = Symbol(
            name=canonical,
            kind=kind,
            module=home_module,
            signature=signature_of(obj),
            summary=_summary(obj),
        )
        if kind == "class":
            add_class_members(obj, canonical, home_module)

    for public, obj, module in found:
        try:
            add_object(public, obj, module)
        except FAILURES as e:  # describing an object runs its code: metaclasses, descriptors
            warnings.append(f"{public} cannot be described ({reason(e)}); it is left out")

    ordered = sorted(
        symbols.values(),
        key=lambda s: (s.module, s.kind != "module", *_order_key(s)),
    )
    return ProjectApi(
        packages=list(packages),
        symbols={s.name: s for s in ordered},
        aliases=aliases,
        warnings=warnings,
    )


def _order_key(symbol: Symbol) -> tuple[int, int, str]:
    """Top-level objects in source order, each class followed by its members in source order."""
    if symbol.kind == "module":
        return (0, 0, symbol.name)
    top = symbol.short_name.split(".")[0]
    own = _source_order(import_object(symbol.name)) if "." in symbol.short_name else 0
    return (_source_order(import_object(f"{symbol.module}.{top}")), own, symbol.name)


def import_object(name: str) -> Any:
    """The object a dotted name denotes (modules imported as needed), or None."""
    parts = name.split(".")
    obj = None
    for i in range(len(parts), 0, -1):
        try:
            obj = guarded_import(".".join(parts[:i]))
        except FAILURES:  # not a module (or one that fails to import): try a shorter prefix
            continue
        for attr in parts[i:]:
            try:
                obj = getattr(obj, attr)
            except FAILURES:  # getattr may run arbitrary descriptor code
                return None
        return obj
    return None
