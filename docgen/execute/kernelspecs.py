"""Which Jupyter kernels the notebooks ask for, checked once before any kernel starts.

A kernel name that is not installed would otherwise fail every notebook that uses it, each
with the same message; here it is one problem that lists the installed kernels and names
the setting that chose it: `kernel_name` in the config, or the notebooks' own metadata.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from docgen.errors import UsageError
from docgen.words import counted


def _kernel_dirs() -> list[str]:
    """Where jupyter_client's KernelSpecManager looks for kernel specs, in its order."""
    from jupyter_core.paths import jupyter_path  # light: no jupyter_client, no zmq

    dirs = jupyter_path("kernels")
    if importlib.util.find_spec("IPython") is not None:
        ipython = os.environ.get("IPYTHONDIR") or os.path.join(os.path.expanduser("~"), ".ipython")
        dirs.append(os.path.join(ipython, "kernels"))
    return dirs


def _spec_from_kernel_json(name: str) -> dict[str, Any] | None:
    """The argv, language and env of kernel `name` read from its kernel.json, found as
    jupyter_client finds it; None when it is not a plain kernel.json in a kernels folder
    (the native kernel ipykernel describes in code, a kernel provisioner, no such kernel)."""
    wanted = name.lower()
    for folder in _kernel_dirs():
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        for entry in entries:
            path = os.path.join(folder, entry)
            if entry.lower() == wanted and os.path.isfile(os.path.join(path, "kernel.json")):
                try:
                    with open(os.path.join(path, "kernel.json"), encoding="utf-8") as f:
                        spec = json.load(f)
                except (OSError, ValueError):
                    return None
                if not isinstance(spec, dict) or "kernel_provisioner" in (
                    spec.get("metadata") or {}
                ):
                    return None
                return {
                    "argv": list(spec.get("argv", [])),
                    "language": spec.get("language", ""),
                    "env": dict(spec.get("env", {})),
                }
    return None


def kernel_spec(name: str) -> dict[str, Any] | None:
    """The argv, language and env of the kernel spec `name` resolves to, or None when no
    such kernel is installed. A plain kernel.json is read without jupyter_client (whose
    import loads zmq and more), so a build whose notebooks are all cached starts nothing
    of Jupyter's; anything else asks jupyter_client."""
    quick = _spec_from_kernel_json(name)
    if quick is not None:
        return quick
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return None
    return {"argv": spec.argv, "language": spec.language, "env": spec.env}


def installed_kernels() -> list[str]:
    """The names of the installed Jupyter kernel specs, sorted."""
    from jupyter_client.kernelspec import KernelSpecManager

    return sorted(KernelSpecManager().find_kernel_specs())


def _installed(name: str) -> bool:
    return kernel_spec(name) is not None


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
