"""The records the pipeline's stages hand each other: sources, headings, pages, notebook runs.

Plain data only: nothing here reads files, runs kernels or renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from docgen.site.urls import href

if TYPE_CHECKING:
    import nbformat


@dataclass(frozen=True)
class Source:
    """One notebook file of the docs and where its page goes in the site."""

    path: Path  # absolute path of the .ipynb
    rel: PurePosixPath  # path relative to the notebooks folder
    url: str  # page path relative to the site root, e.g. "augment/flip.html"
    generated: bool = False  # made by docgen (an API page), not a file of the docs

    @property
    def section(self) -> str:
        """Sidebar section: the notebook's folder ("" for top-level pages)."""
        return str(self.rel.parent) if str(self.rel.parent) != "." else ""


class Status(str, Enum):
    """What the execute stage did with a notebook. The values are the words reports show
    (`_timings.json`, progress lines); being strings, they compare and serialise as such."""

    RAN = "ran"
    CACHED = "cached"
    GPU_OUTPUTS = "outputs of a GPU run"
    NOT_RUN = "not run"
    EXCLUDED = "excluded"  # by `exclude` in [tool.docgen.execute]: its stored outputs shown
    HELD = "held"  # not run by this preview (see `docgen serve`): its stored outputs shown
    NO_CODE = "no code"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class NotebookRun:
    """What the stage did with one notebook, and the notebook to render."""

    source: Source
    nb: nbformat.NotebookNode  # outputs filled in; no per-cell timestamps
    status: Status
    provenance: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    kernel_wait: float = 0.0
    cells: tuple[tuple[int, float], ...] = ()  # (cell index, seconds) of the cells that ran
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Heading:
    level: int
    anchor: str
    text: str


@dataclass(frozen=True)
class Page:
    """One rendered notebook: its HTML body and everything the site needs around it."""

    source: Source
    title: str
    body: str
    headings: list[Heading]
    images: dict[str, bytes]
    notebook: nbformat.NotebookNode
    warnings: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)  # see site/provenance.py
    errors: list[str] = field(default_factory=list)  # problems that fail the build
    # The project files the page shows (images) -> their sha256 (None: missing), which a
    # rebuild checks before it reuses the page.
    read_files: dict[str, str | None] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The page's file in the site; links to it use `href`."""
        return self.source.url

    @property
    def notebook_url(self) -> str:
        return self.source.url[: -len(".html")] + ".ipynb"

    @property
    def href(self) -> str:
        """The link to the page from the site root (see urls.py)."""
        return href(self.url)

    @property
    def toc(self) -> list[Heading]:
        """Headings for the on-page table of contents: below the title, two levels deep."""
        title = _title_heading(self.headings)
        rest = [h for h in self.headings if h is not title]
        top = min((h.level for h in rest), default=2)
        return [h for h in rest if h.level <= top + 1]


def _title_heading(headings: list[Heading]) -> Heading | None:
    """The heading that names a page: its first h1, else its first heading."""
    return next((h for h in headings if h.level == 1), None) or next(iter(headings), None)
