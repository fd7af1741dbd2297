"""The output folder never holds the user's files: refusals, the marker, the lock, the swap.

Every data-loss test takes a digest of the whole project before and after, to show that
nothing was lost.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_docgen, snapshot, write_notebook
from nbformat.v4 import new_code_cell, new_output

from docgen.commands.main import main
from docgen.config import load_config
from docgen.errors import BuildFailed, DocgenError, Interrupted, UsageError
from docgen.notebooks.discover import SITE_MARKER, discover_notebooks
from docgen.pipeline import build
from docgen.site import outdir
from docgen.site.outdir import join_site_files, site_lock, swap_in
from docgen.site.write import write_site_atomically


def tree_digest(folder: Path) -> str:
    """Every file, folder and link under `folder` (names, bytes, link targets), hashed."""
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            h.update(f"L {rel} -> {os.readlink(path)}\n".encode())
        elif path.is_dir():
            h.update(f"D {rel}\n".encode())
        else:
            h.update(f"F {rel} ".encode() + path.read_bytes() + b"\n")
    return h.hexdigest()


def project(root: Path, config: str = "") -> Path:
    """A small project: a git folder, a config file and two notebooks with stored outputs."""
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / "pyproject.toml").write_text(f'[project]\nname = "demo"\n\n[tool.docgen]\n{config}')
    printed = new_code_cell("print('stored')", execution_count=1)
    printed.outputs = [new_output("stream", name="stdout", text="stored\n")]
    write_notebook(root / "doc_nbs" / "index.ipynb", "md:# Home", printed)
    write_notebook(root / "doc_nbs" / "guide" / "01_usage.ipynb", "md:# Usage", printed)
    return root


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".new-" in p.name or ".old-" in p.name)


# --- out that holds what it must not -------------------------------------------------------


@pytest.mark.parametrize(
    "out, holds",
    [
        (".", "project root"),
        ("..", "project root"),
        ("doc_nbs", "notebooks folder"),
        ("doc_nbs/..", "project root"),
        (".docgen_cache", "cache folder"),
    ],
)
def test_out_holding_the_project_is_refused_by_build_and_clean(
    tmp_path: Path, out: str, holds: str
) -> None:
    root = project(tmp_path / "proj", f'out = "{out}"\n')
    (tmp_path / "neighbour.txt").write_text("keep me")
    before = tree_digest(tmp_path)
    for command in ("build", "clean"):
        args = ("build", "--no-exec") if command == "build" else ("clean",)
        result = run_docgen(*args, cwd=root)
        assert result.returncode == 2, result.stderr
        out_path = (root / out).resolve()
        assert f"the output folder {out_path} " in result.stderr and holds in result.stderr
        assert "Traceback" not in result.stderr
        assert tree_digest(tmp_path) == before


def test_cli_out_above_the_project_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    before = tree_digest(tmp_path)
    result = run_docgen("build", "--no-exec", "--out", "..", cwd=root)
    assert result.returncode == 2
    assert f"{tmp_path} contains the project root" in result.stderr and str(root) in result.stderr
    assert tree_digest(tmp_path) == before


@pytest.mark.parametrize("how", ["cli", "config"])
def test_out_given_as_a_symlink_to_the_project_is_refused_naming_both(
    tmp_path: Path, how: str
) -> None:
    root = project(tmp_path / "proj")
    (tmp_path / "link").symlink_to(root)
    if how == "config":
        with open(root / "pyproject.toml", "a") as f:
            f.write(f'out = "{tmp_path / "link"}"\n')
    args = ("--out", "../link") if how == "cli" else ()
    before = tree_digest(tmp_path)
    commands = [("build", "--no-exec", *args)] + [("clean",)] * (how == "config")
    for command in commands:
        result = run_docgen(*command, cwd=root)
        assert result.returncode == 2, result.stderr
        assert f"the output folder {tmp_path / 'link'} (which resolves to {root}) is the " in (
            result.stderr
        )
    assert tree_digest(tmp_path) == before


@pytest.mark.parametrize("out", ["pyproject.toml/site", "pyproject.toml/a/b"])
def test_out_below_a_file_says_it_is_a_file(tmp_path: Path, out: str) -> None:
    root = project(tmp_path / "proj")
    before = tree_digest(tmp_path)
    result = run_docgen("build", "--no-exec", "--out", out, cwd=root)
    assert result.returncode == 2, result.stderr
    assert f"{root / 'pyproject.toml'} is a file, not a folder" in result.stderr
    assert "File exists" not in result.stderr and "Traceback" not in result.stderr
    assert tree_digest(tmp_path) == before


def test_a_cache_folder_that_is_a_file_is_named(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    (root / ".docgen_cache").write_text("not a folder")
    before = tree_digest(tmp_path)
    result = run_docgen("build", cwd=root)
    assert result.returncode == 2, result.stderr
    assert f"{root / '.docgen_cache'} is a file, not a folder; rename or remove it" in (
        result.stderr
    )
    assert tree_digest(tmp_path) == before


def test_out_contains_the_config_file_folder(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    (root / "docs").mkdir()
    (root / "docs" / "docgen.toml").write_text('nbs = "../doc_nbs"\nout = "."\n')
    before = tree_digest(tmp_path)
    result = run_docgen("build", "--no-exec", "--config", "docs/docgen.toml", cwd=root)
    assert result.returncode == 2 and f"is the project root {root / 'docs'}" in result.stderr
    assert tree_digest(tmp_path) == before


def test_home_and_filesystem_root_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    root = project(home / "proj")
    (home / ".bashrc").write_text("# mine")
    monkeypatch.setenv("HOME", str(home))
    before = tree_digest(tmp_path)
    result = run_docgen("build", "--no-exec", "--out", str(home), cwd=root)
    assert result.returncode == 2 and f"is your home folder {home}" in result.stderr
    result = run_docgen("build", "--no-exec", "--out", "/", cwd=root)
    assert result.returncode == 2 and "the output folder / is a filesystem root" in result.stderr
    assert tree_digest(tmp_path) == before


def test_out_naming_an_existing_file_leaves_it_untouched(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    (root / "notes.txt").write_text("my notes")
    before = tree_digest(tmp_path)
    result = run_docgen("build", "--no-exec", "--out", "notes.txt", cwd=root)
    assert result.returncode == 2 and "is an existing file, not a folder" in result.stderr
    assert tree_digest(tmp_path) == before


def test_out_naming_a_device_leaves_it_untouched(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    device = tmp_path / "null"
    try:  # a copy of /dev/null's node, so that a regression cannot replace the real one
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        os.mkfifo(device)  # not a regular file either
    before = os.stat(device)
    result = run_docgen("build", "--no-exec", "--out", device, cwd=root)
    assert result.returncode == 2 and f"{device} is an existing file" in result.stderr
    after = os.stat(device)
    assert (after.st_mode, after.st_rdev, after.st_ino) == (
        before.st_mode,
        before.st_rdev,
        before.st_ino,
    )
    assert leftovers(tmp_path) == []


def test_folder_docgen_did_not_write_is_neither_replaced_nor_cleaned(tmp_path: Path) -> None:
    root = project(tmp_path / "proj", 'out = "public"\n')
    (root / "public").mkdir()
    (root / "public" / "thesis.tex").write_text("years of work")
    before = tree_digest(tmp_path)
    result = run_docgen("build", "--no-exec", cwd=root)
    assert result.returncode == 2
    assert f"{root / 'public'} is not empty and is not a site docgen wrote" in result.stderr
    assert "--out" in result.stderr and "remove this one yourself" in result.stderr
    result = run_docgen("clean", cwd=root)
    assert result.returncode == 2 and "will not replace or delete it" in result.stderr
    assert tree_digest(tmp_path) == before


def test_empty_folder_is_used_and_the_site_gets_the_marker(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    (root / "site").mkdir()
    assert run_docgen("build", "--no-exec", cwd=root).returncode == 0
    assert (root / "site" / SITE_MARKER).read_text().startswith("This folder is a documentation")
    assert (root / "site" / "guide" / "usage.html").is_file()
    result = run_docgen("build", "--no-exec", cwd=root)  # its own site: replaced
    assert result.returncode == 0, result.stderr
    result = run_docgen("clean", cwd=root)
    assert result.returncode == 0 and f"removed {root / 'site'}" in result.stdout
    assert not (root / "site").exists() and leftovers(root) == []
    assert run_docgen("clean", cwd=root).returncode == 0  # nothing left to remove


def test_clean_never_follows_symlinks_out_of_the_site(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    assert run_docgen("build", "--no-exec", cwd=root).returncode == 0
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "data.csv").write_text("1,2,3")
    (root / "site" / "link").symlink_to(precious)
    (root / "site" / "file-link").symlink_to(precious / "data.csv")
    before = tree_digest(precious)
    assert run_docgen("clean", cwd=root).returncode == 0
    assert not (root / "site").exists()
    assert tree_digest(precious) == before and (precious / "data.csv").read_text() == "1,2,3"


# --- the site built inside itself ------------------------------------------------------------


def page_list(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))


def test_out_inside_the_notebooks_is_never_an_input(tmp_path: Path) -> None:
    root = project(tmp_path / "proj", 'out = "doc_nbs/site"\n')
    pages = []
    for _ in range(3):
        result = run_docgen("build", "--no-exec", cwd=root)
        assert result.returncode == 0, result.stderr
        pages.append(page_list(root / "doc_nbs" / "site"))
    assert pages[0] == pages[1] == pages[2]
    assert not any(p.startswith("site/") for p in pages[2]), pages[2]


def test_nbs_dot_with_the_default_out(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write_notebook(root / "index.ipynb", "md:# Home")
    (root / "pyproject.toml").write_text('[tool.docgen]\nnbs = "."\n')
    for _ in range(3):
        result = run_docgen("build", "--no-exec", cwd=root)
        assert result.returncode == 0, result.stderr
    assert page_list(root / "site") == ["404.html", "index.html"]


def test_discovery_skips_output_cache_hidden_checkpoint_and_old_site_folders(
    tmp_path: Path,
) -> None:
    nbs = tmp_path
    write_notebook(nbs / "index.ipynb", "md:# Home")
    for folder in ("out", ".docgen_cache/x", ".hidden", "sub/.ipynb_checkpoints", "old_site"):
        write_notebook(nbs / folder / "copy.ipynb", "md:# A copy")
    (nbs / "old_site" / SITE_MARKER).write_text("a site docgen wrote earlier")
    write_notebook(nbs / "sub" / "real.ipynb", "md:# Real")
    found = discover_notebooks(nbs, exclude=[nbs / "out", nbs / ".docgen_cache"])
    assert [s.rel.as_posix() for s in found] == ["index.ipynb", "sub/real.ipynb"]


# --- generated names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, generated", [("404.ipynb", "404.html"), ("9_404.ipynb", "404.html")]
)
def test_notebook_whose_page_is_a_generated_file_is_an_error(
    tmp_path: Path, name: str, generated: str
) -> None:
    root = project(tmp_path / "proj")
    assert run_docgen("build", "--no-exec", cwd=root).returncode == 0
    site = snapshot(root / "site")
    write_notebook(root / "doc_nbs" / name, "md:# My own page")
    result = run_docgen("build", "--no-exec", cwd=root)
    assert result.returncode == 1
    assert f"{root / 'doc_nbs' / name} would be {generated}, which docgen writes itself" in (
        result.stderr
    )
    assert snapshot(root / "site") == site


@pytest.mark.kernel
def test_notebook_named_like_the_timing_report_is_an_error(tmp_path: Path) -> None:
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Home", "1 + 1")
    write_notebook(tmp_path / "doc_nbs" / "_timings.ipynb", "md:# Mine")
    (tmp_path / "pyproject.toml").write_text('[tool.docgen]\ntimings = "publish"\n')
    result = run_docgen("build", cwd=tmp_path)
    assert result.returncode == 1
    assert "_timings.ipynb would be _timings.html, which docgen writes itself" in result.stderr
    assert not (tmp_path / "site").exists()
    # by default the report goes to the cache folder, and the name is the notebook's
    (tmp_path / "pyproject.toml").write_text("[tool.docgen]\n")
    result = run_docgen("build", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Mine" in (tmp_path / "site" / "_timings.html").read_text()


def test_every_generated_file_is_protected_by_the_file_map() -> None:
    own = {"new-report.json": b"page", "index.html": b"page"}
    owners = {"new-report.json": "the page of a.ipynb", "index.html": "the page of index.ipynb"}
    with pytest.raises(BuildFailed, match="a.ipynb would be new-report.json, which docgen"):
        join_site_files(own, owners, {"new-report.json": b"generated"})
    with pytest.raises(BuildFailed, match="index.html, but docgen's own index.html/x needs"):
        join_site_files(own, owners, {"index.html/x": b"generated"})


def test_notebook_next_to_a_folder_named_like_its_page(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    write_notebook(root / "doc_nbs" / "foo.ipynb", "md:# Foo")
    write_notebook(root / "doc_nbs" / "foo.html" / "bar.ipynb", "md:# Bar")
    result = run_docgen("build", "--no-exec", cwd=root)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (
        f"the page of {root / 'doc_nbs' / 'foo.ipynb'} would be the file foo.html, but the page "
        f"of {root / 'doc_nbs' / 'foo.html' / 'bar.ipynb'} needs a folder of that name"
    ) in result.stderr
    assert not (root / "site").exists() and leftovers(root) == []


# --- one build at a time ---------------------------------------------------------------------


def test_concurrent_builds_wait_for_each_other(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    for i in range(6):
        write_notebook(root / "doc_nbs" / f"page{i}.ipynb", f"md:# Page {i}\n\ntext {i}")
    assert run_docgen("build", "--no-exec", cwd=root).returncode == 0
    whole = snapshot(root / "site")
    command = [sys.executable, "-m", "docgen", "build", "--no-exec"]
    for _ in range(10):
        builds = [
            subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(4)
        ]
        for p in builds:
            _, err = p.communicate(timeout=120)
            message = err.decode()
            assert p.returncode == 0, message
            assert message == "" or message.startswith("waiting for another docgen build"), message
        assert snapshot(root / "site") == whole
        assert leftovers(root) == []


def test_no_wait_exits_2_naming_the_lock_and_its_holder(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    config = load_config(cwd=root)
    before = tree_digest(root)
    with site_lock(config.out):
        held = tree_digest(root)
        for command in ("build", "clean"):
            args = ("build", "--no-exec") if command == "build" else ("clean",)
            result = run_docgen(*args, "--no-wait", cwd=root)
            assert result.returncode == 2
            assert f"another docgen build or clean of the site {root / 'site'} is running" in (
                result.stderr
            )
            assert f"process {os.getpid()}" in result.stderr
            assert str(root / ".site.lock") in result.stderr
            assert tree_digest(root) == held
    assert not (root / "site").exists() and before != held  # only the lock file was added


def test_a_second_build_says_it_waits_then_proceeds(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    with site_lock(load_config(cwd=root).out):
        p = subprocess.Popen(
            [sys.executable, "-m", "docgen", "build", "--no-exec"],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert p.stderr is not None
        line = p.stderr.readline()
        assert line.startswith("waiting for another docgen build or clean of the site")
        assert f"process {os.getpid()}" in line
        time.sleep(0.5)
        assert p.poll() is None and not (root / "site").exists()
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert (root / "site" / "index.html").is_file()


def test_two_projects_sharing_one_out_wait_for_each_other(tmp_path: Path) -> None:
    shared = tmp_path / "shared-site"
    first = project(tmp_path / "one", f'out = "{shared}"\n')
    second = project(tmp_path / "two", f'out = "{shared}"\n')
    with site_lock(load_config(cwd=first).out):
        result = run_docgen("build", "--no-exec", "--no-wait", cwd=second)
        assert result.returncode == 2, result.stderr
        assert str(tmp_path / ".shared-site.lock") in result.stderr
        assert not shared.exists()
    assert run_docgen("build", "--no-exec", "--no-wait", cwd=second).returncode == 0
    # The lock lives beside the site, not in either project.
    for root in (first, second):  # (the build session may keep its files in .docgen_cache)
        assert not list(root.rglob("*.lock"))


def test_stale_swap_folders_are_removed_by_the_next_build(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    for name in (".site.old-abc12_yz", ".site.new-x_9k0m2p"):  # tempfile.mkdtemp's names
        (root / name / "sub").mkdir(parents=True)
        (root / name / "sub" / "page.html").write_text("half a site")
        (root / name / SITE_MARKER).write_bytes(outdir.MARKER_TEXT)
    (root / ".site.new-empty000").mkdir()  # made, killed before the marker was written
    (root / ".site.backup").mkdir()  # not docgen's naming: left alone
    assert run_docgen("build", "--no-exec", cwd=root).returncode == 0
    assert leftovers(root) == [] and (root / ".site.backup").is_dir()


def test_user_folders_named_like_swap_folders_survive_build_and_clean(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    names = [".site.old-mybackup", ".site.new-12345678", ".site.old-before-upgrade"]
    for name in names:
        (root / name).mkdir()
        (root / name / "notes.txt").write_text("mine")
    before = {name: tree_digest(root / name) for name in names}
    assert run_docgen("build", "--no-exec", cwd=root).returncode == 0
    assert run_docgen("clean", cwd=root).returncode == 0
    assert {name: tree_digest(root / name) for name in names} == before


def test_a_half_written_site_holds_the_marker_from_its_first_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    seen: list[list[str]] = []
    real_write = Path.write_bytes

    def write_bytes(self: Path, data: bytes) -> int:
        if self.parent.name.startswith(".site.new-"):
            seen.append(sorted(p.name for p in self.parent.iterdir()))
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    write_site_atomically(out, {"a.html": b"a", "b.html": b"b"})
    assert seen[0] == [] and all(SITE_MARKER in names for names in seen[1:])
    assert seen[1:], seen


# --- a signal during the swap ----------------------------------------------------------------


def _sigterm_while_removing_the_old_site(monkeypatch: pytest.MonkeyPatch) -> None:
    real_rmtree = shutil.rmtree

    def rmtree(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if ".old-" in str(path):
            os.kill(os.getpid(), signal.SIGTERM)
        real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(outdir.shutil, "rmtree", rmtree)


def test_signal_during_the_swap_finishes_it_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    write_site_atomically(out, {"index.html": b"old"})
    new = tmp_path / "new"
    new.mkdir()
    (new / "index.html").write_bytes(b"new")
    (new / SITE_MARKER).write_bytes(b"")

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        _sigterm_while_removing_the_old_site(monkeypatch)
        with pytest.raises(Interrupted) as raised:
            swap_in(new, out)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert raised.value.done == f"the new site was written to {out}"
    assert (out / "index.html").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_cli_reports_a_build_interrupted_after_the_swap_truthfully(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path / "proj")
    monkeypatch.chdir(root)
    assert main(["build", "--no-exec"]) == 0
    (root / "doc_nbs" / "new.ipynb").write_text((root / "doc_nbs" / "index.ipynb").read_text())
    _sigterm_while_removing_the_old_site(monkeypatch)
    assert main(["build", "--no-exec"]) == 128 + signal.SIGTERM
    err = capsys.readouterr().err
    assert f"interrupted; the new site was written to {root / 'site'}" in err
    assert "previous site is unchanged" not in err
    assert (root / "site" / "new.html").is_file() and leftovers(root) == []


# --- writing fails ---------------------------------------------------------------------------


def test_full_disk_keeps_the_previous_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path / "proj")
    config = load_config(cwd=root, overrides={"execute": False})
    build(config, log=lambda _: None)
    before = snapshot(root / "site")
    real_write = Path.write_bytes
    written = []

    def write_bytes(self: Path, data: bytes) -> int:
        if ".site.new-" in str(self) and len(written) >= 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        written.append(self)
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    with pytest.raises(DocgenError, match="No space left on device") as raised:
        build(config, log=lambda _: None)
    assert raised.value.exit_code == 1
    assert str(root) in str(raised.value) and "the previous site is unchanged" in str(raised.value)
    assert snapshot(root / "site") == before and leftovers(root) == []


def test_read_only_parent_keeps_the_previous_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path / "proj")
    config = load_config(cwd=root, overrides={"execute": False})
    build(config, log=lambda _: None)
    before = snapshot(root / "site")

    def mkdtemp(prefix: str = "", dir: str | None = None, **_: object) -> str:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dir))

    monkeypatch.setattr(outdir.tempfile, "mkdtemp", mkdtemp)
    with pytest.raises(DocgenError, match=f"Read-only file system \\({root}\\)"):
        build(config, log=lambda _: None)
    assert snapshot(root / "site") == before and leftovers(root) == []


def test_failed_rename_puts_the_previous_site_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path / "proj")
    config = load_config(cwd=root, overrides={"execute": False})
    build(config, log=lambda _: None)
    before = snapshot(root / "site")
    real_rename = Path.rename

    def rename(self: Path, target: Path) -> Path:
        if ".site.new-" in self.name:
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), str(self))
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(DocgenError, match="cannot put the new site in place"):
        build(config, log=lambda _: None)
    assert snapshot(root / "site") == before and leftovers(root) == []


@pytest.mark.parametrize(
    "args",
    [
        ("--out", "."),  # the config's folder itself
        ("--out", "pyproject.toml"),  # a file
        ("--nbs", "missing"),  # nothing to build
    ],
)
def test_a_refused_build_writes_nothing_into_the_config_folder(
    tmp_path: Path, args: tuple[str, str]
) -> None:
    config = tmp_path / "conf"
    config.mkdir()
    (config / "pyproject.toml").write_text("[tool.docgen]\n")
    write_notebook(tmp_path / "work" / "doc_nbs" / "index.ipynb", "md:# Home")
    cwd = tmp_path / "work" if args[0] == "--nbs" else config
    before = tree_digest(tmp_path)
    result = run_docgen("build", "--no-exec", "--config", config / "pyproject.toml", *args, cwd=cwd)
    assert result.returncode in (1, 2) and result.stderr.startswith("error:"), result.stderr
    assert tree_digest(tmp_path) == before


def test_refusals_happen_before_anything_runs(tmp_path: Path) -> None:
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "open('ran', 'w').write('x')")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "mine.txt").write_text("mine")
    with pytest.raises(UsageError, match="not a site docgen wrote"):
        build(load_config(cwd=tmp_path), log=lambda _: None)
    assert not (tmp_path / "doc_nbs" / "ran").exists()
    assert not (tmp_path / ".docgen_cache").exists()
