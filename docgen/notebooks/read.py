"""Reading a notebook as nbformat 4, or failing with the file and the reason."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from docgen.errors import DocgenError


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
