"""Checking an nbformat 4 notebook against nbformat's own schema, without importing nbformat.

`import nbformat` imports jsonschema, whose format checkers can take most of a second to
load (see node.py). The schema files ship inside the nbformat package; they are found with
`importlib.util.find_spec`, which imports nothing, and compiled with `fastjsonschema` (a
dependency of nbformat) once per process. Only a verdict comes from here: the message for
an invalid notebook is nbformat's own (read.py asks nbformat's validator for it).
"""

from __future__ import annotations

import functools
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


@functools.cache
def _schema_folder() -> Path | None:
    spec = importlib.util.find_spec("nbformat")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "v4"


@functools.cache
def _validator(minor: int) -> Callable[[Any], Any] | None:
    """The compiled check of the schema nbformat uses for v4.`minor`, or None (no such file)."""
    folder = _schema_folder()
    if folder is None:
        return None
    path = folder / f"nbformat.v4.{minor}.schema.json"
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    import fastjsonschema

    return fastjsonschema.compile(schema)  # type: ignore[no-any-return]


def quick_valid(nb: dict[str, Any]) -> bool:
    """True when `nb` (as read by node.loads_v4) is a valid nbformat 4 notebook that
    nbformat's validator would accept unchanged; False means "ask nbformat".

    nbformat validates v4.5+ notebooks after giving cells without an id, or with one
    another cell has, a new id: such a notebook is not accepted here, so that the slow
    path reads it exactly as nbformat does.
    """
    minor = nb.get("nbformat_minor")
    if nb.get("nbformat") != 4 or not isinstance(minor, int) or isinstance(minor, bool):
        return False
    if minor >= 5:
        ids = [cell.get("id") if isinstance(cell, dict) else None for cell in nb["cells"]]
        if None in ids or len(set(map(repr, ids))) != len(ids):
            return False
    validate = _validator(minor)
    if validate is None:  # a notebook from a newer nbformat: its relaxed rules are nbformat's
        return False
    import fastjsonschema

    try:
        validate(nb)
    except fastjsonschema.JsonSchemaException:
        return False
    return True
