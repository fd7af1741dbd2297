"""API entries as nbdev's docs make them: every public function and class defined in an
`#| export` cell gets an entry right after its definition, unless the notebook documents
it with `show_doc` itself; the exported code itself is not shown, as on nbdev's sites.

The entries are `show_doc` outputs like any other (see pages.py), so they are the names'
homes: backticks and code link to them, and the generated API pages leave them out.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from docgen.api.introspect import import_object
from docgen.notebooks.cells import cell_options, parse_directives
from docgen.runtime.showdoc import DOC_MIME
from docgen.runtime.userobjects import is_public_name

if TYPE_CHECKING:
    import nbformat

_EXPORTS = ("export", "exports")
_SHOW_DOC_CALL = re.compile(r"\bshow_doc\(\s*([\w.]+)")


def _defined_names(code: str, private: bool = False) -> list[str]:
    """Public (with `private`, all) functions and classes a cell defines at its top level,
    in order; a function fastcore's `@patch` puts on a class is named as its method,
    `Class.name`."""
    try:
        tree = ast.parse(code)
    except SyntaxError:  # magics, or code nbdev would not export either
        return []
    names = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            owner = _patched_class(node)
            names.append(f"{owner}.{node.name}" if owner else node.name)
    return [n for n in names if private or is_public_name(n)]


def _patched_class(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The class `@patch` adds `node` to: its first parameter's annotation."""
    patched = any(
        (d.id if isinstance(d, ast.Name) else getattr(d, "attr", "")) in ("patch", "patch_to")
        or (isinstance(d, ast.Call) and getattr(d.func, "id", "") in ("patch", "patch_to"))
        for d in node.decorator_list
    )
    args = node.args.posonlyargs + node.args.args
    if not patched or not args or not isinstance(args[0].annotation, ast.Name):
        return None
    return args[0].annotation.id


def exported_names(nb: nbformat.NotebookNode) -> set[str]:
    """Top-level names the notebook's `#| export` / `#| exports` cells define, private ones
    too: the module's own, which backticks on the page link to (as nbdev's site links
    them, through `_modidx.py`) rather than treat as local helpers."""
    names: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type == "code":
            directives, code = parse_directives(cell.source)
            if any(d in directives for d in _EXPORTS):
                names |= {n for n in _defined_names(code, private=True) if "." not in n}
    return names


def module_pages(pages: list[tuple[str, nbformat.NotebookNode]], package: str) -> dict[str, str]:
    """module -> the page of the notebook that exports it (`#| default_exp core` makes
    `package.core`), for each (page URL, notebook): a module's home on an nbdev site."""
    homes: dict[str, str] = {}
    for url, nb in pages:
        module = default_exp(nb)
        if module:
            homes.setdefault(f"{package}.{module}", url)
    return homes


def _documented_here(nb: nbformat.NotebookNode) -> set[str]:
    """Short and full names the notebook's own `show_doc` calls or outputs document."""
    names: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for match in _SHOW_DOC_CALL.finditer(cell.source):
            names |= {match.group(1), match.group(1).rsplit(".", 1)[-1]}
        for out in cell.get("outputs", []):
            data = out.get("data", {}).get(DOC_MIME)
            if isinstance(data, dict) and isinstance(data.get("name"), str):
                names |= {data["name"], data["name"].rsplit(".", 1)[-1]}
    return names


def _shown_expression(code: str) -> str | None:
    """`X` when a cell ends in `show_doc(X)` (whose output is the cell's), X a dotted name."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return None
    call = tree.body[-1].value
    if not (isinstance(call, ast.Call) and getattr(call.func, "id", "") == "show_doc"):
        return None
    if not call.args or not isinstance(call.args[0], ast.Name | ast.Attribute):
        return None
    return ast.unparse(call.args[0])


def _imported_as(expression: str, imports: dict[str, str]) -> list[str]:
    """The dotted path `expression` names through the notebook's imports, if it does."""
    head, _, rest = expression.partition(".")
    if head not in imports:
        return []
    return [imports[head] + (f".{rest}" if rest else "")]


def _nbdev_show_doc_entry(
    cell: Any, code: str, package: str, module: str | None, imports: dict[str, str]
) -> Any | None:
    """The docgen entry for a cell whose stored output is nbdev's `show_doc` (markdown, no
    docgen data): of the object, anchored at its full name, when the build can import it;
    else read back from nbdev's markdown (an object the notebook defines itself). None for
    any other cell."""
    outputs = cell.get("outputs", [])
    if not outputs or any(DOC_MIME in o.get("data", {}) for o in outputs):
        return None
    options = cell_options(cell)
    if not (options.show_cell and options.show_output):
        return None  # a hidden cell (`#| hide`): nothing of it is shown either way
    markdown = next(
        (o["data"]["text/markdown"] for o in outputs if "text/markdown" in o.get("data", {})), None
    )
    if markdown is None:
        return None
    expression = _shown_expression(code)
    if expression is None:
        return None
    from docgen.api.nbdev_showdoc import parse_nbdev_show_doc
    from docgen.api.pages import doc_data_cell, show_doc_cell
    from docgen.runtime.showdoc import full_name

    candidates = [f"{package}.{module}.{expression}"] if module else []
    for name in [*candidates, *_imported_as(expression, imports), expression]:
        obj = import_object(name)
        if obj is not None:
            full = name if name != expression else full_name(obj) or expression
            return show_doc_cell(full, obj, full)
    text = "".join(markdown) if isinstance(markdown, list) else str(markdown)
    data = parse_nbdev_show_doc(text)
    return doc_data_cell(expression, data) if data is not None else None


def _shown_as(cell: Any, directives: dict[str, str], entry: Any) -> Any:
    """`cell` with the entry as its output, and its code hidden unless it says `#| echo`,
    as nbdev's `clean_show_doc` hides a `show_doc` cell's code."""
    cell = copy.deepcopy(cell)
    cell.outputs = entry.outputs
    if "echo" not in directives:
        cell.source = "#| echo: false\n" + cell.source
    return cell


def _import_paths(nb: nbformat.NotebookNode) -> dict[str, str]:
    """Name -> the dotted path an import statement of the notebook binds it to."""
    from docgen.api.resolve import notebook_imports

    bindings, _ = notebook_imports([c.source for c in nb.cells if c.cell_type == "code"])
    return {b.name: b.module + (f".{b.attr}" if b.attr else "") for b in bindings if not b.star}


def default_exp(nb: nbformat.NotebookNode) -> str | None:
    """The module the notebook exports to (`#| default_exp core`), or None."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            value = parse_directives(cell.source)[0].get("default_exp")
            if value:
                return value
    return None


def with_export_entries(
    nb: nbformat.NotebookNode, package: str, warn: Callable[[str], None], where: str
) -> nbformat.NotebookNode:
    """`nb` with an entry after each exported definition and its `#| export` cells hidden;
    `nb` itself when it exports nothing."""
    module = default_exp(nb)
    from docgen.api.pages import show_doc_cell  # pages.py renders pages: imported late

    documented = _documented_here(nb)
    imports = _import_paths(nb)
    cells: list[Any] = []
    changed = False
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type != "code":
            continue
        directives, code = parse_directives(cell.source)
        entry = _nbdev_show_doc_entry(cell, code, package, module, imports)
        if entry is not None:  # nbdev's own show_doc output, as docgen's entry
            cells[-1], changed = _shown_as(cell, directives, entry), True
            continue
        exported = next((d for d in _EXPORTS if d in directives), None)
        if exported is None or module is None:
            continue
        changed = True
        if exported == "export":  # nbdev shows `#| exports` code, not `#| export` code
            cell = copy.deepcopy(cell)
            cell.metadata.setdefault("tags", []).append("remove-input")
            cells[-1] = cell
        if "hide" in directives or str(directives.get("include", "")).lower() == "false":
            continue  # nbdev documents no definition of a hidden cell (`_want_doc`)
        # `#| export other` exports the cell to `other` rather than the notebook's module.
        target = directives[exported] or module
        for name in _defined_names(code):
            full = f"{package}.{target}.{name}"
            short = name.rsplit(".", 1)[-1]
            if name in documented or full in documented or short in documented:
                continue
            obj = import_object(full)
            if obj is None:
                warn(
                    f"{where}: `{name}` is exported to {package}.{target}, which has no "
                    f"`{name}`; run nbdev-export, or install the package, to get its entry"
                )
                continue
            cells.append(show_doc_cell(full, obj, full))
    if not changed:
        return nb
    nb = copy.copy(nb)
    nb.cells = cells
    return nb
