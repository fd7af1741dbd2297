"""The symbol index: every name a page may link to, and the URL that documents it.

Two kinds of entries:

- **This project's API**, found by importing the packages of `[tool.docgen] packages` and
  introspecting them (`discover_api`): every public module, class, function, method and
  property, keyed by its canonical dotted name (`augment.transforms.Flip`), with the
  public aliases it is re-exported under (`augment.Flip`). Where it is documented is
  decided later, by `SymbolIndex.place`: on the notebook page that calls `show_doc` on it,
  or else on the module's generated API page.
- **Other projects' docs**: the nbdev indexes of every installed package that declares an
  `nbdev` entry point (PyTorch and the standard library through nbdev-pytorch and
  nbdev-stdlib), and the Sphinx `objects.inv` files named in `[tool.docgen] inventories`.
  Those map a name to an absolute URL.

Public means: a module path without a part starting with `_`; in a module, the names of its
`__all__`, or without one the public classes and functions defined there; in a class, its
public methods and properties (and a documented `__call__`).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import inspect
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from .errors import DocgenError, UsageError
from .inventory import InventoryItem, read_inventory, writable, write_inventory
from .urls import href
from .userobjects import FAILURES, UserCodeError, docstring, get_attr, reason, submodules, text_attr
from .userobjects import import_module as import_user_module

# Each kind is also the symbol's role in objects.inv (`py:class`, `py:property`, ...).
KINDS = ("module", "class", "function", "method", "property")
CACHE_DIR = ".docgen_cache/inventories"
API_DIR = "api"  # the site folder of the generated API pages
# A cached inventory younger than this is used as is; an older one is refreshed when the
# network allows, and used anyway (with a warning) when it doesn't.
INVENTORY_MAX_AGE_S = 7 * 24 * 3600
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


# --- this project's API -------------------------------------------------------------


def _is_public_module(name: str) -> bool:
    return not any(part.startswith("_") for part in name.split("."))


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
                name=module.__name__, kind="module", module=module.__name__,
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
            obj = importlib.import_module(".".join(parts[:i]))
        except FAILURES:  # not a module (or one that fails to import): try a shorter prefix
            continue
        for attr in parts[i:]:
            try:
                obj = getattr(obj, attr)
            except FAILURES:  # getattr may run arbitrary descriptor code
                return None
        return obj
    return None


# --- other projects' docs -----------------------------------------------------------


def nbdev_indexes() -> tuple[dict[str, list[tuple[str, str]]], list[str]]:
    """Every installed package's `nbdev` entry-point index, by entry-point name: its
    (name, URL) entries in file order; and a problem for each index that cannot be loaded."""
    indexes: dict[str, list[tuple[str, str]]] = {}
    problems = []
    for ep in sorted(entry_points(group="nbdev"), key=lambda e: e.name):
        try:
            syms = ep.load()["syms"]
            indexes[ep.name] = [
                (name, url) for module in syms.values() for name, url in module.items()
            ]
        except Exception as e:  # a third-party index that cannot be loaded is skipped
            problems.append(
                f"the nbdev index of '{ep.name}' ({ep.value}) cannot be read ({e}); skipped"
            )
    return indexes, problems


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://", "file://"))


def inventory_url(location: str) -> tuple[str, str]:
    """(where the objects.inv is, base URL its entries are relative to) for a URL setting."""
    if location.endswith(".inv"):
        return location, location.rsplit("/", 1)[0] + "/"
    base = location if location.endswith("/") else location + "/"
    return base + "objects.inv", base


def _download(url: str, timeout: float = 10.0) -> bytes:
    # Imported here, not at the top: `import docgen` runs in every notebook's kernel (for
    # show_doc), which never downloads anything.
    import urllib.request

    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - configured URL
        return response.read()


def load_inventory(
    name: str,
    location: str,
    root: Path,
    out: Path,
    warn: Warn,
    fetch: Callable[[str], bytes] = _download,
    now: float | None = None,
) -> dict[str, str]:
    """The Python objects of one configured Sphinx inventory: name -> URL.

    A URL is downloaded once into `.docgen_cache/` under `root` and refreshed when older than
    a week; without network the cached copy is used (with a warning), and without a cached
    copy the inventory is skipped (with a warning). A local path (a folder holding
    objects.inv, or the file itself) is read directly, and its links are made relative to
    this site's root (`out`), so sibling sites link to each other.
    """
    if _is_url(location):
        url, base = inventory_url(location)
        digest = hashlib.sha256(url.encode()).hexdigest()[:16]
        cached = root / CACHE_DIR / f"{name}-{digest}.inv"
        age = (now or time.time()) - cached.stat().st_mtime if cached.is_file() else None
        data = cached.read_bytes() if cached.is_file() else None
        if age is None or age > INVENTORY_MAX_AGE_S:
            try:
                fresh = fetch(url)
                read_inventory(fresh)  # only a valid inventory replaces the cached one
            except (OSError, ValueError) as e:  # urllib's URLError is an OSError
                if data is None:
                    warn(
                        f"inventory '{name}' cannot be downloaded from {url} ({e}) and is not "
                        f"cached: names of {name} stay unlinked in this build"
                    )
                    return {}
                warn(
                    f"inventory '{name}' cannot be refreshed from {url} ({e}); "
                    f"using the copy cached in {cached}"
                )
            else:
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_bytes(fresh)
                data = fresh
        assert data is not None
    else:
        path = (root / location).resolve()
        inv = path / "objects.inv" if path.is_dir() else path
        if not inv.is_file():
            warn(f"inventory '{name}': {inv} does not exist; names of {name} stay unlinked")
            return {}
        data = inv.read_bytes()
        base = os.path.relpath(inv.parent, out.resolve()).replace(os.sep, "/") + "/"
    try:
        items = read_inventory(data, base)
    except ValueError as e:
        warn(f"inventory '{name}' ({location}) cannot be read: {e}")
        return {}
    urls: dict[str, str] = {}
    for item in items:
        if item.domain == "py":
            urls.setdefault(item.name, item.uri)
    return urls


def external_index(
    inventories: dict[str, str], root: Path, out: Path, warn: Warn
) -> dict[str, str]:
    """Every external name -> URL: configured inventories first, then the nbdev indexes."""
    urls: dict[str, str] = {}
    for name, location in inventories.items():
        for key, url in load_inventory(name, location, root, out, warn).items():
            urls.setdefault(key, url)
    indexes, problems = nbdev_indexes()
    for problem in problems:
        warn(problem)
    for entries in indexes.values():
        for key, url in entries:
            if isinstance(url, str) and url.startswith(("http://", "https://")):
                urls.setdefault(key, url)
    return urls


# --- the whole index ----------------------------------------------------------------


@dataclass(frozen=True)
class SymbolIndex:
    """Everything a backticked name can resolve to."""

    api: ProjectApi
    external: dict[str, str]  # name -> absolute URL
    short: dict[str, list[str]]  # unqualified name -> canonical names of project symbols
    roots: frozenset[str]  # top-level names whose submodules may be imported to resolve

    @classmethod
    def build(cls, api: ProjectApi, external: dict[str, str]) -> SymbolIndex:
        short: dict[str, list[str]] = {}
        for symbol in api.symbols.values():
            if symbol.kind in ("class", "function") and "." not in symbol.short_name:
                short.setdefault(symbol.short_name, []).append(symbol.name)
        roots = {name.split(".")[0] for name in external} | {
            p.split(".")[0] for p in api.packages
        }
        return cls(api=api, external=external, short=short, roots=frozenset(roots))

    def place(self, documented: dict[str, str]) -> SymbolIndex:
        """Give every project symbol its URL.

        `documented` maps names (as `show_doc` wrote them) to "page.html#anchor"; every
        other symbol lives on its module's API page, anchored by its canonical name.
        """
        homes: dict[str, str] = {}
        for name, url in documented.items():
            canonical = self.api.canonical(name)
            if canonical is not None:
                homes.setdefault(canonical, url)
        symbols = {}
        for name, symbol in self.api.symbols.items():
            page = api_page_url(symbol.module)
            default = href(page) if symbol.kind == "module" else href(page, name)
            symbols[name] = replace(symbol, url=homes.get(name, default))
        return replace(self, api=replace(self.api, symbols=symbols))

    def lookup(self, name: str) -> str | None:
        """The URL of exactly this name, if any: the project's own first."""
        canonical = self.api.canonical(name)
        if canonical is not None:
            return self.api.symbols[canonical].url or None
        return self.external.get(name)


def api_page_url(module: str) -> str:
    """The generated page of `module` ("index": of the API overview), from the site root."""
    return f"{API_DIR}/{module}.html"


# --- what this site publishes -------------------------------------------------------


@dataclass(frozen=True)
class PageEntry:
    """What objects.inv lists of one page: its URL, title and headings (anchor, text)."""

    url: str
    title: str
    headings: list[tuple[str, str]]


def inventory_items(index: SymbolIndex, pages: Iterable[PageEntry]) -> list[InventoryItem]:
    """Every API symbol (py:*), page (std:doc) and heading (std:label) of the site."""
    items = [
        InventoryItem(s.name, "py", s.kind, 1, s.url, s.name)
        for s in index.api.symbols.values()
        if s.url
    ]
    labels: set[str] = set()
    for page in pages:
        # A page's name is its path (`guide/my page`); its uri the link to it, encoded.
        docname = page.url[: -len(".html")] if page.url.endswith(".html") else page.url
        items.append(
            InventoryItem(docname, "std", "doc", -1, href(page.url), page.title or docname)
        )
        for anchor, text in page.headings:
            # Sphinx looks labels up in lower case (`:ref:` lower-cases its target).
            label = f"{docname}#{anchor}".lower()
            if label in labels or any(c.isspace() for c in label):
                continue
            labels.add(label)
            items.append(
                InventoryItem(label, "std", "label", -1, href(page.url, anchor), text or label)
            )
    # A name no reader could split from the rest of its line (a page named `a b:c 1 d`,
    # or with a line break) is left out of objects.inv; its page is still in the site.
    return [item for item in items if writable(item)]


def objects_inv(
    index: SymbolIndex, pages: Iterable[PageEntry], project: str, version: str
) -> bytes:
    return write_inventory(project, version, inventory_items(index, pages))


def symbols_json(index: SymbolIndex) -> bytes:
    """name -> {url, kind, signature, summary} for every API symbol, and every alias."""
    data: dict[str, dict[str, str]] = {}
    for s in index.api.symbols.values():
        data[s.name] = {"url": s.url, "kind": s.kind, "signature": s.signature,
                        "summary": s.summary}
    for alias, canonical in sorted(index.api.aliases.items()):
        data.setdefault(alias, {**data[canonical], "alias_of": canonical})
    return (json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def project_version(packages: list[str]) -> str:
    for package in packages:
        version = text_attr(import_object(package), "__version__")
        if version:
            return version
    return ""
