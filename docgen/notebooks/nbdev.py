"""nbdev projects: recognising one, and the docgen settings its own nbdev settings imply.

A project is nbdev-style when its pyproject.toml has a `[tool.nbdev]` table (nbdev 3) or
it has a settings.ini with nbdev keys (nbdev 2). Such a project builds with no
`[tool.docgen]` at all; an explicit `[tool.docgen]` value overrides each default here.
"""

from __future__ import annotations

import configparser
import copy
import re
import sys
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docgen.notebooks.cells import parse_directives

if TYPE_CHECKING:
    import nbformat

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Keys only an nbdev settings.ini has; one of them makes the file nbdev's.
_SETTINGS_INI_KEYS = ("lib_name", "nbs_path", "lib_path", "doc_path", "tst_flags")


@dataclass(frozen=True)
class NbdevSettings:
    """The nbdev settings docgen uses, with nbdev's own defaults filled in."""

    lib_name: str = ""
    lib_path: str = ""
    nbs_path: str = "nbs"
    title: str = ""
    git_url: str = ""
    branch: str = "main"
    tst_flags: tuple[str, ...] = ("notest",)
    readme_nb: str = "index.ipynb"


def _from_pyproject(path: Path) -> NbdevSettings | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # the config reader reports a broken pyproject.toml
    tool = data.get("tool")
    nbdev = tool.get("nbdev") if isinstance(tool, dict) else None
    if not isinstance(nbdev, dict):
        return None
    project = _table(data.get("project"))
    urls = _table(project.get("urls"))
    name = _text(project.get("name"))
    return _settings(
        nbdev,
        lib_name=name,
        git_url=_text(urls.get("Repository") or urls.get("Source")),
    )


def _from_settings_ini(path: Path) -> NbdevSettings | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    section = dict(parser["DEFAULT"])
    if not any(key in section for key in _SETTINGS_INI_KEYS):
        return None
    git_url = section.get("git_url", "")
    if not git_url and section.get("user") and section.get("repo"):
        host = section.get("git_host", "https://github.com").rstrip("/")
        git_url = f"{host}/{section['user']}/{section['repo']}"
    return _settings(section, lib_name=section.get("lib_name", ""), git_url=git_url)


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _settings(table: dict[str, Any], lib_name: str, git_url: str) -> NbdevSettings:
    flags = table.get("tst_flags", "notest")
    if isinstance(flags, str):
        flags = flags.replace("|", " ").split()
    return NbdevSettings(
        lib_name=lib_name,
        lib_path=_text(table.get("lib_path")) or lib_name.replace("-", "_"),
        nbs_path=_text(table.get("nbs_path")) or "nbs",
        title=_text(table.get("title")) or lib_name,
        git_url=git_url.rstrip("/"),
        branch=_text(table.get("branch")) or "main",
        tst_flags=tuple(str(f) for f in flags if isinstance(f, str)),
        readme_nb=_text(table.get("readme_nb")) or "index.ipynb",
    )


def read_nbdev_settings(root: Path) -> NbdevSettings | None:
    """The nbdev settings of the project in `root`, or None when it is not nbdev-style."""
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        found = _from_pyproject(pyproject)
        if found is not None:
            return found
    ini = root / "settings.ini"
    return _from_settings_ini(ini) if ini.is_file() else None


def docgen_defaults(settings: NbdevSettings, root: Path) -> dict[str, Any]:
    """`Config` values an nbdev project implies, before `[tool.docgen]` overrides them."""
    values: dict[str, Any] = {"nbs": Path(settings.nbs_path), "branch": settings.branch}
    if settings.title:
        values["title"] = settings.title
    if settings.git_url:
        values["repo"] = settings.git_url
    if settings.lib_path and (root / settings.lib_path).is_dir():
        values["packages"] = [Path(settings.lib_path).name]
    values["nbdev"] = True
    values["skip_flags"] = settings.tst_flags
    values["home"] = settings.readme_nb
    return values


# The cell tag nbclient and docgen read as "do not run this cell" (see cells.py).
_SKIP_TAG = "skip-execution"
_SKIP_EXEC = re.compile(r"^\s*-?\s*skip_exec\s*:\s*(true|yes|1)\s*$", re.IGNORECASE | re.MULTILINE)


def skips_notebook(nb: nbformat.NotebookNode) -> bool:
    """Whether nbdev's runner skips the whole notebook: `skip_exec: true` in its front
    matter (a leading raw YAML cell, or a `- skip_exec: true` line in the title cell), or a
    `#| skip_exec` directive in a cell."""
    for i, cell in enumerate(nb.cells):
        if i == 0 and cell.cell_type in ("raw", "markdown") and _SKIP_EXEC.search(cell.source):
            return True
        if cell.cell_type == "code" and "skip_exec" in parse_directives(cell.source)[0]:
            return True
    return False


def as_nbdev_test_runs(nb: nbformat.NotebookNode, flags: Collection[str]) -> nbformat.NotebookNode:
    """`nb` (a copy when anything changes) with the cells `nbdev-test` would not run
    marked not to run: all of a skipped notebook, and each cell that carries one of the
    project's `tst_flags` as a directive (`#| notest`)."""
    whole = skips_notebook(nb)
    marked = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and (whole or set(parse_directives(cell.source)[0]) & set(flags))
        and _SKIP_TAG not in cell.get("metadata", {}).get("tags", [])
    ]
    if not marked:
        return nb
    nb = copy.deepcopy(nb)
    for i in marked:
        metadata = nb.cells[i].setdefault("metadata", {})
        metadata["tags"] = [*metadata.get("tags", []), _SKIP_TAG]
    return nb


# nbdev's title cell: `# Title`, then a `> description` line, then `- key: value` front
# matter lines, which nbdev reads as settings and never shows.
_TITLE_CELL = re.compile(
    r"\A\s*(#[ \t]+[^\n]*\S)[ \t]*\n(?:[ \t]*\n)*>[ \t]*([^\n]*\S)[ \t]*(?:\n|\Z)"
)
_FRONT_MATTER_LINE = re.compile(r"^-[ \t]+[\w-]+[ \t]*:[ \t]*\S.*(?:\n|\Z)", re.MULTILINE)


def split_title_cell(text: str) -> tuple[str, str, str] | None:
    """(title heading, description, rest) of an nbdev title cell, front matter lines left
    out of the rest; None when `text` does not open with `# Title` and `> description`."""
    m = _TITLE_CELL.match(text)
    if m is None:
        return None
    return m.group(1), m.group(2), _FRONT_MATTER_LINE.sub("", text[m.end() :])
