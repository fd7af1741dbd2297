"""What `docgen check` found, as text for a terminal or as JSON."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from docgen.words import counted


class LinkResult(NamedTuple):
    """One checked link; the fields of Sphinx linkcheck's output.json, plus `kind`."""

    filename: str  # page (or objects.inv) relative to the site, '/'-separated
    lineno: int
    status: str  # working | broken | redirected | ignored | unchecked
    code: int  # HTTP status for external links, else 0
    uri: str
    info: str
    kind: str = ""  # why it is broken: missing-page, missing-anchor, http-error, ...


@dataclass
class CheckReport:
    """What `check_site` found: one result per link (sorted by page and line)."""

    results: list[LinkResult]
    pages: int
    seconds: float
    warnings: list[str] = field(default_factory=list)

    @property
    def broken(self) -> list[LinkResult]:
        return [r for r in self.results if r.status == "broken"]

    @property
    def links(self) -> int:
        return len(self.results)


def format_report(report: CheckReport) -> str:
    """One line per broken link, `page:line: link — reason`, then a summary line."""
    lines = [f"{r.filename}:{r.lineno}: {r.uri} — {r.info}" for r in report.broken]
    counts = Counter(r.status for r in report.results)
    extra = "".join(
        f", {counts[s]} {s}" for s in ("redirected", "ignored", "unchecked") if counts[s]
    )
    pages, links = report.pages, report.links
    lines.append(
        f"checked {counted(pages, 'page')}, {counted(links, 'link')} "
        f"in {report.seconds:.2f} s: "
        f"{counts['broken']} broken{extra}"
    )
    return "\n".join(lines)


def write_json_report(report: CheckReport, path: Path) -> None:
    """One JSON object per line per checked link, as Sphinx linkcheck's output.json."""
    fields = ("filename", "lineno", "status", "code", "uri", "info", "kind")
    with open(path, "w", encoding="utf-8") as f:
        for r in report.results:
            f.write(json.dumps({k: getattr(r, k) for k in fields}, ensure_ascii=False) + "\n")
