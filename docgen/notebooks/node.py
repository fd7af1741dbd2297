"""Notebooks as nbformat 4 reads them, without importing nbformat.

`import nbformat` imports jsonschema, whose format checkers can take most of a second to
load (rfc3987-syntax builds a grammar at import time). A notebook whose exact bytes were
validated before needs none of that: `loads_v4` gives the same `NotebookNode` data that
`nbformat.reader.reads` gives for it (lines joined, transient keys dropped).
"""

from __future__ import annotations

import json
import sys
from typing import Any


def skip_iri_grammar() -> None:
    """Keep jsonschema from importing rfc3987-syntax in this process.

    jsonschema imports it, when installed (jupyter_server's event schemas bring it in), only to
    check the `iri` string format, and it compiles a grammar for seconds at import. Notebook
    schemas use no such format. jsonschema skips the checker when the import fails, which a
    `None` in `sys.modules` makes it do. Called by docgen's own processes only (the command and
    its child processes), never by `docgen.build` inside a user's program.
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


class NotebookNode(dict):
    """A dict whose keys read as attributes, as nbformat's `NotebookNode`."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __delattr__(self, key: str) -> None:
        try:
            del self[key]
        except KeyError:
            raise AttributeError(key) from None


def from_dict(value: Any) -> Any:
    """JSON data with every dict made a `NotebookNode`, recursively."""
    if isinstance(value, dict):
        return NotebookNode((k, from_dict(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return [from_dict(v) for v in value]
    return value


def _is_json_mime(mime: str) -> bool:
    return mime == "application/json" or (
        mime.startswith("application/") and mime.endswith("+json")
    )


def _rejoin_bundle(data: dict) -> None:
    for key, value in list(data.items()):
        if (
            not _is_json_mime(key)
            and isinstance(value, list)
            and all(isinstance(line, str) for line in value)
        ):
            data[key] = "".join(value)


def loads_v4(text: str) -> Any:
    """An nbformat 4 notebook's JSON as nbformat's v4 reader gives it (not validated).

    Raises `ValueError` for JSON that is not an nbformat 4 notebook of the usual shape.
    """
    nb: Any = json.loads(text, object_hook=NotebookNode)
    if not isinstance(nb, dict) or nb.get("nbformat") != 4:
        raise ValueError("not an nbformat 4 notebook")
    if not isinstance(nb.get("cells"), list) or not isinstance(nb.get("metadata"), dict):
        raise ValueError("no cells or metadata")
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or not isinstance(cell.get("metadata", {}), dict):
            raise ValueError("a cell is not a table")
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
        for attachment in cell.get("attachments", {}).values():
            _rejoin_bundle(attachment)
        if cell.get("cell_type") == "code":
            for output in cell.get("outputs", []):
                kind = output.get("output_type", "")
                if kind in ("execute_result", "display_data"):
                    _rejoin_bundle(output.get("data", {}))
                elif kind and isinstance(output.get("text", ""), list):
                    output["text"] = "".join(output["text"])
    for key in ("orig_nbformat", "orig_nbformat_minor", "signature"):
        nb["metadata"].pop(key, None)
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("trusted", None)
    return nb


_SPLIT_MIMES = ("application/javascript", "image/svg+xml")


def _split_bundle(data: dict) -> None:
    for key, value in list(data.items()):
        if isinstance(value, str) and (key.startswith("text/") or key in _SPLIT_MIMES):
            data[key] = value.splitlines(True)


def _ascii_bytes(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON data")


def dumps_v4(nb: dict) -> str:
    """A notebook as nbformat's v4 writer writes it (multi-line text split into lines)."""
    nb = json.loads(json.dumps(nb, default=_ascii_bytes))  # a copy, plain dicts and lists
    for cell in nb.get("cells", []):
        if isinstance(cell.get("source"), str):
            cell["source"] = cell["source"].splitlines(True)
        for attachment in cell.get("attachments", {}).values():
            _split_bundle(attachment)
        if cell.get("cell_type") == "code":
            for output in cell.get("outputs", []):
                if output.get("output_type") in ("execute_result", "display_data"):
                    _split_bundle(output.get("data", {}))
                elif output.get("output_type") == "stream" and isinstance(output.get("text"), str):
                    output["text"] = output["text"].splitlines(True)
        cell.get("metadata", {}).pop("trusted", None)
    for key in ("orig_nbformat", "orig_nbformat_minor", "signature"):
        nb.get("metadata", {}).pop(key, None)
    return json.dumps(nb, indent=1, sort_keys=True, separators=(",", ": "), ensure_ascii=False)
