"""How `docgen serve` writes each build's site: only the files that changed.

`docgen build` writes every file into a fresh folder and swaps it in; for a preview that
rewrites a thousand pages to change one, the rewrite alone misses the half-second goal.
The preview's folder is its own (a temporary one), so after the first build the files
that differ from the last build's are replaced one by one (each by a rename, so a request
never reads half a file) and those gone are removed. What changed is kept for the browsers.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from docgen.errors import DocgenError
from docgen.site.outdir import reason
from docgen.site.write import write_site_atomically


class SiteWriter:
    """Writes one site again and again; `changed` is what the last write changed."""

    def __init__(self) -> None:
        self._written: dict[str, bytes] = {}
        self.changed: list[str] = []

    def __call__(self, out: Path, files: Mapping[str, bytes]) -> None:
        if not self._written or not out.is_dir():
            write_site_atomically(out, files)
            self.changed = sorted(files)
        else:
            self.changed = _update(out, self._written, files)
        self._written = dict(files)


def _update(out: Path, before: Mapping[str, bytes], files: Mapping[str, bytes]) -> list[str]:
    changed = []
    try:
        for rel, data in files.items():
            old = before.get(rel)
            if old is data or old == data:  # the same bytes object when a page was reused
                continue
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".new-", dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.chmod(tmp, 0o644)
                os.replace(tmp, target)
            except BaseException:
                os.unlink(tmp)
                raise
            changed.append(rel)
        for rel in before.keys() - files.keys():
            (out / rel).unlink(missing_ok=True)
            changed.append(rel)
    except OSError as e:
        raise DocgenError(f"cannot write the preview site in {out}: {reason(e)}") from e
    return sorted(changed)
