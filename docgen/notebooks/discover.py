"""Finding the docs' notebooks, in site order, and the page each becomes.

The output folder, the cache, hidden and `_` folders, checkpoints and any folder holding
a docgen site are never inputs; in an nbdev project `_` notebooks are not either (private,
as nbdev has them).
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from pathlib import Path, PurePosixPath

from docgen.errors import DocgenError
from docgen.model import Source

# '01_', '000_', chapter numbers such as '05.13-', and nbdev's lettered '03a_' (two digits
# at least, so that '3d_plots' keeps its name).
_NUMERIC_PREFIX = re.compile(r"^(?:\d{2,}[a-z]?|\d+)(?:\.\d+[a-z]?)*[_\-. ]+")


# Every site docgen writes holds this file (see outdir.py); a folder with it is never an input.
SITE_MARKER = ".docgen-site"


def strip_prefix(name: str) -> str:
    """'01_flip' -> 'flip', '05.13-KDE' -> 'KDE', '03a_data' -> 'data': numeric prefixes
    order pages but stay out of URLs and titles."""
    return _NUMERIC_PREFIX.sub("", name) or name


def _sort_key(
    rel: PurePosixPath, nav: list[str], home: PurePosixPath | None = None
) -> tuple[int, list[tuple[int, str]]]:
    """Explicit `nav` entries first, in their order; then index pages, then by name."""
    explicit = nav.index(str(rel)) if str(rel) in nav else len(nav)
    parts = []
    for i, part in enumerate(rel.parts):
        is_last = i == len(rel.parts) - 1
        stem = PurePosixPath(part).stem if is_last else part
        # Within a folder, its index page comes first and files come before subfolders.
        is_index = is_last and (stem == "index" or rel == home)
        rank = 0 if is_index else (1 if is_last else 2)
        parts.append((rank, part))
    return (explicit, parts)


def _input_folder(folder: Path, excluded: Collection[Path]) -> bool:
    """Whether notebooks under `folder` are docs: not hidden (.git, .ipynb_checkpoints,
    the staging folders of a build), not private (_build), not a site docgen wrote."""
    return (
        not folder.name.startswith((".", "_"))
        and folder not in excluded
        and not (folder / SITE_MARKER).exists()
    )


def discover_notebooks(
    nbs_dir: Path,
    nav: list[str] | None = None,
    exclude: Collection[Path] = (),
    private: bool = False,
    home: str = "",
) -> list[Source]:
    """Every notebook under `nbs_dir`, in site order.

    Hidden, private and checkpoint folders are skipped, and so are the folders in `exclude`
    (the output and cache folders) and any site docgen wrote, wherever they are; with
    `private`, so are notebooks whose names start with `_`. `home` (a notebook at the top of
    `nbs_dir`, nbdev's `readme_nb`) becomes the site's `index.html` when there is no
    top-level `index.ipynb`.
    """
    hidden = (".", "_") if private else (".",)
    if not nbs_dir.is_dir():
        raise DocgenError(f"notebook folder {nbs_dir} does not exist")
    nav = nav or []
    excluded = set(exclude)
    found = []
    for folder, subdirs, names in os.walk(nbs_dir):
        here = Path(folder)
        subdirs[:] = [d for d in subdirs if _input_folder(here / d, excluded)]
        for name in names:
            if name.endswith(".ipynb") and not name.startswith(hidden):
                rel = PurePosixPath((here / name).relative_to(nbs_dir).as_posix())
                if _undecodable(str(rel)):
                    raise DocgenError(
                        f"{os.fsencode(here / name)!r}: the notebook's name is not UTF-8 text, "
                        "so its page can have no address; rename it"
                    )
                found.append(rel)
    missing = [n for n in nav if PurePosixPath(n) not in set(found)]
    if missing:
        raise DocgenError(f"nav lists {', '.join(missing)}, which is not a notebook in {nbs_dir}")
    home_rel = PurePosixPath(home) if home else None
    if home_rel not in found or len(home_rel.parts) > 1 or PurePosixPath("index.ipynb") in found:
        home_rel = None
    found.sort(key=lambda rel: _sort_key(rel, nav, home_rel))
    sources = []
    for rel in found:
        folders = [strip_prefix(p) for p in rel.parts[:-1]]
        url = "/".join([*folders, strip_prefix(rel.stem) + ".html"])
        if rel == home_rel:
            url = "index.html"
        sources.append(Source(path=nbs_dir / rel, rel=rel, url=url))
    urls: dict[str, PurePosixPath] = {}
    for s in sources:
        if s.url in urls:
            raise DocgenError(
                f"{urls[s.url]} and {s.rel} would both become the page {s.url}; rename one"
            )
        urls[s.url] = s.rel
    return sources


def _undecodable(name: str) -> bool:
    """Whether a file name held bytes that are not UTF-8 (Python keeps them as surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
