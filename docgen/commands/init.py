"""`docgen init [DIR]`: what a new project needs to build its docs and ship them.

It writes `doc_nbs/index.ipynb`, a `[tool.docgen]` table, the `.gitignore` lines for the
built site and the cache, and a GitHub Actions workflow that builds, checks and deploys the
site to GitHub Pages. It never overwrites a file: pyproject.toml and .gitignore are only
appended to, when what they need is missing, and every file that is already there is named
as skipped.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from docgen.config import CACHE_DIR
from docgen.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

WORKFLOW = ".github/workflows/docs.yml"
IGNORED = ("site/", f"{CACHE_DIR}/")

_WORKFLOW_TEXT = """\
# Builds the documentation with docgen, checks its links, and deploys it to GitHub Pages.
# In the repository's Settings > Pages, set the source to "GitHub Actions".
name: docs
on:
  push:
    branches: [main]
  pull_request:
  workflow_dispatch:
permissions:
  contents: read
  pages: write
  id-token: write
concurrency:
  group: pages
  cancel-in-progress: false
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      # Executed notebooks are cached by content: unchanged ones are not run again.
      - uses: actions/cache@v4
        with:
          path: .docgen_cache
          key: docgen-${{ runner.os }}-${{ hashFiles('doc_nbs/**', 'pyproject.toml') }}
          restore-keys: docgen-${{ runner.os }}-
      - run: pip install docgen-nb{install_project}
      - run: docgen build --strict
      - run: docgen check
      - uses: actions/upload-pages-artifact@v3
        with:
          path: site
  deploy:
    if: github.event_name != 'pull_request' && github.ref == 'refs/heads/main'
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{ steps.deployment.outputs.page_url }}
    steps:
      - id: deployment
        uses: actions/deploy-pages@v4
"""


def _add_init(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "init",
        help="start a docs project: doc_nbs/index.ipynb, [tool.docgen], .gitignore lines and "
        "a GitHub Pages workflow (never overwrites a file)",
    )
    p.add_argument("dir", nargs="?", default=".", type=Path, help="project folder (default: .)")
    p.set_defaults(run=_run_init)


def _pyproject(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise UsageError(
            f"{path} cannot be read as TOML ({e}); fix it, then run docgen init again"
        ) from e


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _module_of(name: str, root: Path) -> str:
    """The import name of the project's package, when its folder is there."""
    module = re.sub(r"[-.]+", "_", name).lower()
    for folder in (root / module, root / "src" / module):
        if (folder / "__init__.py").is_file():
            return module
    return ""


def _append(path: Path, text: str) -> None:
    """Add `text` at the end of `path`, on a line of its own; the rest is left as it is."""
    existing = path.read_bytes() if path.exists() else b""
    with open(path, "ab") as f:
        if existing and not existing.endswith(b"\n"):
            f.write(b"\n")
        f.write(text.encode())


def init_project(root: Path) -> tuple[list[str], list[str]]:
    """Scaffold `root`; (what was written, what was skipped and why), as lines to show."""
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} is a file; docgen init needs a project folder")
    root.mkdir(parents=True, exist_ok=True)
    done: list[str] = []
    skipped: list[str] = []

    pyproject = root / "pyproject.toml"
    data = _pyproject(pyproject) if pyproject.exists() else {}
    project: dict[str, Any] = _table(data, "project")
    name = str(project.get("name") or root.resolve().name or "Documentation")
    module = _module_of(name, root)
    tool = _table(data, "tool")
    if "docgen" in tool:
        skipped.append("pyproject.toml: it already has a [tool.docgen] table")
    else:
        table = ["", "[tool.docgen]"]
        if not project.get("name"):
            table.append(f"title = {_toml_string(name)}")
        table.append('nbs = "doc_nbs"')
        if module:
            table.append(f'packages = ["{module}"]')
        table.append("")
        _append(pyproject, "\n".join(table) if pyproject.exists() else "\n".join(table[1:]))
        done.append(f"{'added [tool.docgen] to' if data else 'wrote'} pyproject.toml")

    # Imported here: nbformat is slow to import, and every docgen command imports this module.
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    index = root / "doc_nbs" / "index.ipynb"
    if index.exists():
        skipped.append("doc_nbs/index.ipynb: it exists")
    else:
        index.parent.mkdir(parents=True, exist_ok=True)
        code = f"import {module}\n{module}" if module else 'print("Hello from the docs")'
        nb = new_notebook(
            cells=[
                new_markdown_cell(
                    f"# {name}\n\nThe home page of the documentation. Each notebook in "
                    "`doc_nbs/` becomes a page; its code runs when the site is built."
                ),
                new_code_cell(code),
            ],
            metadata={
                "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
            },
        )
        with open(index, "x", encoding="utf-8") as f:
            nbformat.write(nb, f)
        done.append("wrote doc_nbs/index.ipynb")

    gitignore = root / ".gitignore"
    present = (
        set(gitignore.read_text(encoding="utf-8").splitlines()) if gitignore.exists() else set()
    )
    missing = [line for line in IGNORED if line not in present and line.rstrip("/") not in present]
    if missing:
        _append(gitignore, "\n".join(missing) + "\n")
        done.append(f"added {', '.join(missing)} to .gitignore")
    else:
        skipped.append(".gitignore: it already ignores site/ and .docgen_cache/")

    workflow = root / WORKFLOW
    if workflow.exists():
        skipped.append(f"{WORKFLOW}: it exists")
    else:
        workflow.parent.mkdir(parents=True, exist_ok=True)
        install = " -e ." if project.get("name") else ""
        text = _WORKFLOW_TEXT.replace("{install_project}", install)
        with open(workflow, "x", encoding="utf-8") as f:
            f.write(text)
        done.append(f"wrote {WORKFLOW}")
    return done, skipped


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _run_init(args: argparse.Namespace) -> int:
    done, skipped = init_project(args.dir)
    for line in done:
        print(line)
    for line in skipped:
        print(f"skipped {line}")
    where = "" if args.dir == Path(".") else f"cd {args.dir} && "
    print(f"next: {where}docgen build, then open site/index.html; docgen check checks its links")
    return 0
