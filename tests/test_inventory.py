"""docgen.api.inventory: objects.inv version 2, read and written, checked against Sphinx."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docgen.api.inventory import InventoryItem, read_inventory, write_inventory

HEADER = (
    b"# Sphinx inventory version 2\n"
    b"# Project: demo\n"
    b"# Version: 1.0\n"
    b"# The remainder of this file is compressed using zlib.\n"
)

ITEMS = [
    InventoryItem("demo.core.add", "py", "function", 1, "core.html#demo.core.add", "demo.core.add"),
    InventoryItem("demo.core", "py", "module", 0, "core.html#module-demo.core", "demo.core"),
    InventoryItem(
        "getting started", "std", "label", -1, "intro.html#getting-started", "Getting started"
    ),
    InventoryItem("intro", "std", "doc", -1, "intro.html", "Introduction"),
]


def by_key(items):
    return sorted(items, key=lambda i: (i.domain, i.role, i.name))


def test_round_trip():
    data = write_inventory("demo", "1.0", ITEMS)
    assert data.startswith(HEADER)
    assert by_key(read_inventory(data)) == by_key(ITEMS)


def test_display_names_are_written_on_one_line():
    item = InventoryItem("a", "std", "label", -1, "x.html#a", "  Two\n lines ")
    (read,) = read_inventory(write_inventory("demo", "1", [item]))
    assert read.dispname == "Two lines"
    empty = InventoryItem("a", "std", "label", -1, "x.html#a", "")
    assert read_inventory(write_inventory("demo", "1", [empty]))[0].dispname == "a"


def test_write_uses_shorthands_and_is_deterministic():
    data = write_inventory("demo", "1.0", ITEMS)
    body = zlib.decompress(data[len(HEADER) :]).decode()
    assert "demo.core.add py:function 1 core.html#$ -\n" in body
    assert "getting started std:label -1 intro.html#getting-started Getting started\n" in body
    assert write_inventory("demo", "1.0", reversed(ITEMS)) == data


def test_read_hand_written_bytes_with_base_url():
    body = (
        "torch.nn.Conv2d py:class 1 generated/torch.nn.Conv2d.html#$ -\n"
        "broadcasting semantics std:label -1 notes/broadcasting.html#broadcasting-semantics "
        "Broadcasting semantics\n"
        "not a valid line\n"
        "index std:doc -1 index.html PyTorch documentation\n"
    )
    items = read_inventory(HEADER + zlib.compress(body.encode()), "https://pytorch.org/docs/stable")
    assert items == [
        InventoryItem(
            "torch.nn.Conv2d",
            "py",
            "class",
            1,
            "https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html#torch.nn.Conv2d",
            "torch.nn.Conv2d",
        ),
        InventoryItem(
            "broadcasting semantics",
            "std",
            "label",
            -1,
            "https://pytorch.org/docs/stable/notes/broadcasting.html#broadcasting-semantics",
            "Broadcasting semantics",
        ),
        InventoryItem(
            "index",
            "std",
            "doc",
            -1,
            "https://pytorch.org/docs/stable/index.html",
            "PyTorch documentation",
        ),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html>404</html>", "not a Sphinx inventory"),
        (
            b"# Sphinx inventory version 1\n# Project: x\n# Version: 1\nx mod x.html\n",
            "version 1 is not supported",
        ),
        (b"# Sphinx inventory version 3\n", "unsupported Sphinx inventory version '3'"),
        (HEADER[:60], "header must have 4 lines"),
        (HEADER + b"this is not zlib", "corrupt inventory"),
        (HEADER + zlib.compress(b"x py:f 1 a.html -\n")[:-4], "corrupt inventory"),
        (HEADER + zlib.compress(b"\xff\xfe py:f 1 a.html -\n"), "not UTF-8"),
    ],
)
def test_read_errors(data, message):
    with pytest.raises(ValueError, match=message):
        read_inventory(data)


@pytest.mark.parametrize(
    "item",
    [
        InventoryItem("a\nb", "py", "function", 1, "x.html", "a"),
        InventoryItem("a ", "py", "function", 1, "x.html", "a"),
        InventoryItem("a", "py:x", "function", 1, "x.html", "a"),
        InventoryItem("a", "py", "function", 1, "x y.html", "a"),
        InventoryItem("a", "py", "function", 1, "x.html#b$", "a"),
        InventoryItem("a", "py", "function", 1, "x.html", "-"),
    ],
)
def test_write_refuses_what_would_not_read_back(item):
    with pytest.raises(ValueError, match="can't"):
        write_inventory("demo", "1", [item])


# Names as they occur: dotted identifiers, and labels/terms of words separated by spaces.
word = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), blacklist_characters="\x85"),
    min_size=1,
    max_size=12,
)
names = st.lists(word, min_size=1, max_size=4).map(" ".join)
items = st.builds(
    InventoryItem,
    name=names,
    domain=st.sampled_from(["py", "std", "c", "cpp", "js"]),
    role=st.sampled_from(["function", "class", "label", "term", "doc"]),
    priority=st.integers(-1, 2),
    uri=st.sampled_from(["a.html#", "sub/b.html#x-", "c.html", ""]),
    dispname=st.one_of(st.just(""), names),
).map(
    lambda i: InventoryItem(
        i.name,
        i.domain,
        i.role,
        i.priority,
        i.uri + i.name.replace(" ", "-") if i.uri.endswith(("#", "-")) else i.uri,
        i.dispname or i.name,
    )
)


@settings(max_examples=300, deadline=None)
@given(st.lists(items, max_size=6, unique_by=lambda i: (i.domain, i.role, i.name)))
def test_round_trip_arbitrary_names(inv_items):
    try:
        data = write_inventory("demo", "1", inv_items)
    except ValueError:
        # Only what would read back as something else may be refused: a name with a
        # `word type 1 ...` look-alike inside, a display name that is a literal "-", or a
        # uri whose last character is a literal "$" (readers expand a final "$" to the name).
        assert any(
            len(i.name.split(" ")) >= 3
            or (i.dispname == "-" and i.name != "-")
            or (i.uri.endswith("$") and not i.uri.endswith(i.name))
            for i in inv_items
        )
        return
    assert by_key(read_inventory(data)) == by_key(inv_items)

    sphinx_inventory = pytest.importorskip("sphinx.util.inventory")
    inv = sphinx_inventory.InventoryFile.loads(data, uri="").data
    theirs = {
        (kind, name, entry.uri, name if entry.display_name == "-" else entry.display_name)
        for kind, entries in inv.items()
        for name, entry in entries.items()
    }
    ours = {(f"{i.domain}:{i.role}", i.name, i.uri, i.dispname) for i in inv_items}
    assert theirs == ours


@settings(max_examples=100, deadline=None)
@given(st.lists(items, max_size=6, unique_by=lambda i: (i.domain, i.role, i.name)))
def test_names_without_spaces_are_always_written(inv_items):
    plain = [i for i in inv_items if " " not in i.name]
    assert by_key(read_inventory(write_inventory("demo", "1", plain))) == by_key(plain)


def test_read_inventory_written_by_sphinx(tmp_path: Path):
    application = pytest.importorskip("sphinx.application")
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text("project = 'demo'\nversion = '1.0'\n")
    (src / "index.rst").write_text(
        "Demo\n====\n\n.. toctree::\n\n   api\n\n"
        ".. _getting started:\n\nGetting started\n---------------\n\n"
        "See :ref:`getting started`.\n"
    )
    (src / "api.rst").write_text(
        "API\n===\n\n.. py:module:: demo.core\n\n.. py:function:: add(a, b)\n\n   Add.\n\n"
        ".. glossary::\n\n   tensor core\n      A unit.\n"
    )
    app = application.Sphinx(
        str(src),
        str(src),
        str(tmp_path / "out"),
        str(tmp_path / "doctrees"),
        "html",
        status=None,
        warning=None,
        freshenv=True,
    )
    app.build()
    data = (tmp_path / "out" / "objects.inv").read_bytes()
    items = {(i.domain, i.role, i.name): i for i in read_inventory(data, "https://demo.org/")}
    assert items["py", "function", "demo.core.add"].uri == "https://demo.org/api.html#demo.core.add"
    assert items["py", "module", "demo.core"].uri == "https://demo.org/api.html#module-demo.core"
    assert items["std", "label", "getting started"].uri == (
        "https://demo.org/index.html#getting-started"
    )
    assert items["std", "label", "getting started"].dispname == "Getting started"
    assert items["std", "term", "tensor core"].uri.startswith("https://demo.org/api.html#term-")
    assert items["std", "doc", "api"].uri == "https://demo.org/api.html"
    # And what we write from it, Sphinx reads back the same.
    ours = write_inventory("demo", "1.0", items.values())
    inv = pytest.importorskip("sphinx.util.inventory").InventoryFile.loads(ours, uri="").data
    assert inv["py:function"]["demo.core.add"].uri == "https://demo.org/api.html#demo.core.add"
    assert len([n for entries in inv.values() for n in entries]) == len(items)
