"""A build whose notebooks are all cached loads nothing of Jupyter's kernel side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import run_python, write_notebook

from docgen.execute.kernelspecs import installed_kernels, kernel_spec

KERNEL_SIDE = ("nbclient", "jupyter_client", "nbformat", "zmq")

SCRIPT = textwrap.dedent(
    """
    import sys
    from docgen import build, load_config
    report = build(load_config(), log=lambda message: None)
    print(report.executed, report.cached)
    print(*(name for name in {names!r} if name in sys.modules))
    """
)


def _build_in_a_fresh_interpreter(root: Path) -> tuple[str, str]:
    out = run_python(SCRIPT.format(names=KERNEL_SIDE), root, timeout=180)
    counts, loaded = (out.splitlines() + ["", ""])[:2]
    return counts, loaded


def test_a_build_of_cached_notebooks_imports_no_kernel_module(tmp_path: Path) -> None:
    nbs = tmp_path / "doc_nbs"
    write_notebook(nbs / "index.ipynb", "md:# Home\n\nText.", "print(6 * 7)")
    write_notebook(nbs / "other.ipynb", "md:# Other", "x = 1\nx + 1")
    (tmp_path / "pyproject.toml").write_text('[tool.docgen]\ntitle = "T"\n')

    counts, loaded = _build_in_a_fresh_interpreter(tmp_path)
    assert counts == "2 0" and "nbclient" in loaded.split()
    counts, loaded = _build_in_a_fresh_interpreter(tmp_path)
    assert counts == "0 2" and loaded == ""
    assert "42" in (tmp_path / "site" / "index.html").read_text()

    # A prose edit keeps the outputs and still starts nothing.
    page = nbs / "index.ipynb"
    page.write_text(page.read_text().replace("Text.", "New text."))
    counts, loaded = _build_in_a_fresh_interpreter(tmp_path)
    assert counts == "0 2" and loaded == ""
    html = (tmp_path / "site" / "index.html").read_text()
    assert "New text." in html and "42" in html


@pytest.mark.parametrize("name", [*installed_kernels(), "python3", "no-such-kernel"])
def test_the_quick_kernel_spec_is_jupyter_clients(name: str) -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        assert kernel_spec(name) is None
        return
    assert kernel_spec(name) == {"argv": spec.argv, "language": spec.language, "env": spec.env}


def test_the_kept_imports_of_a_notebook_are_those_its_cells_import(tmp_path: Path) -> None:
    from docgen.execute.cache import ExecutionCache
    from docgen.execute.localimports import cell_imports, local_module_digests

    root = tmp_path / "project"
    (root / "helper").mkdir(parents=True)
    (root / "helper" / "__init__.py").write_text("from . import part\n")
    (root / "helper" / "part.py").write_text("X = 1\n")
    (root / "tool.py").write_text("Y = 2\n")
    code = ["import json\nimport helper", "def f():\n    if True:\n        import tool", "%ls"]
    assert cell_imports(code) == [("helper", 0), ("json", 0), ("tool", 0)]

    cache = ExecutionCache(root / ".docgen_cache")
    assert cache.cell_imports(code) == cell_imports(code)
    assert not (root / ".docgen_cache").exists()  # written when the stage says so
    cache.keep_imports()
    (kept,) = (root / ".docgen_cache" / "imports").iterdir()
    expected = local_module_digests(code, root, root)
    assert set(expected) == {"helper/__init__.py", "helper/part.py", "tool.py"}
    assert local_module_digests(code, root, root, cache.cell_imports(code)) == expected

    kept.write_text('{"not": "a list"}')  # a damaged file is worked out again
    assert cache.cell_imports(code) == cell_imports(code)
    cache.keep_imports()
    assert json.loads(kept.read_text()) == [["helper", 0], ["json", 0], ["tool", 0]]


@pytest.mark.kernel
def test_the_command_never_imports_rfc3987_syntax(tmp_path: Path) -> None:
    """Installed beside JupyterLab, rfc3987-syntax takes seconds to import, and jsonschema
    imports it only for a string format notebooks do not use: neither the command nor the
    child process that writes the pages' scripts loads it, although both import nbformat."""
    fake = tmp_path / "fake"
    marker = tmp_path / "imported"
    (fake / "rfc3987_syntax").mkdir(parents=True)
    (fake / "rfc3987_syntax" / "__init__.py").write_text(
        f"open({str(marker)!r}, 'a').write('imported\\n')\n"
        "def is_valid_syntax(*args, **kwargs):\n    return True\n"
    )
    project = tmp_path / "project"
    (project / "pyproject.toml").parent.mkdir()
    (project / "pyproject.toml").write_text("[tool.docgen]\n")
    write_notebook(project / "doc_nbs" / "index.ipynb", "md:# Index", "print(1)")
    repo = Path(__file__).parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo), str(fake)])}
    done = subprocess.run(
        [sys.executable, "-m", "docgen", "build"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert (project / "site" / "index.py").is_file()  # the script-writing child ran
    assert not marker.exists()
    # The fake is importable: a plain import of jsonschema in the same environment loads it.
    check = [sys.executable, "-c", "import jsonschema._format"]
    subprocess.run(check, env=env, check=True, timeout=60)
    assert marker.read_text() == "imported\n"
