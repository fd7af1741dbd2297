"""The one function that writes the site: into a fresh folder beside it, then swapped in."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from docgen.errors import DocgenError
from docgen.notebooks.discover import SITE_MARKER
from docgen.site.outdir import MARKER_TEXT, check_replaceable, reason, swap_in


def write_site_atomically(out: Path, files: Mapping[str, bytes]) -> None:
    """Write `files` (and the marker) into a fresh folder beside `out`, then swap it in.

    Until the swap the previous site is untouched; if anything fails the new folder is
    removed, `out` stays byte for byte as it was, and a `DocgenError` names the path.
    """
    out = out.resolve()
    check_replaceable(out)
    tmp = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
        # The marker first: a build killed while writing leaves a folder the next one can
        # tell is docgen's (see outdir.remove_swap_leftovers).
        (tmp / SITE_MARKER).write_bytes(MARKER_TEXT)
        for rel, data in files.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        os.chmod(tmp, 0o755)
    except BaseException as e:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError):
            raise DocgenError(
                f"cannot write the site beside {out}: {reason(e)}; the previous site is unchanged"
            ) from e
        raise
    swap_in(tmp, out)
