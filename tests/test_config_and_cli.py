"""Configuration and the command line: defaults, validation, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_docgen, snapshot, write_notebook

from docgen.commands.main import main
from docgen.config import Config, load_config
from docgen.errors import UsageError
from docgen.notebooks.discover import discover_notebooks


def test_defaults_without_pyproject(tmp_path: Path) -> None:
    config = load_config(cwd=tmp_path)
    assert config.nbs == tmp_path / "doc_nbs"
    assert config.out == tmp_path / "site"
    assert config.timeout == 600
    assert config.execute is True


def test_pyproject_table_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.docgen]\nnbs = "docs/nbs"\nout = "public"\ntimeout = 30\ntitle = "Mine"\n'
    )
    config = load_config(cwd=tmp_path)
    assert (config.nbs, config.out, config.timeout, config.title) == (
        tmp_path / "docs" / "nbs",
        tmp_path / "public",
        30,
        "Mine",
    )


def test_cli_overrides_win_and_are_relative_to_cwd(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.docgen]\nout = "public"\n')
    config = load_config(cwd=tmp_path, overrides={"out": Path("elsewhere"), "timeout": 5})
    assert config.out == tmp_path / "elsewhere" and config.timeout == 5


def test_unknown_key_gets_a_did_you_mean(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.docgen]\ntimout = 5\n")
    message = r"unknown option 'timout' .*did you mean 'timeout' in \[tool.docgen.execute\]\?"
    with pytest.raises(UsageError, match=message):
        load_config(cwd=tmp_path)


@pytest.mark.parametrize(
    "line, message",
    [
        ("timeout = -1", "option 'timeout' must be a positive integer"),
        ("timeout = 'long'", "option 'timeout' must be a positive integer"),
        ("execute = 'yes'", "option 'execute' must be true or false"),
        ("nav = 'index.ipynb'", "option 'nav' must be a list of strings"),
        ("title = 3", "option 'title' must be a string"),
    ],
)
def test_wrong_types_are_usage_errors(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.docgen]\n{line}\n")
    with pytest.raises(UsageError, match=message):
        load_config(cwd=tmp_path)


def test_every_option_has_help_text() -> None:
    assert all(f.metadata["help"] for f in Config.options().values())


def test_bad_config_exits_2_with_the_message(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.docgen]\nwokers = 2\n")
    result = run_docgen("build", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown option 'wokers'" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_toml_and_missing_config_file_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("[tool.docgen\n")
    result = run_docgen("build", "--config", "bad.toml", cwd=tmp_path)
    assert result.returncode == 2 and "bad.toml is not valid TOML" in result.stderr
    result = run_docgen("build", "--config", "missing.toml", cwd=tmp_path)
    assert result.returncode == 2 and "missing.toml does not exist" in result.stderr


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    assert run_docgen("build", "--no-such-flag", cwd=tmp_path).returncode == 2
    assert run_docgen("build", "--timeout", "0", cwd=tmp_path).returncode == 2


def test_config_file_option_and_custom_folders(tmp_path: Path) -> None:
    write_notebook(tmp_path / "notes" / "index.ipynb", "md:# From notes")
    (tmp_path / "docgen.toml").write_text('nbs = "notes"\nout = "html"\ntitle = "Notes site"\n')
    result = run_docgen("build", "--config", "docgen.toml", "--no-exec", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "html" / "index.html").read_text()
    assert "<title>From notes — Notes site</title>" in page


def test_missing_notebook_folder_is_a_usage_error_with_a_hint(tmp_path: Path) -> None:
    result = run_docgen("build", cwd=tmp_path)
    assert result.returncode == 2
    assert f"notebook folder {tmp_path / 'doc_nbs'} does not exist" in result.stderr
    assert "--nbs" in result.stderr and 'nbs = "..."' in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "text, message",
    [
        ("tool = 5\n", "`tool` must be a table"),
        ("[tool]\ndocgen = 5\n", "[tool.docgen] must be a table"),
        ('[tool.docgen]\nnbs = ""\n', "option 'nbs' must name a folder, not an empty string"),
        ('[tool.docgen]\nout = ""\n', "option 'out' must name a folder, not an empty string"),
        ('[tool.docgen]\nout = "  "\n', "option 'out' must name a folder, not an empty string"),
        ('[tool.docgen]\nnav = ["sub\\\\x.ipynb"]\n', "contains a backslash"),
        ('[tool.docgen]\nnav = ["../x.ipynb"]\n', "is outside the notebooks folder"),
        ('[tool.docgen]\nnav = ["sub/../../x.ipynb"]\n', "is outside the notebooks folder"),
        ('[tool.docgen]\nnav = ["/abs/x.ipynb"]\n', "is outside the notebooks folder"),
        ('[tool.docgen]\nout = "site\\u0000x"\n', "option 'out' contains a NUL character"),
        ('[tool.docgen]\nnbs = "doc\\u0000nbs"\n', "option 'nbs' contains a NUL character"),
        ('[tool.docgen]\ntemplates = "t\\u0000"\n', "option 'templates' contains a NUL"),
        ('[tool.docgen]\nnav = ["a\\u0000.ipynb"]\n', "contains a NUL character"),
        ('[tool.docgen.inventories]\nx = "inv\\u0000"\n', "option 'inventories' has a value"),
    ],
)
def test_config_mistakes_exit_2_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Home")
    (tmp_path / "pyproject.toml").write_text(text)
    before = snapshot(tmp_path)
    result = run_docgen("build", "--no-exec", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert str(tmp_path / "pyproject.toml") in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "args, message",
    [
        (["--nbs", ""], "argument --nbs: must name a folder, not an empty string"),
        (["--out", ""], "argument --out: must name a folder, not an empty string"),
        (["--config", ""], "argument --config: must name a file, not an empty string"),
        (["--out", "site\0x"], "argument --out: contains a NUL character"),
        (["--nbs", "doc\0nbs"], "argument --nbs: contains a NUL character"),
        (["--config", "py\0project.toml"], "argument --config: contains a NUL character"),
    ],
)
def test_empty_and_nul_path_arguments_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Home")
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    # In-process: a command line cannot carry a NUL byte, but a caller of main() can.
    with pytest.raises(SystemExit) as exited:
        main(["build", "--no-exec", *args])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
    assert snapshot(tmp_path) == before


def test_nul_in_a_path_given_to_load_config_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--out contains a NUL character"):
        load_config(cwd=tmp_path, overrides={"out": Path("site\0x")})
    with pytest.raises(UsageError, match="--config contains a NUL character"):
        load_config(Path("a\0.toml"), cwd=tmp_path)


def test_config_option_naming_a_folder_exits_2(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    result = run_docgen("build", "--config", "conf", cwd=tmp_path)
    assert result.returncode == 2
    assert f"config file {tmp_path / 'conf'} is a folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_nav_entries_are_normalised(tmp_path: Path) -> None:
    for name in ("index", "a", "b"):
        write_notebook(tmp_path / "doc_nbs" / f"{name}.ipynb", f"md:# {name}")
    write_notebook(tmp_path / "doc_nbs" / "sub" / "c.ipynb", "md:# c")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.docgen]\nnav = ["./sub/c.ipynb", "sub/../b.ipynb", "./index.ipynb"]\n'
    )
    config = load_config(cwd=tmp_path)
    assert config.nav == ["sub/c.ipynb", "b.ipynb", "index.ipynb"]
    sources = discover_notebooks(config.nbs, config.nav)
    assert [s.rel.as_posix() for s in sources] == [
        "sub/c.ipynb",
        "b.ipynb",
        "index.ipynb",
        "a.ipynb",
    ]


def test_nav_entry_naming_no_notebook_is_still_an_error(tmp_path: Path) -> None:
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Home")
    (tmp_path / "pyproject.toml").write_text('[tool.docgen]\nnav = ["./gone.ipynb"]\n')
    result = run_docgen("build", "--no-exec", cwd=tmp_path)
    assert (
        result.returncode == 1 and "nav lists gone.ipynb, which is not a notebook" in result.stderr
    )


def test_counts_are_in_the_singular_for_one(tmp_path: Path) -> None:
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Page\n\n![gone](nowhere.png)")
    done = run_docgen("build", "--no-exec", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "built 1 page into " in done.stdout and done.stdout.rstrip().endswith("(1 warning)")


def test_counted() -> None:
    from docgen.words import counted

    assert [counted(n, "page") for n in (0, 1, 2)] == ["0 pages", "1 page", "2 pages"]
    assert (
        counted(1, "match", "matches") == "1 match"
        and counted(3, "match", "matches") == "3 matches"
    )


@pytest.mark.parametrize(
    "text, title",
    [
        ('[project]\nname = "mylib"\n', "mylib"),
        ('[project]\nname = "mylib"\n[tool.docgen]\ntitle = "My Lib"\n', "My Lib"),
        ("[tool.docgen]\n", "Documentation"),
    ],
)
def test_the_default_title_is_the_project_name(tmp_path: Path, text: str, title: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    assert load_config(cwd=tmp_path).title == title
