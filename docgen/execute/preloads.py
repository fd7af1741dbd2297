"""Which modules the zygote imports before forking kernels: `preload`, and the notebooks' own.

A notebook's first code cell is where its imports usually are (nbdev's `#| default_exp`
cell, `import torch`, `from mylib.core import *`). Importing those once, in the zygote,
is what makes each forked kernel start warm. Modules that live next to a notebook are left
out: the zygote does not run in the notebook's folder, and the notebook may change them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nbformat


def _source(cell_source: str) -> str:
    """The cell as Python: magics and shell lines (`%`, `!`) blanked so that it parses."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in cell_source.splitlines()
    )


def first_cell_imports(nb: nbformat.NotebookNode, folder: Path) -> list[str]:
    """The absolute modules the first code cell of `nb` imports at its top level."""
    cell = next((c for c in nb.cells if c.cell_type == "code" and c.source.strip()), None)
    if cell is None:
        return []
    try:
        tree = ast.parse(_source(cell.source))
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return [n for n in names if n != "__future__" and not _is_local(n, folder)]


def _is_local(module: str, folder: Path) -> bool:
    top = module.split(".")[0]
    return (folder / f"{top}.py").exists() or (folder / top / "__init__.py").exists()


def preload_modules(
    configured: Sequence[str], notebooks: Iterable[tuple[nbformat.NotebookNode, Path]]
) -> list[str]:
    """The first-cell imports of `notebooks` (each with its folder), in order, once each,
    leaving out those already `configured`."""
    found: dict[str, None] = {}
    for nb, folder in notebooks:
        for name in first_cell_imports(nb, folder):
            if name not in configured:
                found.setdefault(name)
    return list(found)
