"""docgen's configuration: the `[tool.docgen]` table of pyproject.toml, plus CLI overrides.

Every option is declared once, in `Config`, with its type, default and help text; the
reader validates a TOML table against those declarations before anything runs. Every
option of execution (whether it happens, workers, timeout, the kernel pool, GPUs, cache)
lives in the sub-table `[tool.docgen.execute]`; the older top-level spellings `execute`,
`workers` and `timeout` still work for one release, with a deprecation warning.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docgen.configvalues import NUL, NUL_PROBLEM, check_hosts, check_value
from docgen.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


EXECUTE_TABLE = "execute"  # the sub-table [tool.docgen.execute]
OPEN_TABLE = "open"  # the sub-table [tool.docgen.open]: what "Open" offers on each page
# The execution cache, downloaded inventories and the build session, under the project root.
CACHE_DIR = ".docgen_cache"


def _option(default: Any, help: str, **kwargs: Any) -> Any:
    if isinstance(default, list | dict):
        return field(
            default_factory=lambda: type(default)(default), metadata={"help": help, **kwargs}
        )
    return field(default=default, metadata={"help": help, **kwargs})


def _execute_option(default: Any, help: str, **kwargs: Any) -> Any:
    """An option of the `[tool.docgen.execute]` sub-table (`key=`: its name there, when it
    differs from the field's)."""
    return _option(default, help, table=EXECUTE_TABLE, **kwargs)


def _open_option(default: Any, help: str, **kwargs: Any) -> Any:
    """An option of the `[tool.docgen.open]` sub-table."""
    return _option(default, help, table=OPEN_TABLE, **kwargs)


# Top-level spellings of execution options, accepted until the next release: old -> new key.
DEPRECATED_TOP_LEVEL = {"execute": "enabled", "workers": "workers", "timeout": "timeout"}


@dataclass(frozen=True)
class Config:
    """All settings of one build. Paths are absolute once loaded."""

    nbs: Path = _option(Path("doc_nbs"), "Folder of documentation notebooks.")
    out: Path = _option(
        Path("site"),
        "Folder the HTML site is written to. Each build replaces it whole, so it must be "
        "absent, empty or a site docgen wrote (one holding a .docgen-site file).",
    )
    title: str = _option(
        "Documentation",
        "Site name, shown in the header and page titles; by default [project].name of "
        "pyproject.toml, else 'Documentation'.",
    )
    kernel_name: str = _option("", "Kernel to run every notebook in; empty: each notebook's own.")
    nav: list[str] = _option(
        [], "Explicit page order: notebook paths relative to `nbs`; others follow."
    )
    max_output_chars: int = _option(
        50_000, "Longest text output shown on a page before it is truncated with a notice."
    )
    templates: Path | None = _option(
        None, "Folder of Jinja2 templates that override the default theme's."
    )
    site_url: str = _option("", "Public URL of the site, e.g. https://example.org/docs/.")
    repo: str = _option("", "Repository URL, for source links and 'Open in Colab'.")
    branch: str = _option("main", "Branch of `repo` that source links point at.")
    packages: list[str] = _option([], "Python packages whose API the site documents.")
    inventories: dict[str, str] = _option(
        {},
        "Other Sphinx sites to link names to: name -> site URL (its objects.inv is downloaded "
        "once into .docgen_cache/), or a local folder or objects.inv path.",
    )
    strict: bool = _option(False, "Treat warnings (missing images, unresolved names) as errors.")
    allow_remote: list[str] = _option(
        [],
        "Hosts the site may load images, scripts, stylesheets and frames from, e.g. "
        '["cdn.plot.ly", "*.example.org"] (`*.` accepts every subdomain). A page that loads '
        "anything from another host is a warning: the site makes no network requests.",
    )
    lang: str = _option("en", "Language of the pages, as a BCP 47 tag (the `lang` of <html>).")
    logo: str = _option(
        "", "Image shown before the site's title in the header: a file, relative to the project."
    )
    favicon: str = _option(
        "", "The site's icon (.ico, .png or .svg): a file, relative to the project."
    )
    accent: str = _option(
        "", 'Colour of links and highlights, a CSS colour such as "#b5179e"; empty: the theme\'s.'
    )
    footer: str = _option(
        "", 'Text of the page footer (plain text); empty: "Built with docgen" and its version.'
    )
    extra_css: list[str] = _option(
        [], "Stylesheets added to every page after the theme's: files, relative to the project."
    )
    extra_js: list[str] = _option(
        [], "Scripts added to every page after the theme's: files, relative to the project."
    )
    run_line: bool = _option(
        True,
        "Head each page whose code ran with where it ran: device, Python and the versions of "
        "the `run_line_packages` the notebook imports. false: no such line (a page whose "
        "outputs are missing or came from a GPU run still says so).",
    )
    run_line_packages: list[str] = _option(
        ["torch"],
        "Packages the run line names, with their versions, on pages whose notebook imports "
        'them, e.g. ["torch", "numpy"].',
    )
    timings: str = _option(
        "cache",
        'Where the build\'s timing report (_timings.json, _timings.html) goes: "cache" '
        'writes it to .docgen_cache/timings/, "publish" puts it in the site.',
        choices=("cache", "publish"),
    )
    # [tool.docgen.execute]
    execute: bool = _execute_option(
        True,
        "Run the notebooks (`enabled = false`: render the outputs stored in them, as "
        "--no-exec does).",
        key="enabled",
    )
    workers: int = _execute_option(
        0, "Notebooks executed at once, each in its own kernel; 0: one per CPU core.", minimum=0
    )
    timeout: int = _execute_option(600, "Seconds one cell may run before the build fails.")
    fork_kernels: bool = _execute_option(
        True,
        "Start each notebook's kernel as a fork of one process per kernel that has imported "
        "IPython and the `preload` modules once (Linux; elsewhere, or when a preload fails or "
        "initialises CUDA, kernels start one by one with a warning). Each notebook still gets "
        "a process, namespace and working directory of its own. false: always start kernels "
        "one by one.",
    )
    batch_cells: bool = _execute_option(
        True,
        "Send an IPython kernel all of a notebook's code cells in one request; the kernel runs "
        "them one after another as it runs each request, without waiting for docgen between "
        "cells. Outputs, errors and timeouts are the same. false: one request per cell, as "
        "nbclient sends them.",
    )
    preload: list[str] = _execute_option(
        [],
        "Modules imported once, before the kernels are forked, in addition to those of "
        "`preload_first_cells`, e.g. [\"torch\"]. The import binds no name, and must not "
        "initialise CUDA; one that fails to import turns forking off, with a warning. Without "
        "`fork_kernels`, each kernel started ahead (`warm_kernels`) imports them while it waits.",
    )
    preload_first_cells: bool = _execute_option(
        True,
        "Also preload the modules that the notebooks' first code cells import at their top "
        "level (leaving out modules next to a notebook; one that fails to import is skipped). "
        "false: preload only `preload`.",
    )
    warm_kernels: int = _execute_option(
        2,
        "Kernels started ahead, in the folder and on the GPU of the notebooks next in line "
        "(without `fork_kernels`, with `preload` imported); 0 starts each kernel only when its "
        "notebook's turn comes.",
        minimum=0,
    )
    kernels_per_gpu: int = _execute_option(
        2,
        "Most notebooks that use a GPU running on one at a time; each CUDA context takes about "
        "0.6 GiB before any work. Kernels started ahead don't count: they have not touched the "
        "GPU; nor do notebooks whose latest run on a GPU machine left it unused.",
    )
    cache: bool = _execute_option(
        True,
        "Reuse the outputs in .docgen_cache/ while a notebook's code cells, kernel, "
        "environment, declared data files, the project modules it imports and the variables "
        "of `env_keys` are unchanged.",
    )
    env_keys: list[str] = _execute_option(
        [],
        'Environment variables whose values decide outputs, e.g. ["DATA_DIR"]: a change of '
        "value (or setting or unsetting one) runs the notebooks again. Other environment "
        "variables are not part of the cache key: changing them reuses the cached outputs.",
    )
    allow_missing_gpu: bool = _execute_option(
        False,
        "On a machine without a GPU, show a GPU notebook that has no stored outputs without "
        "them (a warning) instead of failing the build.",
    )
    slow_cell: float = _execute_option(
        1.0, "Cells that run at least this many seconds are listed in the timing report."
    )
    exclude: list[str] = _execute_option(
        [],
        'Notebooks never run, as globs relative to `nbs`, e.g. ["api/18_release.ipynb", '
        '"tutorials/*"]: their pages show the outputs stored in them and say so. For '
        "notebooks that need the network, a git remote or credentials.",
    )
    executor: str = _execute_option(
        "local",
        'Where notebooks run: "local" (kernels on this machine) or "dask" (one task per '
        "notebook on a Dask cluster, each in a fresh kernel of the worker's environment; "
        "needs `pip install docgen-nb[dask]`).",
        choices=("local", "dask"),
    )
    scheduler: str = _execute_option(
        "",
        'The Dask scheduler for executor = "dask", e.g. "tcp://host:8786"; empty: a local '
        "cluster of one single-threaded worker process per core, started and closed by the "
        "build.",
    )
    shared_path: bool = _execute_option(
        False,
        'With executor = "dask": the workers see the project at the same path (a shared file '
        "system), so notebooks run there. false: each task carries the files beside its "
        "notebook and its declared data files, and runs in a copy of them on the worker.",
    )
    # [tool.docgen.open]
    open_ref: str = _open_option(
        "",
        "The git ref (commit, tag or branch) that the Colab and Binder links of pages point "
        "at. Empty: the commit checked out, for each notebook committed unmodified in it, "
        "else `branch`, with a warning naming the notebook.",
        key="ref",
    )
    open_setup: list[str] = _open_option(
        [],
        'Lines of a setup cell put first in each downloadable notebook, e.g. ["%pip install '
        'mylib==1.2"]. docgen never runs it; it runs only where a package that its `pip '
        "install` lines name is missing (without such lines: only on Colab).",
        key="setup",
    )
    force: list[str] = field(
        default_factory=list,
        metadata={"help": "Notebooks to run despite the cache ('*': all).", "internal": True},
    )
    # `docgen serve PAGE ...`: only these notebooks may run (empty: all); the others show
    # their cached outputs or those stored in them.
    only: list[str] = field(default_factory=list, metadata={"help": "", "internal": True})
    # `docgen serve` on a GPU machine: a GPU notebook runs only when `force` names it (its
    # page's run button), never on every save.
    gpu_on_request: bool = field(default=False, metadata={"help": "", "internal": True})
    root: Path = field(default=Path("."), metadata={"help": "", "internal": True})
    # The file the options came from; without one, `root` is only where docgen runs.
    config_file: Path | None = field(default=None, metadata={"help": "", "internal": True})
    # Path options as the user wrote them (absolute, symlinks kept), for messages.
    as_written: dict[str, Path] = field(
        default_factory=dict, metadata={"help": "", "internal": True}
    )
    # Warnings about old spellings in the config file, told once per build.
    deprecations: tuple[str, ...] = field(default=(), metadata={"help": "", "internal": True})
    # An nbdev project (notebooks/nbdev.py): its notebooks run as `nbdev-test` runs them,
    # and cells carrying one of nbdev's `tst_flags` directives are not run.
    nbdev: bool = field(default=False, metadata={"help": "", "internal": True})
    skip_flags: tuple[str, ...] = field(default=(), metadata={"help": "", "internal": True})
    # nbdev's `readme_nb`: the site's index.html when `nbs` has no index.ipynb.
    home: str = field(default="", metadata={"help": "", "internal": True})

    @classmethod
    def options(cls, table: str = "") -> dict[str, dataclasses.Field[Any]]:
        """Options a user may set in `[tool.docgen]` (or in its sub-table `table`), by the
        name they have there."""
        return {
            f.metadata.get("key", f.name): f
            for f in dataclasses.fields(cls)
            if not f.metadata.get("internal") and f.metadata.get("table", "") == table
        }


def _unknown(name: str, table: str, where: str) -> UsageError:
    here, elsewhere = Config.options(table), Config.options("" if table else EXECUTE_TABLE)
    heading = f"[tool.docgen.{table}]" if table else "[tool.docgen]"
    if not table and name in Config.options(OPEN_TABLE):
        return UsageError(
            f"option '{name}' in {heading} of {where} belongs in [tool.docgen.{OPEN_TABLE}]"
        )
    if name in elsewhere:
        other = f"[tool.docgen.{EXECUTE_TABLE}]" if not table else "[tool.docgen]"
        return UsageError(f"option '{name}' in {heading} of {where} belongs in {other}")
    old = {} if table else DEPRECATED_TOP_LEVEL  # suggested in their new place
    close = difflib.get_close_matches(name, [*here, *old], n=1)
    hint = f"; did you mean '{close[0]}'?" if close and close[0] in here else ""
    if not hint:
        close = [old[close[0]]] if close else difflib.get_close_matches(name, list(elsewhere), n=1)
        other = f"[tool.docgen.{EXECUTE_TABLE}]" if not table else "[tool.docgen]"
        hint = f"; did you mean '{close[0]}' in {other}?" if close else ""
    return UsageError(f"unknown option '{name}' in {heading} of {where}{hint}")


def _parse_sub_table(sub: str, table: dict[str, Any], where: str) -> dict[str, Any]:
    """`[tool.docgen.execute]` (the kernel pool, GPU, cache options, and `enabled`) or
    `[tool.docgen.open]`."""
    options = Config.options(sub)
    values: dict[str, Any] = {}
    for name, value in table.items():
        if name not in options:
            raise _unknown(name, sub, where)
        values[options[name].name] = check_value(name, value, options[name], where)
    return values


def parse_table(table: dict[str, Any], where: str) -> dict[str, Any]:
    """Validate a `[tool.docgen]` table and return its values typed as `Config` wants."""
    options = Config.options()
    values: dict[str, Any] = {}
    deprecations: list[str] = []
    execute_table = table.get(EXECUTE_TABLE)
    for name, value in table.items():
        if name in (EXECUTE_TABLE, OPEN_TABLE) and isinstance(value, dict):
            values.update(_parse_sub_table(name, value, where))
            continue
        if name in DEPRECATED_TOP_LEVEL:
            new = DEPRECATED_TOP_LEVEL[name]
            if isinstance(execute_table, dict) and new in execute_table:
                raise UsageError(
                    f"{where}: '{name}' is set both in [tool.docgen] and (as '{new}') in "
                    f"[tool.docgen.{EXECUTE_TABLE}]; keep only the one in "
                    f"[tool.docgen.{EXECUTE_TABLE}]"
                )
            f = Config.options(EXECUTE_TABLE)[new]
            values[f.name] = check_value(name, value, f, where)
            deprecations.append(
                f"{where}: `{name} = ...` in [tool.docgen] is deprecated and stops working in "
                f"the next release; write `{new} = {_toml(value)}` in [tool.docgen.{EXECUTE_TABLE}]"
                " instead"
            )
            continue
        if name not in options:
            raise _unknown(name, "", where)
        values[name] = check_value(name, value, options[name], where)
        if name == "allow_remote":
            check_hosts(value, where)
    if deprecations:
        values["deprecations"] = tuple(deprecations)
    return values


def _toml(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else repr(value)


def read_toml(path: Path) -> dict[str, Any]:
    """The docgen table of a TOML file: `[tool.docgen]`, or the whole file if it has no `tool`."""
    if path.is_dir():
        raise UsageError(f"config file {path} is a folder; --config names a TOML file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise UsageError(f"config file {path} does not exist") from e
    except OSError as e:
        raise UsageError(f"config file {path} cannot be read: {e.strerror}") from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"{path} is not valid TOML: {e}") from e
    if "tool" in data or path.name == "pyproject.toml":
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise UsageError(f"{path}: `tool` must be a table (docgen reads [tool.docgen])")
        table = tool.get("docgen", {})
    else:
        table = data
    if not isinstance(table, dict):
        raise UsageError(f"{path}: [tool.docgen] must be a table")
    return table


def project_name(path: Path) -> str:
    """`[project].name` of a pyproject.toml that `read_toml` has read; "" without one."""
    if path.name != "pyproject.toml":
        return ""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    name = data.get("project", {}).get("name", "") if isinstance(data.get("project"), dict) else ""
    return name if isinstance(name, str) else ""


def load_config(
    config_file: Path | None = None,
    cwd: Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> Config:
    """Build the `Config` for a run.

    Reads `config_file`, or `pyproject.toml` in `cwd` when there is one. Paths in a file are
    relative to that file's folder; paths in `overrides` (the CLI's) are relative to `cwd`.
    In an nbdev project (notebooks/nbdev.py) nbdev's settings give the defaults that
    `[tool.docgen]` does not set.
    """
    from docgen.notebooks.nbdev import docgen_defaults, read_nbdev_settings

    cwd = (cwd or Path.cwd()).resolve()
    if config_file is None and (cwd / "pyproject.toml").is_file():
        config_file = cwd / "pyproject.toml"
    values: dict[str, Any] = {}
    root = cwd
    if config_file is not None:
        if NUL in str(config_file):
            raise UsageError(f"--config {NUL_PROBLEM}: {str(config_file)!r}")
        config_file = (cwd / config_file).resolve()
        values = parse_table(read_toml(config_file), str(config_file))
        root = config_file.parent
        if "title" not in values and project_name(config_file):
            values["title"] = project_name(config_file)
    nbdev = read_nbdev_settings(root)
    if nbdev is not None:
        values = {**docgen_defaults(nbdev, root), **values}
    as_written: dict[str, Path] = {}
    for key in ("nbs", "out", "templates"):
        if values.get(key) is not None:
            as_written[key] = Path(os.path.abspath(root / values[key]))
            values[key] = (root / values[key]).resolve()
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if isinstance(value, Path) and NUL in str(value):
            raise UsageError(f"--{key} {NUL_PROBLEM}: {str(value)!r}")
        if isinstance(value, Path):
            as_written[key] = Path(os.path.abspath(cwd / value))
            value = (cwd / value).resolve()
        values[key] = value
    values.setdefault("nbs", (root / "doc_nbs").resolve())
    values.setdefault("out", (root / "site").resolve())
    return Config(root=root, config_file=config_file, as_written=as_written, **values)
