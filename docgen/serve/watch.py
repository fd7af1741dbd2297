"""What the preview server watches, and which changes are edits by the author.

It watches the notebooks folder, the user's templates and the documented packages' source
folders. Changes docgen or editors make themselves are ignored: the output folder, the
execution cache, hidden folders (`.ipynb_checkpoints`, `.git`), `__pycache__` and editor
temp files. A file written again with the same content (by a notebook that runs on every
build because it fails) is no edit either (see `Builder`). The config file is not watched as
a file (editors replace it, which ends a watch on it): its signature is compared instead.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterable
from pathlib import Path

from docgen.config import Config

# Backups (x~), vim swap files (.x.swp) and its write test (4913), emacs locks and autosaves
# (.#x, #x#), and the temp files editors write before renaming them over the original.
_EDITOR_TEMP = re.compile(r"(~|\.sw[a-p]|\.tmp|\.temp|\.bak|\.part|\.crdownload)$|^4913$|^#.*#$")


def watched_folders(config: Config) -> list[Path]:
    """The existing folders whose edits change the site."""
    folders = [config.nbs]
    if config.templates is not None:
        folders.append(config.templates)
    folders += package_folders(config.packages)
    seen: list[Path] = []
    for folder in folders:
        if folder.is_dir() and not any(folder == s or s in folder.parents for s in seen):
            seen = [s for s in seen if folder not in s.parents] + [folder]
    return seen


def package_folders(packages: Iterable[str]) -> list[Path]:
    """The source folders of the documented packages that can be found (not imported)."""
    folders = []
    for package in packages:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        if spec.submodule_search_locations:
            folders += [Path(p) for p in spec.submodule_search_locations]
        elif spec.origin and os.path.isfile(spec.origin):
            folders.append(Path(spec.origin).parent)
    return folders


def is_edit(path: Path, watched: Iterable[Path], ignored: Iterable[Path]) -> bool:
    """Whether a change to `path`, inside one of the `watched` folders, is an author's edit
    (not docgen's output or an editor's temp file)."""
    if any(path == folder or folder in path.parents for folder in ignored):
        return False
    # Hidden below the watched folder: the project itself may live in a hidden folder.
    root = next((f for f in watched if f in path.parents), None)
    parts = path.relative_to(root).parts if root is not None else path.parts[-1:]
    if any(part.startswith(".") or part == "__pycache__" for part in parts):
        return False
    name = path.name
    return not (name.startswith(".#") or _EDITOR_TEMP.search(name))


def file_signature(path: Path | None) -> tuple[int, int, int] | None:
    """What changes when a file is saved (inode: replaced; mtime and size: rewritten)."""
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)
