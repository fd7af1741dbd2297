"""An axe-core scan of real pages in a real Chromium: the home page, a generated API page and
an augment page (plots, tables, show_doc entries), in light and dark mode. No serious or
critical violation may appear. The pages come from docgen's own documentation notebooks,
executed in the test, so the scan covers what readers get."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO

from docgen.config import load_config
from docgen.pipeline import build

pytestmark = pytest.mark.kernel

NOTEBOOKS = ["index.ipynb", "augment/index.ipynb", "augment/01_geometric.ipynb"]
SERIOUS = {"serious", "critical"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("a11y")
    (root / "pyproject.toml").write_text(
        '[tool.docgen]\ntitle = "docgen"\nnbs = "doc_nbs"\npackages = ["augment"]\n'
    )
    for name in NOTEBOOKS:
        (root / "doc_nbs" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / "doc_nbs" / name, root / "doc_nbs" / name)
    build(load_config(cwd=root), log=lambda _: None)
    return root / "site"


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(site))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def api_page(site: Path) -> str:
    """A generated API page: one with show_doc entries that no notebook wrote."""
    pages = sorted(p for p in site.rglob("*.html") if "augment" in p.name and "api" in str(p))
    assert pages, sorted(str(p.relative_to(site)) for p in site.rglob("*.html"))
    return pages[0].relative_to(site).as_posix()


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = [" ".join(map(str, node.get("target", []))) for node in v.get("nodes", [])[:3]]
        lines.append(f"{v['impact']}: {v['id']} ({v['help']}) at {targets}")
    return "\n".join(lines)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("page", ["index.html", "augment/geometric.html", "API"])
def test_no_serious_or_critical_violations(  # type: ignore[no-untyped-def]
    browser, site: Path, base_url: str, page: str, scheme: str
) -> None:
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    path = api_page(site) if page == "API" else page
    assert (site / path).is_file()
    context = browser.new_context(color_scheme=scheme)
    try:
        tab = context.new_page()
        tab.goto(base_url + path)
        tab.wait_for_load_state("load")
        results = axe_module.Axe().run(tab)
        violations = results.response["violations"]
        serious = [v for v in violations if v.get("impact") in SERIOUS]
        assert not serious, f"{path} ({scheme}):\n{describe(serious)}"
        # The scan itself ran: axe reports the rules it passed or found inapplicable.
        assert results.response.get("testEngine", {}).get("name") == "axe-core"
    finally:
        context.close()
