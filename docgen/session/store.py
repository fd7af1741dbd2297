"""A build session's entries on disk: one JSON file per entry, written atomically.

Every file carries the store's format and its own kind and name; a file that cannot be read,
or that another format wrote, is reported, removed and rebuilt. Without a folder the store
lives in memory only (a long-lived process such as a preview server).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docgen.execute.cache import write_atomically

FORMAT = 1  # bump when an entry's layout changes

Warn = Callable[[str], None]


class SessionStore:
    """JSON entries by (kind, name); and files of bytes (images) by name."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._memory: dict[tuple[str, str], Any] = {}
        self._blobs: dict[str, bytes] = {}

    def _path(self, kind: str, name: str) -> Path:
        assert self.folder is not None
        return self.folder / kind / f"{name}.json"

    def load(self, kind: str, name: str, warn: Warn) -> Any:
        """The entry's value, or None when there is none (or it was unreadable: a warning)."""
        if (kind, name) in self._memory:
            return self._memory[(kind, name)]
        if self.folder is None:
            return None
        path = self._path(kind, name)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            return self._discard(path, str(e), warn)
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or "format" not in data:
                raise ValueError("not a build-session entry")
            if data["format"] != FORMAT:
                return self._discard(path, f"written in format {data['format']}", warn)
            if data.get("kind") != kind or data.get("name") != name:
                raise ValueError("its kind or name does not match its file")
            value = data["value"]
        except (ValueError, KeyError, TypeError) as e:
            return self._discard(path, str(e).splitlines()[0] or type(e).__name__, warn)
        self._memory[(kind, name)] = value
        return value

    def save(self, kind: str, name: str, value: Any, warn: Warn) -> None:
        """Keep the entry in memory and write it; a write that fails is a warning."""
        self._memory[(kind, name)] = value
        if self.folder is None:
            return
        data = {"format": FORMAT, "kind": kind, "name": name, "value": value}
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        self._write(self._path(kind, name), text.encode(), warn)

    def load_blob(self, name: str) -> bytes | None:
        if name in self._blobs:
            return self._blobs[name]
        if self.folder is None:
            return None
        try:
            return (self.folder / "blobs" / name).read_bytes()
        except OSError:
            return None

    def save_blob(self, name: str, data: bytes, warn: Warn) -> None:
        self._blobs[name] = data
        if self.folder is not None and not (self.folder / "blobs" / name).is_file():
            self._write(self.folder / "blobs" / name, data, warn)

    def _write(self, path: Path, data: bytes, warn: Warn) -> None:
        try:
            write_atomically(path, data)
        except OSError as e:
            # The site is still right; only the next build redoes this work.
            warn(f"could not write the build-session entry {path}: {e}")

    def _discard(self, path: Path, reason: str, warn: Warn) -> None:
        warn(f"ignored an unreadable build-session entry {path} ({reason}); rebuilding it")
        try:
            path.unlink()
        except OSError:
            pass  # a read-only cache: the entry is ignored each time
        return None
