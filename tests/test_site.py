"""The written site: pages, navigation, assets, images, notebook copies and the atomic swap."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from conftest import snapshot, write_notebook
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from docgen.config import load_config
from docgen.errors import BuildFailed, DocgenError
from docgen.pipeline import build
from docgen.site.write import write_site_atomically

PNG = (Path(__file__).parent / "fixtures" / "golden" / "images.ipynb").read_text()


def png_bytes() -> bytes:
    nb = nbformat.reads(PNG, as_version=4)
    return base64.b64decode(nb.cells[1].outputs[0].data["image/png"])


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.refs += [v for k, v in attrs if k in ("href", "src") and v]


def links_of(page: Path) -> Links:
    parser = Links()
    parser.feed(page.read_text())
    return parser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    nbs = root / "doc_nbs"
    (nbs / "img").mkdir(parents=True)
    (nbs / "img" / "logo.png").write_bytes(png_bytes())
    plot = new_code_cell("plot()", execution_count=1)
    plot.outputs = [
        new_output("display_data", data={"image/png": base64.b64encode(png_bytes()).decode()})
    ]
    write_notebook(
        nbs / "index.ipynb",
        "md:# Welcome home\n\n![logo](img/logo.png)\n\n"
        "## First part\n\n### Detail\n\n## Second part",
        plot,
    )
    write_notebook(nbs / "01_quickstart.ipynb", "md:Intro text before any heading.\n\n## Install")
    write_notebook(nbs / "guide" / "index.ipynb", "md:# The guide")
    write_notebook(
        nbs / "guide" / "01_basics.ipynb", "md:# Basics\n\n![again](../img/logo.png)", plot
    )
    (root / "pyproject.toml").write_text(
        '[tool.docgen]\ntitle = "Example"\nrepo = "https://github.com/o/r"\n'
    )
    build(load_config(cwd=root, overrides={"execute": False}), log=lambda _: None)
    return root / "site"


def test_one_page_per_notebook_and_subfolders_become_sections(site: Path) -> None:
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert pages == [
        "404.html",
        "guide/basics.html",
        "guide/index.html",
        "index.html",
        "quickstart.html",
    ]
    sidebar = re.search(r'<nav class="sidebar".*?</nav>', (site / "index.html").read_text(), re.S)
    assert sidebar
    text = re.sub(r"<[^>]+>", " ", sidebar.group(0)).split()
    assert " ".join(text) == "Welcome home Install The guide The guide Basics"


def test_title_is_the_first_heading(site: Path) -> None:
    assert "<title>Welcome home — Example</title>" in (site / "index.html").read_text()
    assert "<title>Install — Example</title>" in (site / "quickstart.html").read_text()


def test_toc_prev_next_and_current_page(site: Path) -> None:
    page = (site / "index.html").read_text()
    toc = re.search(r'<nav class="toc".*?</nav>', page, re.S)
    assert toc and re.findall(r'href="#([^"]+)"', toc.group(0)) == [
        "first-part",
        "detail",
        "second-part",
    ]
    basics = (site / "guide" / "basics.html").read_text()
    assert '<a class="prev" href="../guide/index.html">← The guide</a>' in basics
    assert (
        "next"
        not in re.search(r'<nav class="prev-next".*?</nav>', basics, re.S)
        .group(0)
        .split('class="')[2]
    )
    assert (
        '<li class="current"><a href="../guide/basics.html" aria-current="page">Basics</a></li>'
        in basics
    )


def test_every_local_link_and_asset_exists(site: Path) -> None:
    for page in site.rglob("*.html"):
        if page.name == "404.html":
            continue
        for ref in links_of(page).refs:
            if ref.startswith(("#", "https://colab.research.google.com/", "https://mybinder.org/")):
                continue
            assert not re.match(r"^[a-z]+:", ref), f"{page}: {ref} leaves the site"
            target = (page.parent / ref.split("#")[0]).resolve()
            assert target.is_file(), f"{page}: {ref} does not exist"


def test_no_network_requests_and_no_inlined_css(site: Path) -> None:
    for page in site.rglob("*.html"):
        parsed = links_of(page)
        assert "style" not in parsed.tags, f"{page} inlines CSS"
        text = page.read_text()
        remote = r'(src|href)="(https?:)?//(?!colab\.research|mybinder\.org)'
        assert not re.search(remote, text), page
    css = (site / "_static" / "docgen.css").read_text()
    assert "@import" not in css and "url(" not in css and "@font-face" not in css


def test_images_are_content_hashed_files_shared_between_pages(site: Path) -> None:
    images = list((site / "_images").iterdir())
    assert len(images) == 1  # the same picture, used 4 times, is stored once
    assert images[0].read_bytes() == png_bytes()
    assert re.fullmatch(r"[0-9a-f]{20}\.png", images[0].name)
    assert "base64" not in (site / "index.html").read_text()
    basics = (site / "guide" / "basics.html").read_text()
    assert f'src="../_images/{images[0].name}"' in basics


def test_every_page_offers_its_executed_notebook(site: Path) -> None:
    for page in ["index", "quickstart", "guide/basics"]:
        html = (site / f"{page}.html").read_text()
        name = page.split("/")[-1]
        up = "../" * page.count("/")
        assert f'class="open-notebook" href="{up}{page}.ipynb" download>' in html
        assert f'class="open-clean" href="{up}{page}-clean.ipynb" download>' in html
        assert f'class="open-script" href="{up}{page}.py" download>' in html
        nb = nbformat.read(site / f"{page}.ipynb", as_version=4)
        nbformat.validate(nb)
        assert nb.nbformat == 4, name
    colab = "https://colab.research.google.com/github/o/r/blob/main/doc_nbs/guide/01_basics.ipynb"
    assert colab in (site / "guide" / "basics.html").read_text()


def test_404_page_and_shared_static_files(site: Path) -> None:
    assert "Page not found" in (site / "404.html").read_text()
    assert ".highlight .k " in (site / "_static" / "pygments.css").read_text()
    assert 'href="_static/docgen.css"' in (site / "index.html").read_text()


def test_missing_image_is_a_warning_and_strict_fails(tmp_path: Path) -> None:
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Page\n\n![gone](nowhere.png)")
    config = load_config(cwd=tmp_path, overrides={"execute": False})
    report = build(config, log=lambda _: None)
    assert any(
        "image 'nowhere.png' does not exist" in w and "index.ipynb, cell 1" in w
        for w in report.warnings
    )
    (tmp_path / "site" / "marker").write_text("previous")
    with pytest.raises(BuildFailed, match="nowhere.png"):
        build(
            load_config(cwd=tmp_path, overrides={"execute": False, "strict": True}),
            log=lambda _: None,
        )
    assert (tmp_path / "site" / "marker").read_text() == "previous"


def test_atomic_write_keeps_the_old_site_when_writing_fails(tmp_path: Path) -> None:
    out = tmp_path / "site"
    write_site_atomically(out, {"index.html": b"old", "sub/page.html": b"old page"})
    before = snapshot(out)

    class Exploding(dict):
        def items(self):  # type: ignore[override]
            yield "index.html", b"new"
            raise OSError("disk full")

    with pytest.raises(DocgenError, match="disk full; the previous site is unchanged"):
        write_site_atomically(out, Exploding())
    assert snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_source_notebooks_are_not_modified_by_a_build(tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Same", new_markdown_cell("x"))
    before = nb.read_bytes()
    build(load_config(cwd=tmp_path, overrides={"execute": False}), log=lambda _: None)
    assert nb.read_bytes() == before


def test_links_between_notebooks_point_at_their_pages(tmp_path: Path) -> None:
    nbs = tmp_path / "doc_nbs"
    write_notebook(nbs / "index.ipynb", "md:# Home\n\n[basics](guide/01_basics.ipynb#setup)")
    write_notebook(
        nbs / "guide" / "01_basics.ipynb",
        "md:# Basics\n\n## Setup\n\n[home](../index.ipynb), [next](02_more.ipynb), "
        "[self](01_basics.ipynb#setup), [gone](missing.ipynb)",
    )
    write_notebook(nbs / "guide" / "02_more.ipynb", "md:# More")
    report = build(load_config(cwd=tmp_path, overrides={"execute": False}), log=lambda _: None)
    home = (tmp_path / "site" / "index.html").read_text()
    assert '<a href="guide/basics.html#setup">basics</a>' in home
    basics = (tmp_path / "site" / "guide" / "basics.html").read_text()
    assert '<a href="../index.html">home</a>' in basics
    assert '<a href="../guide/more.html">next</a>' in basics
    assert '<a href="../guide/basics.html#setup">self</a>' in basics
    assert [w for w in report.warnings if "missing.ipynb" in w and "01_basics.ipynb" in w]
