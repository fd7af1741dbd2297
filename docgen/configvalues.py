"""One option's value, as `[tool.docgen]` or the command line gives it: checked against the
type of its default and its choices, and typed as `Config` holds it (paths, `nav` entries)."""

from __future__ import annotations

import dataclasses
import posixpath
import re
from pathlib import Path
from typing import Any

from docgen.errors import UsageError

NUL = "\0"
NUL_PROBLEM = "contains a NUL character, which no file name can hold"


def check_value(name: str, value: Any, f: dataclasses.Field[Any], where: str) -> Any:
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc,operator]
    minimum = f.metadata.get("minimum", 1)
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    elif isinstance(default, list):
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    elif isinstance(default, dict):
        ok = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    else:  # str and paths
        ok = isinstance(value, str)
    if not ok:
        positive = "a positive integer" if minimum > 0 else "an integer, 0 or more"
        expected = {
            bool: "true or false",
            int: positive,
            float: "a number of seconds, 0 or more",
            list: "a list of strings",
            dict: "a table of strings",
        }
        kind = next((t for t in expected if isinstance(default, t)), str)
        raise UsageError(
            f"{where}: option '{name}' must be {expected.get(kind, 'a string')}, not {value!r}"
        )
    choices = f.metadata.get("choices")
    if choices and value not in choices:
        raise UsageError(
            f"{where}: option '{name}' must be one of {', '.join(map(repr, choices))}, "
            f"not {value!r}"
        )
    if isinstance(default, Path) or (name == "templates" and value):
        problem = path_problem(value)
        if problem:
            raise UsageError(f"{where}: option '{name}' {problem}")
    if isinstance(default, dict) and any(NUL in v for v in value.values()):
        raise UsageError(f"{where}: option '{name}' has a value that {NUL_PROBLEM}")
    if isinstance(default, Path) or name == "templates":
        return Path(value) if value else None
    if name == "nav":
        return [nav_entry(entry, where) for entry in value]
    if isinstance(default, float):
        return float(value)
    return value


def path_problem(text: str, kind: str = "folder") -> str | None:
    """What is wrong with `text` as the path of a `kind`, worded to follow its name."""
    if not text.strip():
        return f"must name a {kind}, not an empty string"
    if NUL in text:
        return NUL_PROBLEM
    return None


def nav_entry(entry: str, where: str) -> str:
    """A `nav` entry as discovery spells notebook paths: 'x.ipynb' for './x.ipynb'."""
    if NUL in entry:
        raise UsageError(f"{where}: nav entry {entry!r} {NUL_PROBLEM}")
    if "\\" in entry:
        raise UsageError(
            f"{where}: nav entry {entry!r} contains a backslash; write paths relative to "
            f"`nbs` with forward slashes, e.g. {entry.replace(chr(92), '/')!r}"
        )
    path = posixpath.normpath(entry)
    if posixpath.isabs(path) or path == ".." or path.startswith("../"):
        raise UsageError(
            f"{where}: nav entry {entry!r} is outside the notebooks folder; nav lists "
            "notebooks by their path relative to `nbs`"
        )
    return path


def check_hosts(hosts: list[str], where: str) -> None:
    for host in hosts:
        if not re.fullmatch(r"(\*\.)?[^\s/:*@\[\]]+", host):
            raise UsageError(
                f"{where}: allow_remote wants host names such as 'cdn.example.org' or "
                f"'*.example.org', not {host!r}"
            )
