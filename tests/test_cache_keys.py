"""What the cache key sees beyond a notebook's own code: the project modules it imports
(found from its import statements, never imported) and the environment variables of
`env_keys`; and what it does not see: any other environment variable."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import write_notebook

from docgen.config import load_config
from docgen.execute.localimports import local_module_digests
from docgen.execute.stage import Machine
from docgen.pipeline import BuildReport, build

NO_GPU = Machine((), {"python": "test"})


def write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def digests(root: Path, *cells: str, nb_dir: Path | None = None) -> dict[str, str]:
    return local_module_digests(list(cells), nb_dir or root / "doc_nbs", root)


def test_a_module_beside_the_notebook_is_in_the_key_and_follows_its_content(
    tmp_path: Path,
) -> None:
    helper = write(tmp_path / "doc_nbs" / "helper.py", "VALUE = 1\n")
    first = digests(tmp_path, "import helper\nprint(helper.VALUE)")
    assert list(first) == ["doc_nbs/helper.py"]
    helper.write_text("VALUE = 2\n")
    assert digests(tmp_path, "import helper\nprint(helper.VALUE)") != first
    assert digests(tmp_path, "from helper import VALUE") == digests(tmp_path, "import helper")
    assert digests(tmp_path, "print('no imports')") == {}


def test_packages_of_the_project_count_with_all_their_files(tmp_path: Path) -> None:
    write(tmp_path / "mylib" / "__init__.py")
    write(tmp_path / "mylib" / "deep" / "__init__.py")
    write(tmp_path / "mylib" / "deep" / "x.py", "X = 1\n")
    write(tmp_path / "mylib" / "other.py", "")
    write(tmp_path / "mylib" / "__pycache__" / "stale.py", "")
    expected = [
        "mylib/__init__.py",
        "mylib/deep/__init__.py",
        "mylib/deep/x.py",
        "mylib/other.py",
    ]
    assert list(digests(tmp_path, "import mylib.deep.x")) == expected
    assert list(digests(tmp_path, "from mylib.deep import x")) == expected
    write(tmp_path / "src" / "srclib" / "__init__.py")
    assert list(digests(tmp_path, "import srclib")) == ["src/srclib/__init__.py"]


def test_relative_imports_run_and_transitive_imports(tmp_path: Path) -> None:
    nbs = tmp_path / "doc_nbs"
    write(nbs / "helper.py", "import helper2\nfrom .sibling import y\n")
    write(nbs / "helper2.py", "import json\n")
    write(nbs / "sibling.py", "")
    write(nbs / "script.py", "import scripted\n")
    write(tmp_path / "scripted.py", "")
    assert list(digests(tmp_path, "from . import helper")) == [
        "doc_nbs/helper.py",
        "doc_nbs/helper2.py",
        "doc_nbs/sibling.py",
    ]
    assert list(digests(tmp_path, "%run -i script.py\nx = 1")) == [
        "doc_nbs/script.py",
        "scripted.py",
    ]
    assert list(digests(tmp_path, "from .... import far_away")) == []


def test_installed_and_standard_modules_are_left_to_the_environment_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / ".venv" / "lib" / "python3" / "site-packages"
    write(site / "vendored.py")
    monkeypatch.syspath_prepend(str(site))
    assert digests(tmp_path, "import os, json, nbformat, vendored, not_installed_xyz") == {}


def test_a_project_module_python_finds_on_its_path_is_in_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An editable install of a package that lives in the project, not in site-packages."""
    write(tmp_path / "code" / "editable_pkg" / "__init__.py", "A = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path / "code"))
    assert list(digests(tmp_path, "import editable_pkg")) == ["code/editable_pkg/__init__.py"]
    assert "editable_pkg" not in sys.modules  # found, not imported


def test_magics_and_code_that_is_not_python_are_skipped(tmp_path: Path) -> None:
    write(tmp_path / "doc_nbs" / "helper.py")
    cells = ["%%bash\nimport helper", "!pip list\n%load_ext autoreload", "def (:"]
    assert digests(tmp_path, *cells) == {}
    assert list(digests(tmp_path, *cells, "#| hide\nimport helper")) == ["doc_nbs/helper.py"]


# --- with real kernels -------------------------------------------------------------------


def build_in(project: Path) -> tuple[BuildReport, str]:
    report = build(load_config(cwd=project), log=lambda _: None, machine=NO_GPU)
    return report, (project / "site" / "index.html").read_text()


@pytest.mark.kernel
def test_editing_an_imported_helper_runs_the_notebook_again(tmp_path: Path) -> None:
    nbs = tmp_path / "doc_nbs"
    write_notebook(nbs / "index.ipynb", "md:# Helper", "import helper\nprint(helper.VALUE)")
    write(nbs / "helper.py", "VALUE = 'first value'\n")
    report, html = build_in(tmp_path)
    assert report.executed == 1 and "first value" in html
    report, _ = build_in(tmp_path)
    assert (report.executed, report.cached) == (0, 1)
    write(nbs / "helper.py", "VALUE = 'the second value'\n")  # another size: no stale .pyc
    report, html = build_in(tmp_path)
    assert (report.executed, report.cached) == (1, 0)
    assert "the second value" in html and "first value" not in html


@pytest.mark.kernel
def test_env_keys_are_in_the_key_and_other_variables_are_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_notebook(
        tmp_path / "doc_nbs" / "index.ipynb",
        "md:# Env",
        "import os\nprint('declared', os.environ.get('DOCGEN_TEST_DECLARED'))\n"
        "print('other', os.environ.get('DOCGEN_TEST_OTHER'))",
    )
    write(
        tmp_path / "pyproject.toml",
        '[tool.docgen.execute]\nenv_keys = ["DOCGEN_TEST_DECLARED"]\n',
    )
    monkeypatch.setenv("DOCGEN_TEST_DECLARED", "alpha")
    monkeypatch.setenv("DOCGEN_TEST_OTHER", "one")
    report, html = build_in(tmp_path)
    assert report.executed == 1 and "declared alpha" in html and "other one" in html

    monkeypatch.setenv("DOCGEN_TEST_OTHER", "two")
    report, html = build_in(tmp_path)
    assert (report.executed, report.cached) == (0, 1)
    assert "other one" in html  # not in the key, as documented: the old outputs stay

    monkeypatch.setenv("DOCGEN_TEST_DECLARED", "beta")
    report, html = build_in(tmp_path)
    assert (report.executed, report.cached) == (1, 0)
    assert "declared beta" in html and "other two" in html

    monkeypatch.delenv("DOCGEN_TEST_DECLARED")
    report, html = build_in(tmp_path)
    assert report.executed == 1 and "declared None" in html


def test_a_documented_package_inside_the_project_is_left_to_the_notebooks_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit to it runs again only the notebooks that import it (their keys follow it);
    one outside the project is in every notebook's key, through the environment."""
    from docgen.execute.cache import environment_fingerprint

    inside, outside = tmp_path / "proj", tmp_path / "elsewhere"
    for folder, name in ((inside, "inpkg"), (outside, "outpkg")):
        (folder / name).mkdir(parents=True)
        (folder / name / "__init__.py").write_text("X = 1\n")
        monkeypatch.syspath_prepend(str(folder))
    fingerprint = environment_fingerprint([], ["inpkg", "outpkg"], inside)
    assert "source:outpkg" in fingerprint and "source:inpkg" not in fingerprint
    assert "source:inpkg" in environment_fingerprint([], ["inpkg"])  # no root: as before


def test_a_shell_command_named_after_a_project_package_counts_as_importing_it(
    tmp_path: Path,
) -> None:
    """`!mylib build` runs the project's package: an edit to it runs the notebook again."""
    write(tmp_path / "mylib" / "__init__.py", "X = 1\n")
    write(tmp_path / "mylib" / "__main__.py", "")
    files = ["mylib/__init__.py", "mylib/__main__.py"]
    assert list(digests(tmp_path, "!mylib build --out x")) == files
    assert list(digests(tmp_path, "!python -m mylib")) == files
    run = 'subprocess.run([sys.executable, "-m", "mylib", "build"])'
    assert list(digests(tmp_path, "import subprocess, sys\n" + run)) == files
    assert list(digests(tmp_path, "os.system('python3 -m mylib check')")) == files
    assert list(digests(tmp_path, "%%bash\ncd .. && mylib check | head")) == files
    write(tmp_path / "my_lib" / "__init__.py")
    assert list(digests(tmp_path, "!my-lib build")) == ["my_lib/__init__.py"]  # as scripts are
    for unrelated in ["!ls mylib", "x = 1 != 2  # mylib", "# !mylib\nprint(1)", "!pip list"]:
        assert digests(tmp_path, unrelated) == {}, unrelated
