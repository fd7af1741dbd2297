"""nbdev projects build unchanged: settings from [tool.nbdev] or settings.ini, notebooks run
as `nbdev-test` runs them. Each test writes its own small nbdev-style project."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from conftest import write_notebook

from docgen.config import load_config
from docgen.pipeline import build

PYPROJECT = """\
[project]
name = "tiny-lib"
description = "A tiny library"
[project.urls]
Repository = "https://github.com/someone/tiny-lib"
[tool.nbdev]
nbs_path = "notebooks"
branch = "trunk"
"""


def nbdev_project(root: Path, pyproject: str = PYPROJECT) -> Path:
    (root / "pyproject.toml").write_text(pyproject)
    (root / "tiny_lib").mkdir(parents=True)
    (root / "tiny_lib" / "__init__.py").write_text("")
    return root


@pytest.fixture
def importable(tmp_path, monkeypatch):
    """`tmp_path` on the import path, as `python -m docgen` run in the project root has it;
    its `tiny_lib` forgotten afterwards, so that each test imports its own."""
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m == "tiny_lib" or m.startswith("tiny_lib.")]:
        del sys.modules[name]


def test_defaults_come_from_tool_nbdev(tmp_path):
    config = load_config(cwd=nbdev_project(tmp_path))
    assert config.nbs == (tmp_path / "notebooks").resolve()
    assert config.title == "tiny-lib"
    assert config.packages == ["tiny_lib"]
    assert config.repo == "https://github.com/someone/tiny-lib"
    assert config.branch == "trunk"
    assert config.nbdev and config.skip_flags == ("notest",)


def test_tool_docgen_overrides_nbdev_defaults(tmp_path):
    nbdev_project(tmp_path, PYPROJECT + '[tool.docgen]\nnbs = "docs"\ntitle = "Tiny"\n')
    config = load_config(cwd=tmp_path)
    assert config.nbs == (tmp_path / "docs").resolve()
    assert config.title == "Tiny"
    assert config.packages == ["tiny_lib"]  # not overridden: still nbdev's


def test_settings_ini_of_nbdev_2(tmp_path):
    (tmp_path / "settings.ini").write_text(
        "[DEFAULT]\nlib_name = old-lib\nuser = someone\nrepo = old-lib\nbranch = master\n"
        "tst_flags = notest|slow\n"
    )
    (tmp_path / "old_lib").mkdir()
    config = load_config(cwd=tmp_path)
    assert config.nbs == (tmp_path / "nbs").resolve()
    assert (config.title, config.packages) == ("old-lib", ["old_lib"])
    assert (config.repo, config.branch) == ("https://github.com/someone/old-lib", "master")
    assert config.skip_flags == ("notest", "slow")


def test_not_nbdev_without_its_settings(tmp_path):
    (tmp_path / "settings.ini").write_text("[DEFAULT]\ncolour = blue\n")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    config = load_config(cwd=tmp_path)
    assert not config.nbdev and config.nbs == (tmp_path / "doc_nbs").resolve()


def test_notebooks_run_as_nbdev_test_runs_them(tmp_path, importable):
    """IN_TEST is set, `tst_flags` cells and `eval: false` cells don't run, and a
    `skip_exec` notebook is rendered from its stored outputs; no [tool.docgen] at all."""
    root = nbdev_project(tmp_path)
    nbs = root / "notebooks"
    (root / "tiny_lib" / "core.py").write_text("ANSWER = 42\n")
    write_notebook(
        nbs / "00_core.ipynb",
        "md:# Core",
        "from tiny_lib.core import ANSWER\nprint('answer', ANSWER)",
        "import os\nprint('IN_TEST=' + os.environ.get('IN_TEST', 'unset'))",
        "#| notest\nraise RuntimeError('a tst_flags cell ran')",
        "#| eval: false\nraise RuntimeError('an eval: false cell ran')",
    )
    write_notebook(
        nbs / "01_remote.ipynb",
        "md:# Remote\n\n- skip_exec: true",
        "raise RuntimeError('a skip_exec notebook ran')",
    )
    # Any of the raising cells, run, would fail the build.
    report = build(load_config(cwd=root), log=lambda _: None)
    assert report.executed == 1  # core; remote is skipped whole
    core = (root / "site" / "core.html").read_text()
    assert "IN_TEST=1" in core and "answer 42" in core


def test_underscore_notebooks_are_not_pages(tmp_path):
    from docgen.notebooks.discover import discover_notebooks

    write_notebook(tmp_path / "index.ipynb", "md:# Home")
    write_notebook(tmp_path / "_scratch.ipynb", "md:# Scratch")
    assert [s.url for s in discover_notebooks(tmp_path, private=True)] == ["index.html"]
    assert len(discover_notebooks(tmp_path)) == 2  # other projects keep their `_` pages


def test_title_cell_gives_title_subtitle_and_no_front_matter(tmp_path, importable):
    from docgen.site.search import page_sections

    root = nbdev_project(tmp_path)
    write_notebook(
        root / "notebooks" / "01_core.ipynb",
        "md:# Core functions\n\n> Small helpers for `tiny_lib`\n\n- skip_exec: true\n\nMore prose.",
    )
    report = build(load_config(cwd=root, overrides={"execute": False}), log=lambda _: None)
    page = report.pages[0]
    assert page.title == "Core functions"
    assert '<div class="page-description"><p>Small helpers for' in page.body
    assert "<blockquote" not in page.body and "skip_exec" not in page.body
    assert "More prose." in page.body
    first = page_sections(page.body)[0]  # the title's section: search shows it first
    assert first.heading == "Core functions"
    assert first.text.startswith("Small helpers for tiny_lib")


def test_excluded_notebooks_show_their_stored_outputs_and_say_so(tmp_path):
    from nbformat.v4 import new_code_cell, new_output

    (tmp_path / "pyproject.toml").write_text('[tool.docgen.execute]\nexclude = ["remote/*"]\n')
    cell = new_code_cell("raise RuntimeError('needs the network')")
    cell.outputs = [new_output("stream", name="stdout", text="STORED-OUTPUT\n")]
    write_notebook(tmp_path / "doc_nbs" / "remote" / "fetch.ipynb", "md:# Fetch", cell)
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Home", "print('RAN-' + 'HERE')")
    report = build(load_config(cwd=tmp_path), log=lambda _: None)
    assert report.executed == 1
    assert "RAN-HERE" in (tmp_path / "site" / "index.html").read_text()
    page = (tmp_path / "site" / "remote" / "fetch.html").read_text()
    assert "STORED-OUTPUT" in page
    assert "Not executed in this build (excluded" in page


CORE_PY = """
def greet(name: str,  # who to greet
          loud: bool = False,  # shout it?
         ) -> str:
    "Say hello to `name`."
    return "HELLO" if loud else f"hello {name}"

class Greeter:
    "Greets people."

def shout(text):
    "Upper-case `text`."
    return text.upper()

def _private(): pass

def patch(f):  # fastcore's @patch, as far as these tests need it
    setattr(next(iter(f.__annotations__.values())), f.__name__, f)
    return f

@patch
def wave(self: Greeter):
    'Wave at someone.'
"""


def test_exported_definitions_get_entries_as_nbdev_makes_them(tmp_path, importable):
    from nbformat.v4 import new_code_cell, new_output

    root = nbdev_project(tmp_path)
    (root / "tiny_lib" / "core.py").write_text(CORE_PY)  # as nbdev-export wrote it
    (root / "tiny_lib" / "extra.py").write_text("def helper():\n    'Help.'\n")
    nbs = root / "notebooks"
    # The output nbdev's own show_doc stored: markdown, which docgen renders as its entry.
    nbdev_show_doc = new_code_cell("show_doc(shout)")
    nbdev_show_doc.outputs = [
        new_output(
            "display_data",
            data={"text/markdown": "---\n\n### shout\n\n>      shout (text)\n\n*Upper-case*"},
        )
    ]
    write_notebook(
        nbs / "00_core.ipynb",
        "md:# Core\n\n> Greetings",
        "#| default_exp core",
        "#| hide\nfrom docgen import show_doc",
        "#| export\n" + CORE_PY.split("def shout")[0],
        "#| export\ndef shout(text):\n    'Upper-case `text`.'\n    return text.upper()",
        nbdev_show_doc,
        "#| export\ndef _private(): pass",
        "#| export\n@patch\ndef wave(self: Greeter):\n    'Wave at someone.'",
        "#| export extra\ndef helper():\n    'Help.'",
        "md:Use `greet` and `Greeter`.",
    )
    write_notebook(nbs / "index.ipynb", "md:# Home\n\nSee `greet`.")
    report = build(load_config(cwd=root, overrides={"execute": False}), log=lambda _: None)
    assert not [w for w in report.warnings if "exported to" in w]
    core = (root / "site" / "core.html").read_text()
    body = core[core.index("<main") :]
    names = ("tiny_lib.core.greet", "tiny_lib.core.Greeter", "tiny_lib.core.Greeter.wave")
    for name in (*names, "tiny_lib.extra.helper"):
        assert f'id="{name}"' in body
    assert body.count('data-name="tiny_lib.core.shout"') == 1
    assert 'id="tiny_lib.core.shout"' in body and "<h3>shout" not in body
    assert "_private" not in body
    assert "def greet" not in body  # the exported code is not shown, as on nbdev's sites
    table = body[body.index('id="tiny_lib.core.greet"') : body.index('id="tiny_lib.core.Greeter"')]
    assert "api-params" in table and "who to greet" in table and "shout it?" in table
    # Backticks on the defining page link to the entries, as on nbdev's sites.
    assert re.search(r'<a [^>]*href="[^"]*#tiny_lib\.core\.greet"[^>]*><code>greet</code>', body)
    home = (root / "site" / "index.html").read_text()
    assert 'href="core.html#tiny_lib.core.greet"' in home


def test_links_may_name_a_notebook_without_its_number(tmp_path):
    write_notebook(tmp_path / "doc_nbs" / "api" / "16_migrate.ipynb", "md:# Migrate")
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Home\n\n[m](api/migrate.ipynb#x)")
    report = build(load_config(cwd=tmp_path, overrides={"execute": False}), log=lambda _: None)
    assert not report.warnings
    assert 'href="api/migrate.html#x"' in (tmp_path / "site" / "index.html").read_text()


def test_a_comment_ending_in_a_question_mark_is_not_ipython_help():
    from docgen.api.resolve import notebook_imports

    source = "def f(x,  # which one?\n      y):\n    return x\n"
    assert notebook_imports([source])[1] == {"f"}
