"""`docgen open PAGE`: a page as a notebook in local Jupyter.

PAGE is one of:
- the URL of a page of a docgen site: the notebook published beside it (`--clean`: the one
  without outputs) is downloaded into a fresh scratch folder;
- a notebook file: it opens as it is;
- words of a page's title in this project: its source notebook opens, to be edited.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import webbrowser
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from docgen.commands.build import _file
from docgen.commands.jupyter import open_in_running, start_server
from docgen.config import Config, load_config
from docgen.errors import DocgenError, UsageError
from docgen.notebooks.discover import discover_notebooks
from docgen.site.outdir import excluded_folders

FETCH_TIMEOUT_S = 20
_GENERATOR = re.compile(r"<meta\s+name=\"generator\"\s+content=\"docgen\b", re.IGNORECASE)


def _add_open(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "open",
        help="open a page as a notebook in Jupyter: a page's URL on a docgen site, a "
        "notebook file, or words of a page title of this project",
    )
    p.add_argument("page", metavar="PAGE", help="a page URL, a notebook path or title words")
    p.add_argument(
        "--clean",
        action="store_true",
        help="for a URL: the notebook without outputs rather than the executed one",
    )
    p.add_argument(
        "--print",
        dest="print_url",
        action="store_true",
        help="print the notebook's Jupyter URL instead of opening a browser",
    )
    p.add_argument(
        "--config",
        type=_file,
        help="TOML file with a [tool.docgen] table (default: pyproject.toml here), for "
        "finding a page by its title",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    page = str(args.page)
    scratch = None
    if re.match(r"https?://", page, re.IGNORECASE):
        notebook = download_notebook(page, clean=args.clean)
        folder = scratch = notebook.parent
    else:
        if args.clean:
            raise UsageError(
                f"--clean takes the notebook without outputs that a published page offers; "
                f"{page!r} is not a page URL (for a page of this project, docgen open opens "
                "its source notebook)"
            )
        config = load_config(args.config)
        notebook = project_notebook(page, config)
        folder = config.root if config.root in notebook.parents else notebook.parent
    try:
        url = open_in_running(notebook) or start_server(folder, notebook)
    except UsageError:
        if scratch is not None:  # nothing opened it: the download is of no use
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    if args.print_url:
        print(url)
    elif webbrowser.open(url):
        print(f"opened {notebook} at {url}", file=sys.stderr)
    else:  # no browser to open here (a remote shell): the URL is the way in
        print(f"no web browser found; open {notebook} at:\n{url}", file=sys.stderr)
    return 0


# --- a published page ---------------------------------------------------------------------


def _fetch(url: str, what: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "docgen-open"})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_S) as response:  # noqa: S310
            return bytes(response.read())
    except urllib.error.HTTPError as e:
        raise UsageError(f"{what} {url} answered HTTP {e.code} ({e.reason})") from e
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        raise UsageError(
            f"cannot reach {what} {url}: {reason}; check the address and the connection"
        ) from e


def _notebook_link(html: str, page_url: str, clean: bool) -> str | None:
    """The notebook the page's Open menu links (`--clean`: the one without outputs)."""
    kind = "open-clean" if clean else "open-notebook"
    m = re.search(rf"<a\s+class=\"{kind}\"\s+href=\"([^\"]+)\"", html)
    return urljoin(page_url, unescape(m.group(1))) if m else None


def download_notebook(page_url: str, clean: bool = False) -> Path:
    """Download the notebook published beside the page at `page_url` into a new scratch
    folder, and return its path."""
    html = _fetch(page_url, "the page").decode("utf-8", "replace")
    if not _GENERATOR.search(html):
        raise UsageError(
            f'{page_url} is not a page of a docgen site (it has no <meta name="generator" '
            'content="docgen ..."> tag), so it publishes no notebook; give the URL of a '
            "docgen page, a notebook file, or words of a page title of this project"
        )
    link = _notebook_link(html, page_url, clean)
    if link is None:
        which = "a notebook without outputs (--clean)" if clean else "its notebook"
        hint = "; run it without --clean" if clean else ""
        raise UsageError(f"the docgen page {page_url} links no {which}{hint}")
    data = _fetch(link, "the page's notebook")
    try:
        nb = json.loads(data)
    except ValueError as e:
        raise UsageError(f"{link}, the notebook of {page_url}, is not a notebook: {e}") from e
    if not isinstance(nb, dict) or nb.get("nbformat") != 4:
        raise UsageError(f"{link}, the notebook of {page_url}, is not an nbformat 4 notebook")
    name = Path(unquote(urlsplit(link).path)).name or "page.ipynb"
    folder = Path(tempfile.mkdtemp(prefix="docgen-open-"))
    target = folder / name
    target.write_bytes(data)
    return target


# --- this project's pages ---------------------------------------------------------------


@dataclass(frozen=True)
class ProjectPage:
    path: Path
    rel: str
    title: str


def _title(path: Path) -> str:
    try:
        nb = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return ""
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        if isinstance(cell, dict) and cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else str(source)
            m = re.search(r"^#\s+(.+?)\s*#*\s*$", text, re.MULTILINE)
            if m:
                return re.sub(r"[*_`]", "", m.group(1))
    return ""


def project_pages(config: Config) -> list[ProjectPage]:
    try:
        sources = discover_notebooks(
            config.nbs, config.nav, exclude=excluded_folders(config), private=config.nbdev
        )
    except DocgenError as e:
        raise UsageError(str(e)) from e
    return [ProjectPage(s.path, s.rel.as_posix(), _title(s.path) or s.rel.stem) for s in sources]


def project_notebook(page: str, config: Config) -> Path:
    """The notebook `page` names: a notebook file, or words of a page title."""
    path = Path(page)
    if path.suffix == ".ipynb" or path.is_file():
        if path.is_file():
            return path.resolve()
        paths = [os.path.relpath(p.path) for p in _pages_if_any(config)]
        close = difflib.get_close_matches(page, paths, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UsageError(f"the notebook {page} does not exist{hint}")
    if not config.nbs.is_dir():
        raise UsageError(
            f"{page!r} is neither a URL nor a notebook file, and there is no notebooks folder "
            f"{config.nbs} to look for a page title in; run docgen open in the project"
        )
    pages = project_pages(config)
    words = page.lower().split()
    found = [p for p in pages if all(w in f"{p.title} {p.rel}".lower() for w in words)]
    exact = [p for p in found if p.title.lower() == page.lower()]
    if len(found) == 1 or len(exact) == 1:
        return (exact or found)[0].path
    if found:
        listed = ", ".join(f"{p.title!r} ({p.rel})" for p in found[:8])
        raise UsageError(f"{page!r} matches {len(found)} pages: {listed}; add words to pick one")
    titles = {p.title.lower(): p for p in pages}
    close = difflib.get_close_matches(page.lower(), list(titles), n=3, cutoff=0.4)
    hint = (
        "; did you mean " + " or ".join(f"{titles[c].title!r}" for c in close) + "?"
        if close
        else f"; the pages are: {', '.join(repr(p.title) for p in pages[:12])}"
    )
    raise UsageError(f"no page of {config.nbs} has {page!r} in its title{hint}")


def _pages_if_any(config: Config) -> list[ProjectPage]:
    return project_pages(config) if config.nbs.is_dir() else []
