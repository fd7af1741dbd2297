"""Installed nbdev indexes in both shapes: URL strings (nbdev-pytorch, nbdev-stdlib) and the
(url, source path) pairs of libraries built with nbdev 2 and 3. Each test installs a real
distribution (a package and its dist-info with an `nbdev` entry point) on sys.path."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from docgen.api.external import nbdev_indexes
from docgen.linkcheck.inventories import load_inventories


def _install(where: Path, package: str, modidx: str) -> None:
    (where / package).mkdir(parents=True)
    (where / package / "__init__.py").write_text("")
    (where / package / "_modidx.py").write_text(modidx)
    info = where / f"{package}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[nbdev]\n{package} = {package}._modidx:d\n")


@pytest.fixture
def site_packages(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("nbdevlib")]:
        del sys.modules[name]


PAIRS = """d = { 'settings': {'lib_path': 'nbdevlib_pairs'},
  'syms': { 'nbdevlib_pairs.core': {
      'nbdevlib_pairs.core.greet': ('https://example.org/pairs/core.html#greet',
                                    'nbdevlib_pairs/core.py')}}}
"""


def test_pair_entries_give_their_url(site_packages):
    _install(site_packages, "nbdevlib_pairs", PAIRS)
    indexes, problems = nbdev_indexes()
    assert indexes["nbdevlib_pairs"] == [
        ("nbdevlib_pairs.core.greet", "https://example.org/pairs/core.html#greet")
    ]
    assert not [p for p in problems if "nbdevlib" in p]
    found, _ = load_inventories()
    ours = [inv for inv in found if inv.name == "nbdevlib_pairs"]
    assert ours and ours[0].pages["https://example.org/pairs/core.html"] == {"greet"}


def test_an_unknown_shape_is_skipped_with_its_package_named(site_packages):
    _install(site_packages, "nbdevlib_odd", "d = {'syms': {'m': {'m.f': 42}}}\n")
    indexes, problems = nbdev_indexes()
    assert "nbdevlib_odd" not in indexes
    assert any("nbdevlib_odd" in p and "skipped" in p for p in problems)
    load_inventories()  # does not raise


RELATIVE = """d = { 'settings': {'doc_host': 'https://someone.github.io', 'doc_baseurl': '/rel'},
  'syms': { 'nbdevlib_rel.shell': {
      'nbdevlib_rel.shell.Shell': ('shell.html#shell', 'nbdevlib_rel/shell.py')}}}
"""


def test_relative_urls_are_on_the_index_own_site(site_packages):
    """nbdev 3 writes URLs relative to `doc_host` + `doc_baseurl` (execnb, fastgit)."""
    _install(site_packages, "nbdevlib_rel", RELATIVE)
    indexes, _ = nbdev_indexes()
    assert indexes["nbdevlib_rel"] == [
        ("nbdevlib_rel.shell.Shell", "https://someone.github.io/rel/shell.html#shell")
    ]
    found, _ = load_inventories()
    ours = [inv for inv in found if inv.name == "nbdevlib_rel"]
    assert ours and ours[0].base == "https://someone.github.io/rel/"


def test_a_real_nbdev_built_library(tmp_path):
    """fastcore (built with nbdev 3, installed by the test extra) indexes its names as
    `(url, source path)` pairs relative to its `doc_host`: read, checked, and linked."""
    from docgen.linkcheck.offline import check_site

    pytest.importorskip("fastcore")
    indexes, problems = nbdev_indexes()
    assert not [p for p in problems if "fastcore" in p]
    urls = dict(indexes["fastcore"])
    assert urls["fastcore.basics.patch"] == "https://fastcore.fast.ai/basics.html#patch"
    (tmp_path / "index.html").write_text(
        '<a href="https://fastcore.fast.ai/basics.html#patch">ok</a>\n'
        '<a href="https://fastcore.fast.ai/basics.html#no-such-name-xyz">bad anchor</a>\n'
    )
    report = check_site(tmp_path)  # the crash of #12: a pair where a URL was expected
    assert [(r.lineno, r.status) for r in report.results] == [(1, "working"), (2, "broken")]
