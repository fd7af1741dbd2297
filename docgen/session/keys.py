"""Digests that say whether something a build session kept still holds."""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from pathlib import Path
from typing import Any

import docgen
from docgen.execute.cache import distributions_in


def digest(value: Any) -> str:
    """A hash of JSON-like data (sorted keys, so dict order never matters)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()  # lone surrogates too


def file_digest(path: Path) -> str | None:
    """A file's content hash; None when it is missing or unreadable."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def docgen_stamp() -> str:
    """What about docgen and its environment shapes its HTML: its version, its own source
    (an editable install changes no version), Python and the installed distributions
    (Pygments, Markdown, ... and what the notebooks import, read from folder names)."""
    package = Path(docgen.__file__).parent
    sources = sorted(p for p in package.rglob("*") if p.suffix in (".py", ".css", ".js"))
    return digest(
        {
            "version": docgen.__version__,
            "source": [[p.relative_to(package).as_posix(), file_digest(p)] for p in sources],
            "python": f"{sys.version} {platform.machine()}",
            "distributions": distributions_in(p for p in sys.path if p),
        }
    )
