"""Sphinx `objects.inv` files, version 2: read other projects' and write this site's.

The format: four header lines, then a zlib stream of lines
`name domain:role priority uri dispname`, where a uri ending in `$` stands for the uri
with the name in place of the `$`, and a dispname of `-` means "the same as the name".
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["InventoryItem", "read_inventory", "writable", "write_inventory"]

_HEADER = b"# Sphinx inventory version 2"
# Exactly as Sphinx parses a line: names may contain spaces (std:label, std:term), so the
# name is the shortest prefix followed by a `domain:role` field and an integer priority.
_LINE = re.compile(r"(.+?)\s+(\S+)\s+(-?\d+)\s+?(\S*)\s+(.*)")
# The usual line (a name without spaces, single spaces between fields) parses the same,
# faster: its name is the shortest a `_LINE` match could take, so the fields agree.
_SIMPLE_LINE = re.compile(r"(\S+) (\S+) (-?\d+) (\S*) (\S.*)")


@dataclass(frozen=True)
class InventoryItem:
    """One object of an inventory; `uri` is complete (no `$` shorthand)."""

    name: str
    domain: str
    role: str
    priority: int
    uri: str
    dispname: str


def _join(base_url: str, uri: str) -> str:
    if not base_url or re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", uri):
        return uri
    return (base_url if base_url.endswith("/") else base_url + "/") + uri


def read_inventory(data: bytes, base_url: str = "") -> list[InventoryItem]:
    """The items of a version 2 inventory, in file order, their uris joined to `base_url`.

    Raises ValueError, saying what is wrong, for anything that is not such an inventory.
    Lines that don't parse are skipped, as Sphinx's intersphinx skips them.
    """
    parts = data.split(b"\n", 4)
    first = parts[0].rstrip()
    if first != _HEADER:
        if first == b"# Sphinx inventory version 1":
            raise ValueError(
                "Sphinx inventory version 1 is not supported (only version 2, written by "
                "Sphinx 1.0 and later)"
            )
        if first.startswith(b"# Sphinx inventory version "):
            version = first[27:].decode("utf-8", "replace")
            raise ValueError(f"unsupported Sphinx inventory version {version!r} (want 2)")
        shown = first[:60].decode("utf-8", "replace")
        raise ValueError(
            f"not a Sphinx inventory: the first line is {shown!r}, not {_HEADER.decode()!r}"
        )
    if len(parts) < 5 or b"zlib" not in parts[3]:
        raise ValueError(
            "not a Sphinx inventory: the header must have 4 lines, the last saying "
            "'# The remainder of this file is compressed using zlib.'"
        )
    try:
        body = zlib.decompress(parts[4]).decode("utf-8")
    except zlib.error as e:
        raise ValueError(f"corrupt inventory: the compressed body can't be read ({e})") from e
    except UnicodeDecodeError as e:
        raise ValueError(f"corrupt inventory: the body is not UTF-8 ({e})") from e
    items = []
    for line in body.splitlines():
        line = line.rstrip()
        m = _SIMPLE_LINE.fullmatch(line) or _LINE.fullmatch(line)
        if not m:
            continue
        name, kind, priority, uri, dispname = m.groups()
        domain, colon, role = kind.partition(":")
        if not colon:
            continue
        if uri.endswith("$"):
            uri = uri[:-1] + name
        items.append(
            InventoryItem(
                name=name,
                domain=domain,
                role=role,
                priority=int(priority),
                uri=_join(base_url, uri),
                dispname=name if dispname == "-" else dispname,
            )
        )
    return items


def _line_of(item: InventoryItem) -> str | None:
    """The item's line, or None when no reader could read it back as the same item."""
    uri = item.uri
    if uri.endswith(item.name):
        uri = uri[: len(uri) - len(item.name)] + "$"
    elif uri.endswith("$"):
        return None
    dispname = " ".join(item.dispname.split()) or "-"  # a title may span lines
    dispname = "-" if dispname == item.name else dispname
    line = f"{item.name} {item.domain}:{item.role} {item.priority} {uri} {dispname}"
    # Some names can't be written so that they read back the same (a line break, a
    # trailing space, a name that itself looks like `x d:r 1 uri`).
    m = _LINE.fullmatch(line.rstrip())
    expected = (item.name, f"{item.domain}:{item.role}", str(item.priority), uri, dispname)
    if (
        not m
        or m.groups() != expected
        or ":" in item.domain
        or (item.dispname.strip() == "-" and item.name != "-")
    ):
        return None
    return line + "\n"


def writable(item: InventoryItem) -> bool:
    """Whether `item` can be written so that every reader reads it back the same."""
    return _line_of(item) is not None


def _entry_line(item: InventoryItem) -> str:
    line = _line_of(item)
    if line is None:
        if item.uri.endswith("$") and not item.uri.endswith(item.name):
            raise ValueError(f"inventory item {item.name!r}: a uri can't end in '$' ({item.uri!r})")
        # Refused here rather than written into an inventory that other tools misread.
        raise ValueError(
            f"inventory item {item.name!r} ({item.domain}:{item.role}) can't be written "
            "to objects.inv unambiguously: names must be single lines without leading or "
            "trailing spaces, domains and roles single words (a domain without ':'), uris "
            "can't contain spaces, and a display name can't be '-'"
        )
    return line


def write_inventory(project: str, version: str, items: Iterable[InventoryItem]) -> bytes:
    """A version 2 inventory of `items`, sorted by domain, role and name (deterministic).

    Display names are written on one line (runs of whitespace become one space; an empty
    one becomes the name). Raises ValueError for an item no reader could read back.
    """

    def one_line(text: str) -> str:
        return re.sub(r"\s+", " ", text).strip()

    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {one_line(project)}\n"
        f"# Version: {one_line(version)}\n"
        "# The remainder of this file is compressed using zlib.\n"
    ).encode()
    ordered = sorted(items, key=lambda i: (i.domain, i.role, i.name, i.priority, i.uri, i.dispname))
    body = "".join(_entry_line(item) for item in ordered).encode("utf-8")
    return header + zlib.compress(body, 9)
