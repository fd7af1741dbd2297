"""Reading a notebook as nbformat 4, or failing with the file and the reason."""

from __future__ import annotations

import copy
import hashlib
import json
import warnings
from collections.abc import Callable, MutableSet
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docgen.errors import DocgenError
from docgen.notebooks.node import loads_v4
from docgen.notebooks.schema import quick_valid

if TYPE_CHECKING:
    import nbformat


def read_notebook(
    path: Path,
    validated: MutableSet[str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> nbformat.NotebookNode:
    """Read a notebook as nbformat 4, converting older versions, or fail naming file and reason.

    A valid nbformat 4 notebook is read and checked against nbformat's schema without
    importing nbformat (whose import is slow, see node.py and schema.py); nbformat reads
    older formats, and says what is wrong with an invalid notebook. `validated` holds
    digests of notebook files known to be valid nbformat 4: such a file is not checked
    again; one validated here is added.
    A notebook that Jupyter opens but strict validation rejects is repaired in memory (see
    `_repair`), with a warning through `warn` naming the file and the fix.
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
        nb = _read_valid(text)
    except nbformat.ValidationError as e:
        try:
            with warnings.catch_warnings():  # nbformat's advice to normalize: done here
                warnings.simplefilter("ignore")
                repaired, fixes = _repair(data)
                if not fixes:
                    raise
                nb = _read_valid(json.dumps(repaired))
        except Exception:  # beyond these repairs: the original problem says best what is wrong
            raise DocgenError(f"{path}: is not a valid notebook: {_first_line(e.message)}") from e
        if warn is not None:
            warn(f"{path}: not a valid notebook as saved; built after {'; '.join(fixes)}")
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


def _read_valid(text: str) -> nbformat.NotebookNode:
    import nbformat

    nb = nbformat.convert(nbformat.reader.reads(text), 4)
    nbformat.validate(nb)  # once: nbformat.reads would validate too, and only log
    return nb


def _repair(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A copy of notebook `data` repaired as Jupyter and nbconvert would read it, where the
    schema rejects it, and what was done, in words (nothing: beyond these repairs)."""
    from nbformat.validator import normalize

    if data.get("nbformat") != 4 or not isinstance(data.get("cells"), list):
        return data, []
    data = copy.deepcopy(data)
    fixes = []
    cells = [c for c in data["cells"] if isinstance(c, dict)]
    minor = data.get("nbformat_minor", 0)
    if isinstance(minor, int) and minor < 5 and any("id" in c for c in cells):
        # Cell ids came with 4.5; tools that write them into older files are common.
        fixes.append(f"raising nbformat 4.{minor} to 4.5, as its cells have ids")
        data["nbformat_minor"] = 5
    if not isinstance(data.get("metadata"), dict):
        data["metadata"] = {}
        fixes.append("adding the missing notebook metadata")
    missing = 0
    for cell in cells:
        wanted: dict[str, Any] = {"metadata": {}, "source": ""}
        if cell.get("cell_type") == "code":
            wanted.update(outputs=[], execution_count=None)
        for key in [k for k in wanted if k not in cell]:
            cell[key] = copy.deepcopy(wanted[key])
            missing += 1
    if missing:
        fixes.append(f"adding {missing} missing cell field(s) (metadata, outputs, ...)")
    changes, data = normalize(data, strip_invalid_metadata=True)
    if changes:
        fixes.append(f"nbformat's normalisation ({changes} change(s): cell ids, metadata)")
    return data, fixes


def _reads_the_same(text: str, nb: nbformat.NotebookNode) -> bool:
    """Whether the quick reader gives what nbformat gave (validation may repair cell ids)."""
    try:
        return loads_v4(text) == nb
    except ValueError:
        return False


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"
