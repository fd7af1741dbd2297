"""Golden files: the HTML of each fixture notebook's page body, one notebook per output type.

The fixtures (tests/fixtures/golden/*.ipynb) carry stored outputs and are rendered with
`--no-exec`, so these tests need no kernel. When a change to the output is intended:
    .venv/bin/python -m pytest tests/test_golden.py --update-golden
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from docgen.config import load_config
from docgen.pipeline import build

FIXTURES = Path(__file__).parent / "fixtures" / "golden"
GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.stem for p in FIXTURES.glob("*.ipynb"))
REGENERATE = ".venv/bin/python -m pytest tests/test_golden.py --update-golden"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("golden") / "site"
    config = load_config(
        overrides={"nbs": FIXTURES, "out": out, "execute": False, "max_output_chars": 2000}
    )
    build(config, log=lambda _: None)
    return out


def article(page: Path) -> str:
    match = re.search(r'<article class="notebook">\n(.*?)\s*</article>', page.read_text(), re.S)
    assert match, f'{page} has no <article class="notebook">'
    return match.group(1) + "\n"


@pytest.mark.parametrize("name", CASES)
def test_page_body_matches_golden(name: str, site: Path, request: pytest.FixtureRequest) -> None:
    actual = article(site / f"{name}.html")
    golden = GOLDEN / f"{name}.html"
    if request.config.getoption("--update-golden"):
        golden.write_text(actual)
    assert golden.exists(), f"no golden file {golden}; create it with: {REGENERATE}"
    assert actual == golden.read_text(), (
        f"{name}.html differs from {golden}. If the change is intended, run: {REGENERATE}"
    )


def test_every_fixture_has_a_golden_file() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.html")) == CASES
