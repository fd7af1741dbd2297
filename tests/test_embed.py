"""Embedding docgen pages in other projects' docs: what a site publishes (`_embed/`, the
scoped stylesheet), the Sphinx extension, the MkDocs plugin and `docgen render --fragment`,
each in real builds against a docgen site built here."""

from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import tinycss2
from conftest import REPO, run_docgen, tagged, write_notebook
from nbformat.v4 import new_markdown_cell

from docgen.api.inventory import InventoryItem, read_inventory, write_inventory
from docgen.config import tomllib
from docgen.embed.fetch import EmbedError, SiteReader, load_fragment
from docgen.linkcheck.offline import check_site
from docgen.site.embeds import EMBED_CLASS, embed_stylesheet

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
SHOW_PNG = (
    "import base64, IPython.display as d\n"
    f"d.display(d.Image(base64.b64decode({base64.b64encode(PNG).decode()!r}), width=40))"
)


@pytest.fixture(scope="session")
def docgen_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small docgen site, built (with a real kernel) once for every test here."""
    root = tmp_path_factory.mktemp("tiny")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "tiny"\n[tool.docgen]\ntitle = "Tiny"\nnbs = "nbs"\nout = "site"\n'
    )
    write_notebook(root / "nbs" / "index.ipynb", "md:# Tiny\n\nThe home page.")
    write_notebook(
        root / "nbs" / "guide" / "plots.ipynb",
        "md:# Plotting guide\n\nIntro.\n\n## Drawing\n\nDrawing makes a picture.",
        SHOW_PNG,
        "md:### Details\n\nSee [the intro](#plotting-guide) and [home](../index.html).\n\n"
        "## Tables\n\nA table section.",
        tagged("print('the answer is', 6 * 7)", "label:answer"),
    )
    write_notebook(root / "nbs" / "guide" / "two words.ipynb", "md:# Two words\n\n## Spaced\n\nOk.")
    result = run_docgen("build", cwd=root)
    assert result.returncode == 0, result.stderr
    return root / "site"


def _embed(site: Path, page: str) -> dict:
    return json.loads((site / "_embed" / page).read_text())


# --- what a built site publishes ---------------------------------------------------------


def test_each_page_publishes_its_sections_and_labelled_cells(docgen_site: Path) -> None:
    data = _embed(docgen_site, "guide/plots.json")
    assert data["project"] == "Tiny"
    assert data["page"] == {"title": "Plotting guide", "url": "guide/plots.html"}
    assert len(data["hash"]) == 64 and "version" in data
    sections = {s["anchor"]: s for s in data["sections"]}
    assert list(sections) == ["plotting-guide", "drawing", "details", "tables"]
    drawing = sections["drawing"]
    # A section runs to the next heading of its level: its subsection is in, the next not.
    assert "Drawing makes a picture" in drawing["html"] and "Details" in drawing["html"]
    assert "A table section" not in drawing["html"]
    assert "Intro." not in drawing["html"]
    # Images and links relative to the site's root, not to the page in guide/.
    [image] = drawing["images"]
    assert image.startswith("_images/") and f'src="{image}"' in drawing["html"]
    assert (docgen_site / image).read_bytes() == PNG
    details = sections["details"]["html"]
    assert 'href="guide/plots.html#plotting-guide"' in details
    assert 'href="index.html"' in details
    [cell] = data["cells"]
    assert cell["label"] == "answer" and "the answer is 42" in cell["html"]
    assert (docgen_site / data["stylesheet"]).is_file()


def test_a_labelled_cell_is_an_anchor_and_a_label_in_objects_inv(docgen_site: Path) -> None:
    assert (
        '<div class="cell code-cell" id="answer">'
        in (docgen_site / "guide" / "plots.html").read_text()
    )
    items = read_inventory((docgen_site / "objects.inv").read_bytes())
    labels = {i.name: i.uri for i in items if i.role == "label"}
    assert labels["guide/plots#answer"] == "guide/plots.html#answer"
    assert labels["guide/plots#drawing"] == "guide/plots.html#drawing"


def test_a_label_repeated_on_a_page_is_a_warning(tmp_path: Path) -> None:
    write_notebook(
        tmp_path / "nbs" / "index.ipynb",
        "md:# Home",
        tagged("1", "label:x"),
        tagged("2", "label:x"),
    )
    result = run_docgen("build", "--nbs", "nbs", "--no-exec", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "repeats the tag 'label:x' of cell 2" in result.stderr


def test_the_embed_stylesheet_touches_nothing_outside_its_class() -> None:
    rules = tinycss2.parse_stylesheet(embed_stylesheet(), skip_comments=True, skip_whitespace=True)
    selectors = []

    def collect(nodes: list) -> None:
        for rule in nodes:
            assert rule.type != "error", rule.message
            if rule.type == "at-rule":  # @media: its rules are checked the same way
                collect(tinycss2.parse_rule_list(rule.content, True, True))
                continue
            selectors.extend(s.strip() for s in tinycss2.serialize(rule.prelude).split(","))

    collect(rules)
    assert len(selectors) > 40  # the theme's rules and the code colours
    outside = [s for s in selectors if not s.startswith(f".{EMBED_CLASS}.{EMBED_CLASS}")]
    assert outside == []


def test_check_reads_the_embed_files(docgen_site: Path, tmp_path: Path) -> None:
    assert check_site(docgen_site).broken == []
    copy = tmp_path / "site"
    shutil.copytree(docgen_site, copy)
    data = _embed(copy, "guide/plots.json")
    image = data["sections"][1]["images"][0]
    (copy / image).unlink()
    (copy / "_embed" / "index.json").write_text("{not json")
    broken = {(r.filename, r.kind) for r in check_site(copy).broken}
    assert ("_embed/guide/plots.json", "missing-file") in broken
    assert ("_embed/index.json", "bad-embed") in broken


def test_an_embed_file_cannot_name_a_file_outside_its_site(
    docgen_site: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    shutil.copytree(docgen_site, site)
    (tmp_path / "secret.txt").write_text("secret")
    embed = site / "_embed" / "guide" / "plots.json"
    data = json.loads(embed.read_text())
    data["sections"][1]["images"] = ["../secret.txt"]
    embed.write_text(json.dumps(data))
    reader = SiteReader(tmp_path / "cache")
    with pytest.raises(EmbedError, match="names the file '../secret.txt', which is not in it"):
        load_fragment("site/guide/plots.html#drawing", {}, reader, tmp_path, tmp_path)
    with pytest.raises(EmbedError, match="which is not in it"):
        load_fragment("s/guide/plots.html#drawing", {"s": str(site)}, reader, tmp_path, tmp_path)


# --- Sphinx ------------------------------------------------------------------------------


def _sphinx(src: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", *args, str(src), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _sphinx_project(folder: Path, body: str, conf: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "conf.py").write_text(f'project = "Host"\nextensions = ["docgen.sphinx"]\n{conf}')
    (folder / "index.rst").write_text(f"Host docs\n=========\n\nHost text.\n\n{body}\n")
    return folder


def test_sphinx_embeds_a_section_with_its_images_and_a_backlink(
    docgen_site: Path, tmp_path: Path
) -> None:
    src = _sphinx_project(
        tmp_path / "host",
        ".. docgen-embed:: tiny/guide/plots.html#drawing\n\n"
        f".. docgen-embed:: {docgen_site}/guide/plots.html#answer\n\n"
        ".. docgen-embed:: tiny/guide/plots.html#nowhere\n",
        conf=f"docgen_sites = {{'tiny': {str(docgen_site)!r}}}\n",
    )
    result = _sphinx(src, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "out" / "index.html").read_text()
    assert page.count(f'<div class="{EMBED_CLASS}"') == 2
    assert "Drawing makes a picture" in page and "the answer is 42" in page
    assert "A table section" not in page
    # The fragment's heading and cell ids would repeat the host's: they are left out.
    assert 'id="drawing"' not in page and 'id="answer"' not in page
    backlink = (
        f'From <a href="{docgen_site.as_uri()}/guide/plots.html#drawing">Plotting guide</a> '
        "in Tiny documentation"
    )
    assert backlink in page
    images = list((tmp_path / "out" / "_static" / "docgen" / "images").iterdir())
    assert [p.read_bytes() for p in images] == [PNG]
    assert f'src="_static/docgen/images/{images[0].name}"' in page
    assert (tmp_path / "out" / "_static" / "docgen" / "docgen-embed.css").is_file()
    assert "_static/docgen/docgen-embed.css" in page
    # Links into the site go to it; the missing anchor is a warning naming those that exist.
    assert f'href="{docgen_site.as_uri()}/index.html"' in page
    assert "docgen-embed: tiny/guide/plots.html#nowhere" in result.stderr
    assert "its anchors are: plotting-guide, drawing, details, tables, answer" in result.stderr
    assert _sphinx(src, tmp_path / "strict", "-W").returncode != 0
    text = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "text", "-q", str(src), str(tmp_path / "text")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert text.returncode == 0, text.stderr
    assert (
        "Drawing: from Plotting guide in Tiny documentation"
        in (tmp_path / "text" / "index.txt").read_text()
    )


def _edit_embed(site: Path, old: str, new: str) -> None:
    embed = site / "_embed" / "guide" / "plots.json"
    embed.write_text(embed.read_text().replace(old, new))


def test_sphinx_reads_a_page_again_when_the_local_site_changes(
    docgen_site: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    shutil.copytree(docgen_site, site)
    src = _sphinx_project(tmp_path / "host", f".. docgen-embed:: {site}/guide/plots.html#drawing\n")
    assert _sphinx(src, tmp_path / "out").returncode == 0
    _edit_embed(site, "makes a picture", "makes a diagram")
    result = _sphinx(src, tmp_path / "out")  # incremental: only what changed is read
    assert result.returncode == 0, result.stderr
    assert "Drawing makes a diagram" in (tmp_path / "out" / "index.html").read_text()


@pytest.fixture
def served_site(
    docgen_site: Path, tmp_path: Path
) -> Iterator[tuple[str, Path, http.server.ThreadingHTTPServer]]:
    """A copy of the site over HTTP: (its URL, the copy, the server)."""
    copy = tmp_path / "served" / "site"
    shutil.copytree(docgen_site, copy)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(copy.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/site/", copy, server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_sphinx_embeds_from_a_url_and_then_offline_from_its_cache(
    served_site: tuple[str, Path, http.server.ThreadingHTTPServer], tmp_path: Path
) -> None:
    url, copy, server = served_site
    src = _sphinx_project(
        tmp_path / "host",
        f".. docgen-embed:: {url}guide/plots.html#drawing\n\n"
        f".. docgen-embed:: {url}guide/two%20words.html#spaced\n",
    )
    assert _sphinx(src, tmp_path / "out").returncode == 0
    first = (tmp_path / "out" / "index.html").read_text()
    assert f'From <a href="{url}guide/plots.html#drawing">' in first
    assert f'From <a href="{url}guide/two%20words.html#spaced">Two words</a>' in first
    # Sphinx cannot see a remote change: a page that embeds a URL is read at every build.
    _edit_embed(copy, "makes a picture", "makes a drawing")
    assert _sphinx(src, tmp_path / "out").returncode == 0
    assert "Drawing makes a drawing" in (tmp_path / "out" / "index.html").read_text()
    server.shutdown()  # the site is gone: a fresh build reads the cache
    server.server_close()
    result = _sphinx(src, tmp_path / "again", "-E", "-d", str(tmp_path / "out" / ".doctrees"))
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "again" / "index.html").read_text()
    assert "Drawing makes a drawing" in page
    assert [p.read_bytes() for p in (tmp_path / "again/_static/docgen/images").iterdir()] == [PNG]


@pytest.mark.kernel
def test_sphinx_docgen_notebook_runs_it_and_links_through_intersphinx(tmp_path: Path) -> None:
    inventory = tmp_path / "inv" / "objects.inv"
    inventory.parent.mkdir()
    inventory.write_bytes(
        write_inventory(
            "Lib", "1", [InventoryItem("tinylib.frobnicate", "py", "function", 1, "api.html#f", "")]
        )
    )
    src = _sphinx_project(
        tmp_path / "host",
        ".. docgen-notebook:: nbs/demo.ipynb\n",
        conf="extensions.append('sphinx.ext.intersphinx')\n"
        f"intersphinx_mapping = {{'lib': ('https://lib.example/', {str(inventory)!r})}}\n",
    )
    write_notebook(
        src / "nbs" / "demo.ipynb",
        new_markdown_cell("## Demo\n\nCall `tinylib.frobnicate` to frobnicate."),
        "print('computed', 6 * 7)",
        SHOW_PNG,
        f"open({str(tmp_path / 'runs')!r}, 'a').write('ran ')",
    )
    result = _sphinx(src, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    # A fresh Sphinx build reads the page again; the notebook comes from docgen's cache.
    again = _sphinx(src, tmp_path / "again", "-E")
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "runs").read_text() == "ran "
    assert "computed 42" in (tmp_path / "again" / "index.html").read_text()
    page = (tmp_path / "out" / "index.html").read_text()
    assert "computed 42" in page  # ran in a kernel: the notebook holds no outputs
    assert '<h2 id="demo">' in page  # the host's own notebook keeps its anchors
    assert 'href="https://lib.example/api.html#f"' in page
    [image] = (tmp_path / "out" / "_static" / "docgen" / "images").iterdir()
    assert image.read_bytes() == PNG
    assert (src / ".docgen_cache").is_dir()  # the execution cache, in the Sphinx project


@pytest.mark.kernel
def test_sphinx_docgen_notebook_a_failing_cell_is_a_warning_naming_it(tmp_path: Path) -> None:
    src = _sphinx_project(tmp_path / "host", ".. docgen-notebook:: broken.ipynb\n")
    write_notebook(src / "broken.ipynb", "x = 1", "1 / 0")
    result = _sphinx(src, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "index.rst:6: WARNING: docgen-notebook:" in result.stderr
    assert "broken.ipynb" in result.stderr and "ZeroDivisionError" in result.stderr
    assert "Exception occurred" not in result.stderr  # Sphinx's own crash report


# --- MkDocs ------------------------------------------------------------------------------


def _mkdocs_entry_point(folder: Path) -> Path:
    """The plugin's entry point as pyproject.toml declares it, for a checkout whose
    installed metadata may predate it."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    declared = pyproject["project"]["entry-points"]
    info = folder / "docgen_plugin_ep-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: docgen-plugin-ep\nVersion: 0\n")
    lines = [f"{k} = {v}" for k, v in declared["mkdocs.plugins"].items()]
    (info / "entry_points.txt").write_text("[mkdocs.plugins]\n" + "\n".join(lines) + "\n")
    return folder


def test_mkdocs_plugin_embeds_a_section(docgen_site: Path, tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    project = tmp_path / "host"
    (project / "docs" / "deep").mkdir(parents=True)
    (project / "mkdocs.yml").write_text(
        f"site_name: Host\nplugins:\n  - docgen:\n      sites:\n        tiny: {docgen_site}\n"
    )
    (project / "docs" / "index.md").write_text(
        "# Host\n\n::: docgen-embed tiny/guide/plots.html#drawing\n"
    )
    (project / "docs" / "deep" / "page.md").write_text(
        "# Deep\n\n::: docgen-embed tiny/guide/plots.html#answer\n\n"
        "::: docgen-embed tiny/guide/plots.html#nowhere\n\n"
        "```\n::: docgen-embed tiny/guide/plots.html#drawing\n```\n"
    )
    entry = _mkdocs_entry_point(tmp_path / "ep")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(entry)])}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-f", str(project / "mkdocs.yml")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=project,
    )
    assert result.returncode == 0, result.stderr
    site = project / "site"
    home = (site / "index.html").read_text()
    assert "Drawing makes a picture" in home and f'class="{EMBED_CLASS}"' in home
    assert "From <a href=" in home and "in Tiny documentation" in home
    [image] = (site / "_docgen" / "images").iterdir()
    assert image.read_bytes() == PNG and f'src="_docgen/images/{image.name}"' in home
    deep = (site / "deep" / "page" / "index.html").read_text()
    assert "the answer is 42" in deep
    assert "Drawing makes a picture" not in deep  # the line in a code block is shown as is
    assert "::: docgen-embed tiny/guide/plots.html#drawing" in deep
    assert 'href="../../_docgen/docgen-embed.css"' in deep
    assert "tiny/guide/plots.html#nowhere" in result.stderr and "its anchors are" in result.stderr


# --- docgen render --fragment ----------------------------------------------------------


@pytest.mark.kernel
def test_render_fragment_writes_the_fragment_its_images_and_the_stylesheet(
    tmp_path: Path,
) -> None:
    write_notebook(tmp_path / "demo.ipynb", "md:# Demo\n\nText.", "print(6 * 7)", SHOW_PNG)
    result = run_docgen("render", "demo.ipynb", "--fragment", "--out", "frag", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "frag" / "demo.html").read_text()
    assert html.startswith(f'<div class="{EMBED_CLASS}"') and "42" in html
    [image] = (tmp_path / "frag" / "images").iterdir()
    assert image.read_bytes() == PNG and f'src="images/{image.name}"' in html
    assert (tmp_path / "frag" / "docgen-embed.css").read_text() == embed_stylesheet()
    assert not (tmp_path / "demo.ipynb").read_text().count('"outputs": [\n     {')  # untouched


def test_render_needs_fragment_and_a_notebook(tmp_path: Path) -> None:
    write_notebook(tmp_path / "demo.ipynb", "md:# Demo")
    result = run_docgen("render", "demo.ipynb", cwd=tmp_path)
    assert result.returncode == 2 and "add --fragment" in result.stderr
    result = run_docgen("render", "missing.ipynb", "--fragment", cwd=tmp_path)
    assert result.returncode == 2 and "missing.ipynb does not exist" in result.stderr


# --- in the browser ----------------------------------------------------------------------

HOST_PAGE = """Host docs
=========

Host text with ``inline code``.

.. code-block:: python

   host = "code"

Host section
------------

A host paragraph.

{embed}
"""
STYLES = [
    "fontFamily",
    "fontSize",
    "fontWeight",
    "color",
    "lineHeight",
    "marginTop",
    "marginBottom",
    "paddingTop",
    "borderBottomWidth",
    "backgroundColor",
    "letterSpacing",
]


def _styles(tab, selector: str) -> dict:  # type: ignore[no-untyped-def]
    return tab.eval_on_selector(
        selector, f"e => {{ const s = getComputedStyle(e); return {STYLES}.map(k => s[k]); }}"
    )


def test_the_fragment_looks_right_in_alabaster_and_leaves_the_host_alone(
    browser, docgen_site: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "host"
    src.mkdir()
    (src / "conf.py").write_text(
        'project = "Host"\nextensions = ["docgen.sphinx"]\nhtml_theme = "alabaster"\n'
        f"docgen_sites = {{'tiny': {str(docgen_site)!r}}}\n"
    )
    (src / "index.rst").write_text(".. toctree::\n\n   plain\n   embedded\n")
    (src / "plain.rst").write_text(HOST_PAGE.format(embed=""))
    (src / "embedded.rst").write_text(
        HOST_PAGE.format(embed=".. docgen-embed:: tiny/guide/plots.html#drawing")
    )
    result = _sphinx(src, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    context = browser.new_context()
    plain, embedded = context.new_page(), context.new_page()
    plain.goto((tmp_path / "out" / "plain.html").as_uri())
    embedded.goto((tmp_path / "out" / "embedded.html").as_uri())
    # The host's own headings and code look the same with the embed's stylesheet loaded.
    host = ["h1", "section#host-section > h2", "#host-docs > div > div.highlight pre", "p code"]
    for selector in host:
        assert _styles(embedded, selector) == _styles(plain, selector), selector
    # The fragment's code keeps its own font, panel and padding against alabaster's `pre`.
    code = embedded.eval_on_selector(
        ".docgen-embed pre",
        "e => { const s = getComputedStyle(e), p = getComputedStyle(e.closest('.highlight'));"
        " return [s.fontFamily, s.paddingLeft, p.backgroundColor]; }",
    )
    assert "monospace" in code[0] and code[1] == "16px" and code[2] == "rgb(246, 248, 250)"
    host_pre = _styles(plain, host[2])
    assert host_pre[STYLES.index("backgroundColor")] != "rgb(246, 248, 250)"
    size = embedded.eval_on_selector(
        ".docgen-embed img", "e => [e.naturalWidth, e.getBoundingClientRect().width]"
    )
    assert size[0] == 1 and size[1] > 0
    assert embedded.inner_text(".docgen-embed .docgen-embed-source").startswith(
        "From Plotting guide in Tiny documentation"
    )
    context.close()
