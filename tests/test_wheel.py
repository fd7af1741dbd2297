"""The built wheel carries the default theme: a site builds from an installed wheel alone."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, write_notebook


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(REPO),
        ],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = dist.glob("docgen_nb-*.whl")
    return found


def test_wheel_contains_the_templates(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for name in [
        "docgen/templates/base.html.jinja2",
        "docgen/templates/page.html.jinja2",
        "docgen/templates/404.html.jinja2",
        "docgen/templates/static/docgen.css",
        "docgen/templates/static/docgen.js",
        "docgen/templates/serve/livereload.js",
    ]:
        assert name in names


@pytest.mark.kernel
def test_site_builds_from_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(purelib)  # installing a pure wheel is unpacking it into site-packages
    # The dependencies come from the test environment, after the fresh venv's own packages,
    # so `docgen` itself can only be the wheel's copy.
    (Path(purelib) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    project = tmp_path / "project"
    write_notebook(project / "doc_nbs" / "index.ipynb", "md:# From the wheel", "print(6 * 7)")
    where = subprocess.run(
        [str(python), "-c", "import docgen; print(docgen.__file__)"],
        cwd=project,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert where.startswith(str(venv))
    result = subprocess.run(
        [str(python), "-m", "docgen", "build"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    page = (project / "site" / "index.html").read_text()
    assert "From the wheel" in page and "42\n</pre>" in page
    assert (project / "site" / "_static" / "docgen.css").is_file()


def test_wheel_has_its_own_distribution_name(wheel: Path) -> None:
    # `docgen` on the package index is an unrelated project; the distribution is docgen-nb
    # while the import package and the command stay `docgen`.
    with zipfile.ZipFile(wheel) as zf:
        (metadata,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        text = zf.read(metadata).decode()
        entry_points = zf.read(metadata.replace("METADATA", "entry_points.txt")).decode()
    assert "\nName: docgen-nb\n" in text
    assert "docgen = docgen.commands.main:main" in entry_points
