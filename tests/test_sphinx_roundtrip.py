"""Other projects link into a docgen site: Sphinx reads its objects.inv, and intersphinx
resolves references into it from a real (tiny) Sphinx project, all offline.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from linksite import build_linkdemo_site, linkdemo_importable

inventory = pytest.importorskip("sphinx.util.inventory")

CONF = """\
extensions = ["sphinx.ext.intersphinx"]
project = "uses-linkdemo"
intersphinx_mapping = {{"linkdemo": ({site!r}, None)}}
intersphinx_disabled_reftypes = []
nitpicky = True
"""

INDEX_RST = """\
Uses linkdemo
=============

The class :py:class:`linkdemo.core.Widget`, its method :py:meth:`linkdemo.core.Widget.grow`,
its property :py:attr:`linkdemo.core.Widget.area`, the function
:py:func:`linkdemo.extra.helper`, the page :doc:`linkdemo:index` and the section
:ref:`linkdemo:index#usage`.
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with linkdemo_importable():
        return build_linkdemo_site(tmp_path_factory.mktemp("linkdemo")).out


def test_sphinx_reads_objects_inv(site: Path) -> None:
    data = (site / "objects.inv").read_bytes()
    inv = inventory.InventoryFile.loads(data, uri="https://example.org/linkdemo/")
    entries = getattr(inv, "data", inv)  # Sphinx 8.2+ wraps the mapping
    base = "https://example.org/linkdemo/"

    def uri(kind: str, name: str) -> str:
        item = entries[kind][name]
        return item.uri if hasattr(item, "uri") else item[2]

    assert uri("py:class", "linkdemo.core.Widget") == base + "index.html#linkdemo.core.Widget"
    assert uri("py:method", "linkdemo.core.Widget.grow") == (
        base + "index.html#linkdemo.core.Widget.grow"
    )
    assert uri("py:function", "linkdemo.core.make_widget") == (
        base + "api/linkdemo.core.html#linkdemo.core.make_widget"
    )
    assert uri("py:property", "linkdemo.core.Widget.area").endswith("#linkdemo.core.Widget.area")
    assert uri("py:module", "linkdemo.extra") == base + "api/linkdemo.extra.html"
    assert uri("std:doc", "index") == base + "index.html"
    assert uri("std:label", "index#usage") == base + "index.html#usage"


def test_intersphinx_resolves_references_into_the_site(site: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(CONF.format(site=str(site)))
    (src / "index.rst").write_text(INDEX_RST)
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "-q", "-E", str(src), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    html = (out / "index.html").read_text()
    for target in (
        "index.html#linkdemo.core.Widget",
        "index.html#linkdemo.core.Widget.grow",
        "api/linkdemo.core.html#linkdemo.core.Widget.area",
        "api/linkdemo.extra.html#linkdemo.extra.helper",
        "index.html#usage",
    ):
        assert f'href="{site}/{target}"' in html, target
