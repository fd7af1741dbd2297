"""A small documented project for the link tests: tests/fixtures/linkdemo, and its docs site.

The notebooks are written here with their outputs filled in (show_doc's display data is
made in this process, as a kernel would make it), so the site builds with `--no-exec`.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
from conftest import write_notebook
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from docgen.config import load_config
from docgen.pipeline import BuildReport, build

LINKDEMO = Path(__file__).parent / "fixtures" / "linkdemo"
REPO_URL = "https://github.com/example/linkdemo"

IMPORTS = """\
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader
import linkdemo
from docgen import show_doc"""

INDEX_MD = """\
# Link demo

The project: `linkdemo.Widget`, `Widget.grow`, `make_widget()`, `compile()`, `linkdemo.Gadget`.
PyTorch as imported: `nn.Conv2d`, `F.relu`, `Tensor.view`, `DataLoader`, `torch.nn.Parameter`.
Python: `pathlib.Path`. Plain code: `x + 1`, `--workers 2`, `self`.
A typo: `torch.nn.Conv3x`.

## Usage

Make one with `make_widget`.
"""

GUIDE_MD = """\
# Guide

[a link around `linkdemo.Widget`](https://example.org/) and
<a href="https://example.org/raw">raw `make_widget`</a>, then `linkdemo.Widget` alone.

```python
linkdemo.Widget()
```
"""


@contextlib.contextmanager
def linkdemo_importable() -> Iterator[None]:
    """linkdemo on sys.path while the block runs (the modules it imports stay imported)."""
    sys.path.insert(0, str(LINKDEMO))
    try:
        yield
    finally:
        sys.path.remove(str(LINKDEMO))


def show_doc_cell(expression: str) -> nbformat.NotebookNode:
    """A code cell `show_doc(<expression>)` with the output a kernel would give it."""
    import linkdemo

    from docgen import show_doc

    result = show_doc(eval(expression, {"linkdemo": linkdemo}))
    data, metadata = result._repr_mimebundle_()
    cell = new_code_cell(f"show_doc({expression})")
    cell.outputs = [new_output("display_data", data=data, metadata=metadata)]
    return cell


def write_linkdemo_notebooks(nbs: Path) -> None:
    write_notebook(
        nbs / "index.ipynb",
        new_markdown_cell(INDEX_MD),
        IMPORTS,
        show_doc_cell("linkdemo.Widget"),
        show_doc_cell("linkdemo.Widget.grow"),
        "layer = nn.Conv2d(3, 8, 3)\ny = F.relu(layer(torch.randn(1, 3, 8, 8))).view(-1)",
    )
    write_notebook(nbs / "guide" / "usage.ipynb", new_markdown_cell(GUIDE_MD), "import linkdemo")


def build_linkdemo_site(folder: Path, strict: bool = False) -> BuildReport:
    """Write the notebooks into `folder`/nbs and build them into `folder`/site."""
    write_linkdemo_notebooks(folder / "nbs")
    config = load_config(
        cwd=LINKDEMO,
        overrides={
            "nbs": folder / "nbs",
            "out": folder / "site",
            "execute": False,
            "packages": ["linkdemo"],
            "title": "Link demo",
            "repo": REPO_URL,
            "strict": strict,
        },
    )
    return build(config, log=lambda _: None)
