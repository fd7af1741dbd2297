"""The files a notebook needs on a worker that does not see the project: the files beside
it (not its subfolders) and the data files it declares (`"docgen": {"data": [...]}`),
packed as one zip by their path in the project, and unpacked into a temporary folder there.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from pathlib import Path

from docgen.errors import DocgenError


def _declared(folder: Path, patterns: Iterable[str]) -> list[Path]:
    """The files the `data` patterns name, folders and globs expanded (as cache.data_digest)."""
    files: list[Path] = []
    for pattern in patterns:
        matches = (
            sorted(folder.glob(pattern)) if any(c in pattern for c in "*?[") else [folder / pattern]
        )
        for match in matches:
            if match.is_dir():
                files += sorted(p for p in match.rglob("*") if p.is_file())
            elif match.is_file():
                files.append(match)
    return files


def pack_files(notebook: Path, root: Path, data: Iterable[str]) -> bytes:
    """A zip of what `notebook` may read, by path relative to `root` (the project)."""
    folder = notebook.parent
    files = [p for p in sorted(folder.iterdir()) if p.is_file()]
    files += _declared(folder, data)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        seen: set[str] = set()
        for path in files:
            resolved = path.resolve()
            if not resolved.is_relative_to(root):
                raise DocgenError(
                    f"{notebook}: its data file {path} is outside the project ({root}), so it "
                    "cannot be sent to a Dask worker. Move it into the project, or set "
                    "`shared_path = true` in [tool.docgen.execute] if the workers see the "
                    "project at the same path."
                )
            name = resolved.relative_to(root).as_posix()
            if name not in seen:
                seen.add(name)
                archive.write(resolved, name)
    return buffer.getvalue()


def unpack_files(packed: bytes, into: Path) -> None:
    """Write the files of `pack_files` under `into`; names never leave it (zip's own check)."""
    with zipfile.ZipFile(io.BytesIO(packed)) as archive:
        for info in archive.infolist():
            target = (into / info.filename).resolve()
            if not target.is_relative_to(into.resolve()):
                raise DocgenError(f"a packed file name leaves its folder: {info.filename!r}")
        archive.extractall(into)
