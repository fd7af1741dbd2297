"""Finding and reading documentation notebooks, and what each cell asks of the build.

A cell's wishes come from Jupyter Book cell tags (`remove-input`, `hide-input`, ...) and
from nbdev/Quarto comment directives on its first lines (`#| hide`, `#| echo: false`).
Both are folded into one `CellOptions`, so later stages never look at either form.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import nbformat

from .errors import DocgenError

_NUMERIC_PREFIX = re.compile(r"^\d+[_\-. ]+")
_DIRECTIVE = re.compile(r"^\s*#\s*\|\s*([\w-]+)\s*(?::\s*(.*?))?\s*$")
# Every site docgen writes holds this file (see outdir.py); a folder with it is never an input.
SITE_MARKER = ".docgen-site"


@dataclass(frozen=True)
class Source:
    """One notebook file of the docs and where its page goes in the site."""

    path: Path  # absolute path of the .ipynb
    rel: PurePosixPath  # path relative to the notebooks folder
    url: str  # page path relative to the site root, e.g. "augment/flip.html"
    generated: bool = False  # made by docgen (an API page), not a file of the docs

    @property
    def section(self) -> str:
        """Sidebar section: the notebook's folder ("" for top-level pages)."""
        return str(self.rel.parent) if str(self.rel.parent) != "." else ""


@dataclass(frozen=True)
class CellOptions:
    """How one cell is executed and shown, from its tags and directives."""

    execute: bool = True
    show_cell: bool = True
    show_input: bool = True
    show_output: bool = True
    collapse_input: bool = False
    collapse_output: bool = False
    may_raise: bool = False


def strip_prefix(name: str) -> str:
    """'01_flip' -> 'flip': numeric prefixes order pages but stay out of URLs and titles."""
    return _NUMERIC_PREFIX.sub("", name) or name


def _sort_key(rel: PurePosixPath, nav: list[str]) -> tuple[int, list[tuple[int, str]]]:
    """Explicit `nav` entries first, in their order; then index pages, then by name."""
    explicit = nav.index(str(rel)) if str(rel) in nav else len(nav)
    parts = []
    for i, part in enumerate(rel.parts):
        is_last = i == len(rel.parts) - 1
        stem = PurePosixPath(part).stem if is_last else part
        # Within a folder, its index page comes first and files come before subfolders.
        rank = 0 if (is_last and stem == "index") else (1 if is_last else 2)
        parts.append((rank, part))
    return (explicit, parts)


def _input_folder(folder: Path, excluded: Collection[Path]) -> bool:
    """Whether notebooks under `folder` are docs: not hidden (.git, .ipynb_checkpoints,
    the staging folders of a build), not private (_build), not a site docgen wrote."""
    return (
        not folder.name.startswith((".", "_"))
        and folder not in excluded
        and not (folder / SITE_MARKER).exists()
    )


def discover_notebooks(
    nbs_dir: Path, nav: list[str] | None = None, exclude: Collection[Path] = ()
) -> list[Source]:
    """Every notebook under `nbs_dir`, in site order.

    Hidden, private and checkpoint folders are skipped, and so are the folders in `exclude`
    (the output and cache folders) and any site docgen wrote, wherever they are.
    """
    if not nbs_dir.is_dir():
        raise DocgenError(f"notebook folder {nbs_dir} does not exist")
    nav = nav or []
    excluded = set(exclude)
    found = []
    for folder, subdirs, names in os.walk(nbs_dir):
        here = Path(folder)
        subdirs[:] = [d for d in subdirs if _input_folder(here / d, excluded)]
        for name in names:
            if name.endswith(".ipynb") and not name.startswith("."):
                rel = PurePosixPath((here / name).relative_to(nbs_dir).as_posix())
                if _undecodable(str(rel)):
                    raise DocgenError(
                        f"{os.fsencode(here / name)!r}: the notebook's name is not UTF-8 text, "
                        "so its page can have no address; rename it"
                    )
                found.append(rel)
    missing = [n for n in nav if PurePosixPath(n) not in set(found)]
    if missing:
        raise DocgenError(f"nav lists {', '.join(missing)}, which is not a notebook in {nbs_dir}")
    found.sort(key=lambda rel: _sort_key(rel, nav))
    sources = []
    for rel in found:
        folders = [strip_prefix(p) for p in rel.parts[:-1]]
        url = "/".join([*folders, strip_prefix(rel.stem) + ".html"])
        sources.append(Source(path=nbs_dir / rel, rel=rel, url=url))
    urls: dict[str, PurePosixPath] = {}
    for s in sources:
        if s.url in urls:
            raise DocgenError(
                f"{urls[s.url]} and {s.rel} would both become the page {s.url}; rename one"
            )
        urls[s.url] = s.rel
    return sources


def _undecodable(name: str) -> bool:
    """Whether a file name held bytes that are not UTF-8 (Python keeps them as surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read a notebook as nbformat 4, converting older versions, or fail naming file and reason."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DocgenError(f"{path}: cannot be read: {e.strerror}") from e
    if not raw.strip():
        raise DocgenError(f"{path}: is empty, not a notebook")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DocgenError(f"{path}: is not a notebook: not UTF-8 text (byte {e.start})") from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DocgenError(
            f"{path}: is not a notebook: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}"
        ) from e
    if not isinstance(data, dict) or "nbformat" not in data:
        raise DocgenError(f"{path}: is JSON but not a notebook (no 'nbformat' field)")
    try:
        nb = nbformat.convert(nbformat.reader.reads(text), 4)
        nbformat.validate(nb)  # once: nbformat.reads would validate too, and only log
    except nbformat.ValidationError as e:
        raise DocgenError(f"{path}: is not a valid notebook: {_first_line(e.message)}") from e
    except Exception as e:  # nbformat raises many types for malformed input
        raise DocgenError(f"{path}: is not a valid notebook: {_first_line(str(e))}") from e
    return nb


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"


def parse_directives(source: str) -> tuple[dict[str, str], str]:
    """Split leading `#| key: value` lines off a code cell; returns (directives, rest)."""
    lines = source.splitlines(keepends=True)
    directives: dict[str, str] = {}
    i = 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if not m:
            break
        directives[m.group(1).lower()] = (m.group(2) or "").strip().lower()
        i += 1
    return directives, "".join(lines[i:])


def _is_false(value: str) -> bool:
    return value in ("false", "no", "0")


def _is_true(value: str) -> bool:
    return value in ("", "true", "yes", "1")


def cell_options(cell: nbformat.NotebookNode) -> CellOptions:
    """Fold a cell's tags and directives into `CellOptions`."""
    tags = set(cell.get("metadata", {}).get("tags", []))
    directives: dict[str, str] = {}
    if cell.cell_type == "code":
        directives, _ = parse_directives(cell.source)

    def directive(name: str, check) -> bool:  # type: ignore[no-untyped-def]
        return name in directives and check(directives[name])

    return CellOptions(
        execute=cell.cell_type == "code"
        and "skip-execution" not in tags
        and not directive("eval", _is_false),
        show_cell="remove-cell" not in tags
        and not directive("hide", _is_true)
        and not directive("include", _is_false),
        show_input="remove-input" not in tags and not directive("echo", _is_false),
        show_output="remove-output" not in tags and not directive("output", _is_false),
        collapse_input="hide-input" in tags or directive("code-fold", _is_true),
        collapse_output="hide-output" in tags,
        may_raise="raises-exception" in tags or directive("error", _is_true),
    )
