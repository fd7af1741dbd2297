"""The error contract: every failure is a message naming what and where, with exit code 1
(the docs have a problem) or 2 (the command cannot run); never a Python traceback."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import REPO, run_docgen, write_notebook

from docgen.commands.main import main
from docgen.config import load_config
from docgen.errors import BuildFailed, UsageError
from docgen.execute.gpus import detect_gpus

LONG = "x" * 300  # longer than any file name may be: the OS refuses it (ENAMETOOLONG)


def _docgen_with(patch: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """docgen run in a fresh interpreter after `patch`: the only way to meet a bug on purpose."""
    code = f"{patch}\nfrom docgen.commands.main import main\nraise SystemExit(main({list(args)!r}))"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def _project(tmp_path: Path) -> Path:
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Home", "1 + 1")
    return tmp_path


# --- catch-all --------------------------------------------------------------------------

BUG = (
    "import docgen.pipeline as p\n"
    "def boom(*a, **k): raise KeyError('surprise')\n"
    "p.build = boom"
)


def test_an_unexpected_exception_is_an_internal_error_with_a_hint(tmp_path: Path) -> None:
    result = _docgen_with(BUG, "build", "--no-exec", cwd=_project(tmp_path))
    assert result.returncode == 1
    assert "docgen: internal error: KeyError: 'surprise'" in result.stderr
    assert "--debug" in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = _docgen_with(BUG, "--debug", "build", "--no-exec", cwd=_project(tmp_path))
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "in boom" in result.stderr
    assert "docgen: internal error: KeyError: 'surprise'" in result.stderr


@pytest.mark.parametrize(
    "args",
    [("build", "--no-exec", "--nbs", LONG), ("check", LONG), ("build", "--config", LONG)],
)
def test_os_errors_name_the_path_and_the_reason(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = run_docgen(*args, cwd=_project(tmp_path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and LONG in result.stderr
    assert "File name too long" in result.stderr


def test_out_under_a_regular_file_names_it(tmp_path: Path) -> None:
    (_project(tmp_path) / "afile").write_text("keep")
    result = run_docgen("build", "--no-exec", "--out", "afile/site", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{tmp_path / 'afile'} is a file, not a folder" in result.stderr


def test_templates_option_naming_a_file_says_so(tmp_path: Path) -> None:
    (_project(tmp_path) / "theme").write_text("")
    (tmp_path / "pyproject.toml").write_text('[tool.docgen]\ntemplates = "theme"\n')
    result = run_docgen("build", "--no-exec", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"templates folder {tmp_path / 'theme'} is a file, not a folder" in result.stderr


def test_notebooks_folder_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("")
    (tmp_path / "pyproject.toml").write_text('[tool.docgen]\nnbs = "notes"\n')
    result = run_docgen("build", "--no-exec", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"notebook folder {tmp_path / 'notes'} is a file, not a folder" in result.stderr
    assert str(tmp_path / "pyproject.toml") in result.stderr and "--nbs" in result.stderr


# --- silent failures become warnings ----------------------------------------------------


def _fake_smi(folder: Path, script: str) -> dict[str, str]:
    smi = folder / "nvidia-smi"
    smi.write_text(f"#!/bin/sh\n{script}\n")
    smi.chmod(smi.stat().st_mode | stat.S_IXUSR)
    return {"PATH": str(folder)}


@pytest.mark.parametrize(
    "script, said",
    [
        ("echo 'NVIDIA-SMI has failed because it could not communicate' >&2; exit 9", "status 9"),
        ("echo 'No devices were found'", "printed no GPU list but: No devices were found"),
    ],
)
def test_a_failing_nvidia_smi_is_a_warning(tmp_path: Path, script: str, said: str) -> None:
    warnings: list[str] = []
    assert detect_gpus(_fake_smi(tmp_path, script), warn=warnings.append) == []
    assert len(warnings) == 1 and said in warnings[0]
    assert str(tmp_path / "nvidia-smi") in warnings[0] and "no GPU" in warnings[0]


def test_no_nvidia_smi_is_no_warning(tmp_path: Path) -> None:
    warnings: list[str] = []
    assert detect_gpus({"PATH": str(tmp_path)}, warn=warnings.append) == []
    assert warnings == []


def test_a_failing_nvidia_smi_reaches_the_build_warnings(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "bin").mkdir()
    _fake_smi(tmp_path / "bin", "exit 3")
    code = (
        "import os, sys\n"
        f"os.environ['PATH'] = {str(tmp_path / 'bin')!r} + os.pathsep + os.environ['PATH']\n"
        "from docgen.commands.main import main\nraise SystemExit(main(['build']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr
    assert "warning: " in result.stderr and "nvidia-smi exited with status 3" in result.stderr


def test_a_module_failing_to_import_while_linking_is_one_warning(tmp_path: Path) -> None:
    # The documented package imports; one of its private modules, which API discovery
    # skips, raises when a notebook's import is followed to link its names.
    (tmp_path / "userpkg").mkdir()
    (tmp_path / "userpkg" / "__init__.py").write_text('def f():\n    "F."\n')
    (tmp_path / "userpkg" / "_native.py").write_text("raise RuntimeError('needs a licence')\n")
    for name in ("a", "b"):
        write_notebook(
            tmp_path / "doc_nbs" / f"{name}.ipynb",
            "md:# Page " + name,
            "from userpkg import _native",
            "md:See `_native.load`.",
        )
    (tmp_path / "pyproject.toml").write_text('[tool.docgen]\npackages = ["userpkg"]\n')
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n"
        "from docgen.commands.main import main\nraise SystemExit(main(['build', '--no-exec']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr
    failures = [line for line in result.stderr.splitlines() if "cannot be imported" in line]
    assert len(failures) == 1, result.stderr
    assert "module 'userpkg._native'" in failures[0]
    assert "RuntimeError: needs a licence" in failures[0]
    assert str(tmp_path / "doc_nbs" / "a.ipynb") in failures[0]


# --- docgen check ---------------------------------------------------------------------


def test_check_reads_out_from_the_config(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.docgen]\nout = "public"\n')
    assert run_docgen("build", "--no-exec", cwd=tmp_path).returncode == 0
    result = run_docgen("check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("checked ") and "0 broken" in result.stdout
    other = tmp_path / "other.toml"
    other.write_text('[tool.docgen]\nout = "elsewhere"\n')
    result = run_docgen("check", "--config", "other.toml", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{tmp_path / 'elsewhere'} is not a folder" in result.stderr


def test_check_knows_the_configured_inventories_the_build_cached(tmp_path: Path) -> None:
    from docgen.api.external import cached_inventory
    from docgen.api.inventory import InventoryItem, write_inventory

    base = "https://docs.example.org/lib/"
    (tmp_path / "pyproject.toml").write_text(f'[tool.docgen.inventories]\nlib = "{base}"\n')
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        f'<a href="{base}api.html#lib.good">good</a> <a href="{base}api.html#lib.gone">gone</a>'
    )
    result = run_docgen("check", cwd=tmp_path)
    assert result.returncode == 0  # unknown: unchecked, and a warning says why
    assert "inventory 'lib'" in result.stderr and "not been downloaded" in result.stderr
    found = cached_inventory("lib", base, tmp_path)
    assert found is not None and found[0] == base
    found[1].parent.mkdir(parents=True)
    item = InventoryItem("lib.good", "py", "function", 1, "api.html#lib.good", "lib.good")
    found[1].write_bytes(write_inventory("lib", "1", [item]))
    result = run_docgen("check", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "api.html#lib.gone" in result.stdout and "1 broken" in result.stdout


def test_check_usage_errors_come_from_usage_error(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    with pytest.raises(UsageError, match="--inventory wants BASE_URL=FILE"):
        import argparse

        from docgen.commands.check import add_arguments, run

        parser = argparse.ArgumentParser()
        add_arguments(parser)
        run(parser.parse_args([str(site), "--inventory", "nonsense"]))
    assert main(["check", str(site), "--inventory", "nonsense"]) == 2


def test_check_is_a_command_of_the_parser() -> None:
    source = (REPO / "docgen" / "commands" / "main.py").read_text()
    assert "ImportError" not in source  # no command is dropped when its imports fail
    result = subprocess.run(
        [sys.executable, "-m", "docgen", "check", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "--inventory" in result.stdout


# --- kernel names -------------------------------------------------------------------------


def _with_kernel(path: Path, name: str) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.metadata.kernelspec = {"name": name, "display_name": name, "language": "python"}
    nbformat.write(nb, path)


def test_a_missing_kernel_is_reported_once_with_the_installed_ones(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        path = write_notebook(tmp_path / "doc_nbs" / f"{name}.ipynb", f"md:# {name}", "1")
        _with_kernel(path, "no-such-kernel")
    result = run_docgen("build", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("no-such-kernel' is not installed") == 1
    assert "The build failed: 1 problem." in result.stderr
    assert "kernelspec metadata of 3 notebooks" in result.stderr
    assert str(tmp_path / "doc_nbs" / "c.ipynb") in result.stderr
    assert "Installed kernels: 'python3'" in result.stderr


def test_a_missing_kernel_name_option_points_at_the_config(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.docgen]\nkernel_name = "pyhton3"\n')
    result = run_docgen("build", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "kernel_name = 'pyhton3'" in result.stderr
    assert str(tmp_path / "pyproject.toml") in result.stderr and "'python3'" in result.stderr


# --- one place for each execution option -------------------------------------------------


def test_execution_options_live_in_the_execute_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.docgen.execute]\nenabled = false\nworkers = 3\ntimeout = 7\n"
    )
    config = load_config(cwd=tmp_path)
    assert (config.execute, config.workers, config.timeout, config.deprecations) == (
        False,
        3,
        7,
        (),
    )


def test_old_spellings_work_with_one_deprecation_warning_each(tmp_path: Path) -> None:
    _project(tmp_path)
    toml = tmp_path / "pyproject.toml"
    toml.write_text("[tool.docgen]\nexecute = false\nworkers = 2\ntimeout = 9\n")
    config = load_config(cwd=tmp_path)
    assert (config.execute, config.workers, config.timeout) == (False, 2, 9)
    result = run_docgen("build", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "deprecated" in line]
    assert len(warnings) == 3 and all(str(toml) in w for w in warnings)
    assert any("`enabled = false` in [tool.docgen.execute]" in w for w in warnings)
    assert any("`timeout = 9` in [tool.docgen.execute]" in w for w in warnings)


def test_an_option_set_in_both_places_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.docgen]\ntimeout = 5\n[tool.docgen.execute]\ntimeout = 6\n"
    )
    with pytest.raises(UsageError, match="'timeout' is set both"):
        load_config(cwd=tmp_path)


def test_this_project_uses_the_current_spellings() -> None:
    assert load_config(cwd=REPO).deprecations == ()


# --- the Python API ------------------------------------------------------------------------


def test_python_api_raises_the_cli_errors(tmp_path: Path) -> None:
    import docgen

    with pytest.raises(UsageError, match="notebook folder"):
        docgen.build(docgen.load_config(cwd=tmp_path))
    with pytest.raises(UsageError, match="unknown option"):
        (tmp_path / "pyproject.toml").write_text("[tool.docgen]\nnope = 1\n")
        docgen.load_config(cwd=tmp_path)
    with pytest.raises(UsageError, match="is not a folder"):
        docgen.check(tmp_path / "nowhere")
    with pytest.raises(UsageError, match="--ignore"):
        (tmp_path / "site").mkdir()
        docgen.check(tmp_path / "site", ignore=["("])
    (tmp_path / "pyproject.toml").write_text("")
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Home", "md:![x](missing.png)")
    config = docgen.load_config(cwd=tmp_path, overrides={"execute": False, "strict": True})
    with pytest.raises(BuildFailed):
        docgen.build(config, log=lambda m: None)


def test_show_doc_loads_no_build_side_module() -> None:
    code = (
        "import sys, json\nfrom docgen import show_doc\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'docgen')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    loaded = json.loads(result.stdout)
    assert "docgen" in loaded
    assert [m for m in loaded if m != "docgen" and not m.startswith("docgen.runtime")] == []
