"""The zygotes `docgen serve` keeps between builds (serve/kernels.py): real zygote processes,
each build's run in an event loop of its own, as the pool runs them."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

from docgen.execute.launcher import Zygote, Zygotes
from docgen.serve.kernels import KeptZygotes

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux")

KERNEL = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


def zygote_of(zygotes: Zygotes, env: dict[str, str], cwd: Path) -> Zygote:
    """The zygote a kernel would be forked from, asked in a fresh event loop (a build's)."""
    found = asyncio.run(zygotes.zygote_for(KERNEL, env, str(cwd)))
    assert found is not None
    return found[0]


def test_a_kept_zygote_serves_the_next_build_until_what_it_imported_changes(
    tmp_path: Path,
) -> None:
    module = tmp_path / "kept_mod.py"
    module.write_text("VALUE = 1\n")
    time.sleep(0.1)  # an edit just before the zygote starts counts as one after it
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    warnings: list[str] = []
    kept = KeptZygotes()
    try:
        first = kept(["kept_mod"], [], warnings.append, True)
        zygote = zygote_of(first, env, tmp_path)
        # The next build, in a loop of its own: the same zygote, still running.
        again = kept(["kept_mod"], [], warnings.append, True)
        assert again is first and zygote_of(again, env, tmp_path) is zygote
        assert zygote.process.poll() is None
        # A first-cell import it has not imported: a new one, which imports it too.
        json_too = kept(["kept_mod"], ["json"], warnings.append, True)
        assert json_too is not first and zygote.process.poll() is not None
        zygote = zygote_of(json_too, env, tmp_path)
        assert kept(["kept_mod"], [], warnings.append, True) is json_too  # json still there
        # An edit to a module it imported.
        time.sleep(0.1)
        module.write_text("VALUE = 2\n")
        edited = kept(["kept_mod"], [], warnings.append, True)
        assert edited is not json_too and zygote.process.poll() is not None
        zygote = zygote_of(edited, env, tmp_path)
        # `preload` changed in the config.
        assert kept([], [], warnings.append, True) is not edited
        assert warnings == []
    finally:
        kept.close()
    assert zygote.process.poll() is not None


def test_a_dead_zygote_is_replaced(tmp_path: Path) -> None:
    kept = KeptZygotes()
    try:
        first = kept([], [], print, True)
        zygote = zygote_of(first, dict(os.environ), tmp_path)
        zygote.kill()
        second = kept([], [], print, True)
        assert second is not first
        assert zygote_of(second, dict(os.environ), tmp_path).process.poll() is None
    finally:
        kept.close()
