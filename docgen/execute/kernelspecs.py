"""Which Jupyter kernels the notebooks ask for, checked once before any kernel starts.

A kernel name that is not installed would otherwise fail every notebook that uses it, each
with the same message; here it is one problem that lists the installed kernels and names
the setting that chose it: `kernel_name` in the config, or the notebooks' own metadata.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from docgen.errors import UsageError
from docgen.words import counted


def installed_kernels() -> list[str]:
    """The names of the installed Jupyter kernel specs, sorted."""
    from jupyter_client.kernelspec import KernelSpecManager

    return sorted(KernelSpecManager().find_kernel_specs())


def _installed(name: str) -> bool:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return False
    return True


def _listing() -> str:
    names = installed_kernels()
    return ", ".join(f"'{n}'" for n in names) if names else "none"


def check_configured_kernel(name: str, config_file: Path | None) -> None:
    """A `UsageError` when `kernel_name` of the config names no installed kernel."""
    if not name or _installed(name):
        return
    where = f"[tool.docgen] of {config_file}" if config_file else "the configuration"
    raise UsageError(
        f"kernel_name = '{name}' in {where} names no installed Jupyter kernel; installed "
        f"kernels: {_listing()}. Set `kernel_name` to one of them, or install '{name}' "
        "(jupyter kernelspec list shows them)"
    )


def missing_kernel_problems(wanted: Mapping[str, Sequence[Path]]) -> dict[str, str]:
    """kernel name -> one problem, for each name in `wanted` (name -> the notebooks whose
    metadata asks for it) that is not installed."""
    problems = {}
    for name, paths in wanted.items():
        if _installed(name):
            continue
        shown = ", ".join(str(p) for p in paths[:5]) + (
            f" and {len(paths) - 5} more" if len(paths) > 5 else ""
        )
        count = counted(len(paths), "notebook")
        problems[name] = (
            f"the Jupyter kernel '{name}' is not installed; the kernelspec metadata of "
            f"{count} asks for it: {shown}.\n  Installed kernels: {_listing()}. Install "
            f"'{name}', or set `kernel_name` in [tool.docgen] to run every notebook in one "
            "of them."
        )
    return problems
