"""Reading a notebook as nbformat 4, or failing with the file and the reason."""

from __future__ import annotations

import hashlib
import json
from collections.abc import MutableSet
from pathlib import Path
from typing import TYPE_CHECKING

from docgen.errors import DocgenError
from docgen.notebooks.node import loads_v4
from docgen.notebooks.schema import quick_valid

if TYPE_CHECKING:
    import nbformat


def read_notebook(path: Path, validated: MutableSet[str] | None = None) -> nbformat.NotebookNode:
    """Read a notebook as nbformat 4, converting older versions, or fail naming file and reason.

    A valid nbformat 4 notebook is read and checked against nbformat's schema without
    importing nbformat (whose import is slow, see node.py and schema.py); nbformat reads
    older formats, and says what is wrong with an invalid notebook. `validated` holds
    digests of notebook files known to be valid nbformat 4: such a file is not checked
    again; one validated here is added.
    """
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DocgenError(f"{path}: cannot be read: {e.strerror}") from e
    digest = hashlib.sha256(raw).hexdigest()
    if validated is not None and digest in validated:
        try:
            return loads_v4(raw.decode("utf-8"))  # the same data as nbformat's node
        except ValueError:  # UnicodeDecodeError and JSONDecodeError included
            validated.discard(digest)  # read it the long way, which says what is wrong
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
    if data.get("nbformat") == 4:
        quick = _quick_read(text)
        if quick is not None:
            if validated is not None:
                validated.add(digest)
            return quick
    # Older formats, and every notebook the quick check does not accept: nbformat says why.
    import nbformat  # only here: its import loads jsonschema, see node.py

    try:
        nb = nbformat.convert(nbformat.reader.reads(text), 4)
        nbformat.validate(nb)  # once: nbformat.reads would validate too, and only log
    except nbformat.ValidationError as e:
        raise DocgenError(f"{path}: is not a valid notebook: {_first_line(e.message)}") from e
    except Exception as e:  # nbformat raises many types for malformed input
        raise DocgenError(f"{path}: is not a valid notebook: {_first_line(str(e))}") from e
    if validated is not None and data.get("nbformat") == 4 and _reads_the_same(text, nb):
        validated.add(digest)
    return nb


def _quick_read(text: str) -> nbformat.NotebookNode | None:
    """The notebook as nbformat reads it, when it passes nbformat's schema (schema.py)."""
    try:
        nb = loads_v4(text)
    except ValueError:
        return None
    return nb if quick_valid(nb) else None


def _reads_the_same(text: str, nb: nbformat.NotebookNode) -> bool:
    """Whether the quick reader gives what nbformat gave (validation may repair cell ids)."""
    try:
        return loads_v4(text) == nb
    except ValueError:
        return False


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"
