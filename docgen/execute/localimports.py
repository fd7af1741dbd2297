"""The project's own modules that a notebook imports, for its cache key.

A notebook that does `import helper` runs the code of the helper.py beside it: editing that
file changes its outputs as surely as editing the notebook. These modules are found from the
import statements of the notebook's code cells (and `%run file.py`), read with `ast`; nothing
is imported. Shell lines count too: `!mylib build` runs the project's package `mylib` (see
`shell_commands`). A name is looked for where the kernel would find it: in the notebook's folder,
then in the project root (and its `src/`), then wherever this Python finds it. It counts when
its file is inside the project, outside any hidden folder or site-packages. The modules
those files import are followed the same way. A package counts with all its .py files.
Installed distributions are left out: the environment fingerprint covers them.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from docgen.notebooks.cells import parse_directives
from docgen.runtime.userobjects import FAILURES

_MAGIC = re.compile(r"^\s*[%!]")
_RUN = re.compile(r"^\s*%run\s+(?:-\w+\s+)*([^\s;]+\.py)\b")
_ENVIRONMENT_PARTS = frozenset({"site-packages", "dist-packages", "__pycache__"})


def _python(source: str) -> str:
    """A code cell as plain Python: directives dropped, magics and shell lines blanked out."""
    _, code = parse_directives(source)
    if code.lstrip().startswith("%%"):
        return ""
    return "\n".join("" if _MAGIC.match(line) else line for line in code.splitlines())


_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")


def _statements(tree: ast.Module) -> Iterator[ast.AST]:
    """Every statement, at any depth (in functions, classes, if, try, with, match), but
    no expression: an import is a statement, and walking every expression of every cell
    took most of the time of a build whose notebooks were all cached."""
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        yield node
        for block in _BLOCKS:
            children = getattr(node, block, None)
            if isinstance(children, list):
                stack.extend(c for c in children if isinstance(c, ast.AST))


def _imports(source: str) -> Iterator[tuple[str, int]]:
    """(first name of the module, relative level) of each import in some Python source."""
    if "import" not in source:  # the keyword of every import statement
        return
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return  # not Python: it imports nothing we can know of
    for node in _statements(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], 0
        elif isinstance(node, ast.ImportFrom):
            if node.module:
                yield node.module.split(".")[0], node.level
            else:  # `from . import helper`: the names are the modules
                for alias in node.names:
                    yield alias.name, node.level


def imported_names(sources: Iterable[str]) -> set[str]:
    """The top-level names of the modules that some code cells import (absolute imports)."""
    return {name for source in sources for name, level in _imports(_python(source)) if not level}


def _in_project(path: Path, root: Path) -> bool:
    if not path.is_relative_to(root):
        return False
    parts = path.relative_to(root).parts
    return not any(p in _ENVIRONMENT_PARTS or p.startswith(".") for p in parts)


def package_in_project(name: str, root: Path) -> bool:
    """Whether the package `name` (its top level) is imported from the project's files,
    which a notebook's key follows when the notebook imports it."""
    found = _found_by_python(name.split(".")[0])
    return found is not None and _in_project(found, root.resolve())


def _module_at(folder: Path, name: str) -> Path | None:
    """The package folder or module file `name` denotes in `folder`, as Python looks for it."""
    package = folder / name
    if (package / "__init__.py").is_file():
        return package
    module = folder / f"{name}.py"
    if module.is_file():
        return module
    if package.is_dir() and any(package.glob("*.py")):
        return package  # a namespace package
    return None


def _found_by_python(name: str) -> Path | None:
    """Where this Python would import top-level `name` from; finding imports nothing."""
    if name in sys.stdlib_module_names or name in sys.builtin_module_names:
        return None
    try:
        spec = importlib.util.find_spec(name)
    except FAILURES:  # a finder of some installed package, or a broken sys.modules entry
        return None
    if spec is None:
        return None
    locations = list(spec.submodule_search_locations or [])
    if locations:
        return Path(locations[0])
    return Path(spec.origin) if spec.origin and spec.has_location else None


def _files(found: Path) -> list[Path]:
    if found.is_dir():
        return sorted(p for p in found.rglob("*.py") if "__pycache__" not in p.parts)
    return [found]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


_SHELL_CELL = re.compile(r"^\s*%%(?:bash|sh|script\s+\S*sh)\b")
_SHELL_LINE = re.compile(r"^\s*!+")
_COMMAND = re.compile(r"(?:python3?\s+-m\s+)?([A-Za-z_][\w-]*)")
# `[sys.executable, "-m", "mylib", ...]` and "python -m mylib" in Python code
_RUN_MODULE = re.compile(
    r"""['"]-m['"]\s*,\s*['"]([A-Za-z_]\w*)|\bpython3?\s+-m\s+([A-Za-z_]\w*)"""
)


def shell_commands(cells: Iterable[str]) -> set[str]:
    """The module names of the commands the cells run: those their shell lines (`!cmd`, and
    the lines of a `%%bash` or `%%sh` cell) start with, where `!mylib build` and
    `!python -m mylib` give `mylib` (a `-` read as `_`, as console scripts are named), and
    the modules Python code runs with `-m` (`[sys.executable, "-m", "mylib"]`)."""
    names: set[str] = set()
    for source in cells:
        if "-m" in source:
            names.update(a or b for a, b in _RUN_MODULE.findall(source))
        if "!" not in source and "%%" not in source:
            continue
        lines = source.splitlines()
        shell = bool(lines) and bool(_SHELL_CELL.match(lines[0]))
        for line in lines[1:] if shell else lines:
            bang = _SHELL_LINE.match(line)
            if not (shell or bang):
                continue
            for command in re.split(r"&&|\|\||[;|]", line[bang.end() :] if bang else line):
                m = _COMMAND.match(command.strip())
                if m:
                    names.add(m.group(1).replace("-", "_"))
    return names


def cell_imports(cells: Iterable[str]) -> list[tuple[str, int]]:
    """(first name of the module, relative level) of every import in the code `cells`,
    sorted, each once: a function of their text alone, so the execution cache keeps it."""
    found: set[tuple[str, int]] = set()
    for source in cells:
        found.update(_imports(_python(source)))
    return sorted(found)


def local_module_digests(
    cells: Iterable[str],
    nb_dir: Path,
    root: Path,
    imports: Iterable[tuple[str, int]] | None = None,
) -> dict[str, str]:
    """Content hash of every project file the code `cells` import, directly or through other
    project files, by its path relative to `root`. `imports` is `cell_imports(cells)` when
    known already (parsing every cell is most of the work)."""
    cells = list(cells)
    root = root.resolve()
    folders = list(dict.fromkeys([nb_dir.resolve(), root, root / "src"]))
    digests: dict[str, str] = {}
    pending: list[tuple[str, Path]] = []  # (source to read, the folder it is in)

    def add(found: Path | None) -> None:
        if found is None:
            return
        found = found.resolve()
        if not any(_in_project(found, top) for top in (root, folders[0])):
            return
        for file in _files(found):
            rel = file.relative_to(root).as_posix()
            if rel in digests:
                continue
            try:
                digests[rel] = _digest(file)
                pending.append((file.read_text(encoding="utf-8", errors="replace"), file.parent))
            except OSError:
                digests[rel] = "unreadable"

    def resolve(name: str, level: int, folder: Path) -> Path | None:
        if level:  # relative: from the importing file's folder, one level up per extra dot
            if level - 1 > len(folder.parents):
                return None
            return _module_at(folder.parents[level - 2] if level > 1 else folder, name)
        for candidate in folders:
            found = _module_at(candidate, name)
            if found is not None:
                return found
        return _found_by_python(name)

    for source in cells:
        if "%run" in source:
            for line in source.splitlines():
                run = _RUN.match(line)
                if run and (nb_dir / run.group(1)).is_file():
                    add(nb_dir / run.group(1))
    seen: set[tuple[str, int, Path | None]] = set()
    # `!mylib build` runs the project's package as surely as `import mylib` does (its
    # command is named after it, conventionally); a command that is no project module
    # (`!ls`, `!pip`) adds nothing.
    for name in shell_commands(cells):
        for candidate in folders:
            found = _module_at(candidate, name)
            if found is not None:
                seen.add((name, 0, None))
                add(found)
                break

    def follow(found: Iterable[tuple[str, int]], folder: Path) -> None:
        for name, level in found:
            where = (name, level, folder if level else None)
            if where not in seen:
                seen.add(where)
                add(resolve(name, level, folder))

    follow(cell_imports(cells) if imports is None else imports, nb_dir)
    while pending:
        source, folder = pending.pop()
        follow(_imports(source), folder)
    return dict(sorted(digests.items()))
