"""What a kernel says of itself after a notebook's last cell: the provenance probe.

A silent request (no cell, no output) evaluates `probe_expression()` as a user expression:
Python's version, torch's and its CUDA build's where torch is installed, whether CUDA was
used (torch initialised it, or the kernel has an NVIDIA device file open, whatever library
opened it), and the versions of the run line's packages the notebook imported.
"""

from __future__ import annotations

from collections.abc import Sequence

# Runs in a fresh namespace inside the kernel, so the notebook's variables stay untouched.
_PROBE = r"""
import platform, re, sys
info = {"python": platform.python_version()}
torch = sys.modules.get("torch")
if torch is not None:
    info["torch"] = str(getattr(torch, "__version__", ""))
    info["cuda"] = str(getattr(getattr(torch, "version", None), "cuda", None) or "")
    try:
        info["cuda_used"] = bool(torch.cuda.is_initialized())
        if info["cuda_used"]:
            info["gpu"] = torch.cuda.get_device_name(torch.cuda.current_device())
    except Exception:
        pass
else:
    try:
        import importlib.metadata as md
        version = md.version("torch")
        info["torch"] = version
        m = re.search(r"\+cu(\d+)(\d)$", version)
        info["cuda"] = f"{m.group(1)}.{m.group(2)}" if m else ""
    except Exception:
        pass
# Whether the kernel opened a GPU's device files: any CUDA library's use, not only torch's.
import os
try:
    info["gpu_opened"] = any(
        os.path.realpath("/proc/self/fd/" + fd).startswith("/dev/nvidia")
        for fd in os.listdir("/proc/self/fd")
    )
except OSError:
    pass
# The run line's packages (`run_line_packages`) that the kernel has imported, with versions.
versions = {}
for name in PACKAGES:
    module = sys.modules.get(name)
    if module is None:
        continue
    version = getattr(module, "__version__", None)
    if not isinstance(version, str):
        try:
            import importlib.metadata as md
            version = md.version(name)
        except Exception:
            version = ""
    versions[name] = version
info["packages"] = versions
"""


def probe_expression(packages: Sequence[str] = ()) -> str:
    """The silent request's expression: the probe, run in a fresh namespace that holds only
    the package names to report, evaluating to the probe's findings as JSON."""
    names = [str(p) for p in packages]
    return (
        f"(lambda ns: (exec({_PROBE!r}, ns), __import__('json').dumps(ns['info']))[1])"
        f"({{'PACKAGES': {names!r}}})"
    )
