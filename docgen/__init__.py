"""docgen: documentation sites for Python libraries, written as executed Jupyter notebooks.

Inside a notebook: `from docgen import show_doc, doc` (the kernel-side runtime, light to
import). From Python: `docgen.build(config)`, `docgen.check(site)` and
`docgen.load_config(...)`, which raise the same errors as the command line. They are
imported on first use, so `import docgen` in a kernel loads nothing of the build.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from docgen.runtime.showdoc import doc, show_doc  # noqa: E402

if TYPE_CHECKING:
    from docgen.config import load_config
    from docgen.linkcheck.offline import check_site as check
    from docgen.pipeline import build

__all__ = ["__version__", "build", "check", "doc", "load_config", "show_doc"]

_LAZY = {
    "build": ("docgen.pipeline", "build"),
    "check": ("docgen.linkcheck.offline", "check_site"),
    "load_config": ("docgen.config", "load_config"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'docgen' has no attribute {name!r}")
