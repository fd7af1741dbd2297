"""What a site may read, link and load: images only from inside the project, links that
reach every page whatever its notebook is named, and no requests to other hosts."""

from __future__ import annotations

import os
import re
import tempfile
import zlib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

import nbformat
import pytest
from conftest import run_docgen, snapshot, write_notebook
from hypothesis import given, settings
from hypothesis import strategies as st
from linksite import INDEX_MD, LINKDEMO, linkdemo_importable, show_doc_cell
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from docgen.api.inventory import InventoryItem, read_inventory, writable
from docgen.config import load_config
from docgen.errors import BuildFailed, UsageError
from docgen.linkcheck.offline import check_site
from docgen.notebooks.discover import strip_prefix
from docgen.pipeline import build
from docgen.render.remote import host_allowed, remote_requests
from docgen.site.urls import href, path_of

QUIET = {"log": lambda _: None}


def no_exec(root: Path, **options: object) -> object:
    return load_config(cwd=root, overrides={"execute": False, **options})


class Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs += [v for k, v in attrs if k in ("href", "src") and v is not None]


def hrefs_of(page: Path) -> list[str]:
    parser = Hrefs()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.hrefs


# ------------------------------------------------------------- images from outside


@pytest.fixture
def secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """A file outside the project whose bytes must never reach a site."""
    value = f"SECRET-{os.getpid()}-{id(tmp_path)}".encode()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.png").write_bytes(value)
    return value


def no_file_contains(folder: Path, data: bytes) -> bool:
    """No file docgen wrote under `folder` (its notebooks aside) holds `data`."""
    return all(
        data not in p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and "doc_nbs" not in p.relative_to(folder).parts
    )


@pytest.mark.parametrize(
    "markdown",
    [
        "![x](../../outside/secret.png)",
        "![x](../../outside/secret%2Epng)",  # encoded: still the same file
        "![x](inside.png)",  # a symlink inside the notebooks folder, to the secret
        "![x](../../../../../../../../../proc/self/environ)",
        "![x](" + "../" * 30 + "etc/passwd)",
    ],
)
def test_an_image_from_outside_the_project_fails_the_build_and_is_not_published(
    tmp_path: Path, secret: bytes, markdown: str
) -> None:
    root = tmp_path / "project"
    nbs = root / "doc_nbs"
    write_notebook(nbs / "index.ipynb", "md:# Home")
    build(no_exec(root), **QUIET)
    before = snapshot(root / "site")
    (nbs / "inside.png").symlink_to(tmp_path / "outside" / "secret.png")
    write_notebook(nbs / "index.ipynb", "md:# Home", f"md:Look: {markdown}")
    # Not only under --strict: the build fails, naming notebook, cell and path.
    with pytest.raises(BuildFailed) as failed:
        build(no_exec(root), **QUIET)
    message = str(failed.value)
    assert "index.ipynb, cell 2" in message
    assert markdown[5:-1] in message and "outside the project folder" in message
    assert snapshot(root / "site") == before
    assert no_file_contains(tmp_path / "project", secret)


def test_the_cli_fails_with_exit_1_without_strict(tmp_path: Path, secret: bytes) -> None:
    root = tmp_path / "project"
    write_notebook(root / "doc_nbs" / "index.ipynb", "md:![x](../../outside/secret.png)")
    result = run_docgen("build", "--no-exec", cwd=root)
    assert result.returncode == 1, result.stderr
    assert "index.ipynb, cell 1: image '../../outside/secret.png'" in result.stderr
    assert not (root / "site").exists()
    assert no_file_contains(root, secret)


def test_an_image_that_is_not_a_regular_file_fails_the_build(tmp_path: Path) -> None:
    nbs = tmp_path / "doc_nbs"
    nbs.mkdir()
    os.mkfifo(nbs / "pipe.png")  # reading it would hang the build
    (nbs / "folder.png").mkdir()
    write_notebook(nbs / "index.ipynb", "md:![p](pipe.png)", "md:![f](folder.png)")
    with pytest.raises(BuildFailed) as failed:
        build(no_exec(tmp_path), **QUIET)
    assert "cell 1: image 'pipe.png'" in str(failed.value)
    assert "cell 2: image 'folder.png'" in str(failed.value)
    assert "not a regular file" in str(failed.value)


def test_images_anywhere_inside_the_project_are_copied(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.docgen]\n")  # the project root: here
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "logo one.png").write_bytes(b"\x89PNG-logo")
    (tmp_path / "doc_nbs").mkdir()
    (tmp_path / "doc_nbs" / "same.png").symlink_to(tmp_path / "assets" / "logo one.png")
    write_notebook(
        tmp_path / "doc_nbs" / "index.ipynb",
        "md:![a](../assets/logo%20one.png) ![b](<../assets/logo one.png>) ![c](same.png)",
    )
    report = build(no_exec(tmp_path), **QUIET)
    assert report.warnings == []
    images = list((tmp_path / "site" / "_images").iterdir())
    assert [p.read_bytes() for p in images] == [b"\x89PNG-logo"]


def test_without_a_config_file_images_come_only_from_the_notebooks_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `cd ~ && docgen build --nbs proj/nbs --out proj/site`: the root is the home folder.
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    key = f"KEY-{os.getpid()}-{id(tmp_path)}".encode()
    (home / ".ssh" / "id_rsa").write_bytes(key)
    (home / "proj" / "logo.png").parent.mkdir(parents=True)
    (home / "proj" / "logo.png").write_bytes(b"\x89PNG-logo")
    nbs = home / "proj" / "nbs"
    write_notebook(nbs / "index.ipynb", "md:![k](../../.ssh/id_rsa)", "md:![l](../logo.png)")
    (nbs / "ok.png").write_bytes(b"\x89PNG-ok")
    write_notebook(nbs / "ok.ipynb", "md:![o](ok.png)")
    monkeypatch.chdir(home)
    result = run_docgen("build", "--no-exec", "--nbs", "proj/nbs", "--out", "proj/site", cwd=home)
    assert result.returncode == 1, result.stderr
    assert "index.ipynb, cell 1: image '../../.ssh/id_rsa'" in result.stderr
    assert "index.ipynb, cell 2: image '../logo.png'" in result.stderr
    assert "ok.ipynb" not in result.stderr
    assert not (home / "proj" / "site").exists() and no_file_contains(home / "proj", key)


def test_a_notebooks_folder_outside_the_project_may_hold_images(
    tmp_path: Path, secret: bytes
) -> None:
    (tmp_path / "project").mkdir()
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    (nbs / "plot.png").write_bytes(b"\x89PNG-plot")
    write_notebook(nbs / "index.ipynb", "md:![p](plot.png)")
    config = load_config(cwd=tmp_path / "project", overrides={"nbs": nbs, "execute": False})
    build(config, **QUIET)
    assert [p.read_bytes() for p in (tmp_path / "project" / "site" / "_images").iterdir()] == [
        b"\x89PNG-plot"
    ]
    write_notebook(nbs / "index.ipynb", "md:![p](plot.png)", "md:![s](../outside/secret.png)")
    with pytest.raises(BuildFailed, match="cell 2: image '../outside/secret.png'"):
        build(config, **QUIET)


# ------------------------------------------------------------- notebook names

HOSTILE_NAMES = [
    "javascript:alert(document.domain)",
    "step1:setup",
    "hash#tag",
    "q?mark",
    "pct%20x",
    "my page",
    "ünïcödé 页",
    "-leading",
    "a b:c 1 d",  # looks like an objects.inv line
    "data:text",
    "line\nbreak",
]


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("hostile")
    nbs = root / "doc_nbs"
    links = (
        "[a](my%20page.ipynb) [b](<my page.ipynb>) [c](hash%23tag.ipynb#part) "
        "[d](q%3Fmark.ipynb) [e](pct%2520x.ipynb) [f](guide/sub%20page.ipynb) "
        "[g](step1:setup.ipynb) [h](pct%20x.ipynb)"  # h: the literal name comes first
    )
    write_notebook(nbs / "index.ipynb", "md:# Home", f"md:{links}")
    for name in HOSTILE_NAMES:
        write_notebook(nbs / f"{name}.ipynb", "md:## Part", "md:text")
    write_notebook(nbs / "guide" / "sub page.ipynb", "md:# Sub", "md:[up](../my%20page.ipynb)")
    (root / "pyproject.toml").write_text(
        '[tool.docgen]\nrepo = "https://github.com/o/r"\nbranch = "dev/x y"\n'
    )
    report = build(load_config(cwd=root, overrides={"execute": False}), **QUIET)
    return root / "site", report.warnings


def test_every_hostile_name_builds_a_page(hostile_site: tuple[Path, list[str]]) -> None:
    site, warnings = hostile_site
    for name in HOSTILE_NAMES:
        assert (site / f"{name}.html").is_file()
        assert (site / f"{name}.ipynb").is_file()
    assert not [w for w in warnings if "not a notebook of the docs" in w], warnings


def test_a_link_spelling_a_notebook_name_literally_reaches_it(
    hostile_site: tuple[Path, list[str]],
) -> None:
    site, _ = hostile_site
    # `pct%20x.ipynb` is the notebook of that name (no `pct x.ipynb` exists); written
    # encoded, `pct%2520x.ipynb`, it is the same one.
    assert hrefs_of(site / "index.html").count("pct%2520x.html") >= 2 + 1  # + the sidebar


def test_no_href_can_become_a_scheme(hostile_site: tuple[Path, list[str]]) -> None:
    site, _ = hostile_site
    for page in site.rglob("*.html"):
        for link in hrefs_of(page):
            scheme = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", link)
            assert scheme is None or scheme.group(1) in ("http", "https", "mailto"), (page, link)


def test_the_link_checker_passes_on_the_site(hostile_site: tuple[Path, list[str]]) -> None:
    site, _ = hostile_site
    report = check_site(site, nbdev=False)
    assert report.broken == []
    # Sidebar, prev/next, notebook copy and links between notebooks were all checked.
    checked = {unquote(r.uri) for r in report.results}
    assert {"javascript:alert(document.domain).html", "hash#tag.html#part"} <= checked
    assert "javascript:alert(document.domain).ipynb" in checked


def test_notebook_links_and_colab_are_encoded(hostile_site: tuple[Path, list[str]]) -> None:
    site, _ = hostile_site
    page = hrefs_of(site / "my page.html")
    assert "my%20page.ipynb" in page
    assert (
        "https://colab.research.google.com/github/o/r/blob/dev/x%20y/doc_nbs/my%20page.ipynb"
        in page
    )
    assert "../my%20page.html" in hrefs_of(site / "guide" / "sub page.html")


def test_search_index_and_objects_inv_hold_encoded_links(
    hostile_site: tuple[Path, list[str]],
) -> None:
    site, _ = hostile_site
    index = (site / "_static" / "search-index.js").read_text(encoding="utf-8")
    assert '"javascript%3Aalert%28document.domain%29.html"' in index
    assert '"q%3Fmark.html"' in index
    items = {i.name: i.uri for i in read_inventory((site / "objects.inv").read_bytes())}
    assert items["my page"] == "my%20page.html"
    assert items["hash#tag#part"] == "hash%23tag.html#part"
    assert items["javascript:alert(document.domain)"].startswith("javascript%3A")
    # Names no reader could split from their line are left out, not a failed build.
    assert "a b:c 1 d" not in items and not any("\n" in name for name in items)


def test_objects_inv_names_with_spaces_read_back() -> None:
    assert writable(InventoryItem("my page", "std", "doc", -1, "my%20page.html", "My page"))
    assert not writable(InventoryItem("a b:c 1 d", "std", "doc", -1, "a.html", "A"))
    assert not writable(InventoryItem("x", "std", "doc", -1, "my page.html", "A"))


@pytest.mark.parametrize(
    ("path", "fragment", "link"),
    [
        ("javascript:x.html", "", "javascript%3Ax.html"),
        ("a b/c#d?.html", "", "a%20b/c%23d%3F.html"),
        ("pct%20.html", "", "pct%2520.html"),
        ("p.html", "a b%", "p.html#a%20b%25"),
        ("页.html", "", "%E9%A1%B5.html"),
    ],
)
def test_href_round_trips(path: str, fragment: str, link: str) -> None:
    assert href(path, fragment) == link
    assert path_of(link) == path


# A notebook name: anything a file system allows (all but '/' and NUL), short, with the
# characters that mean something in URLs and objects.inv lines drawn often.
name_chars = st.one_of(
    st.sampled_from(list(":#?%& +;=@!$'()[]\\<>\"`~^{}|,.-_\t\n") + ["页", "é", "🙂"]),
    st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)),
)
names = st.text(name_chars, min_size=1, max_size=10).filter(
    # Hidden names are skipped by design; `404` and `_x` are among the site's own files;
    # every project has its `index` (the header links to it).
    lambda n: not n.startswith((".", "_")) and strip_prefix(n) not in ("404", "index")
    and len(n.encode()) < 200
)


def crawl(site: Path, start: str) -> set[str]:
    """Every site file reached from `start` through hrefs, resolved as a browser would."""
    base = "http://site.test/"
    seen: set[str] = set()
    todo = [start]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        if not path.endswith(".html") or not (site / path).is_file():
            continue
        page_url = urljoin(base, quote(path, safe="/"))
        for link in hrefs_of(site / path):
            target = urlsplit(urljoin(page_url, link))
            if target.netloc == "site.test":
                todo.append(unquote(target.path)[1:])
    return seen


@settings(max_examples=25)
@given(st.lists(names, min_size=1, max_size=5, unique_by=strip_prefix))
def test_every_page_is_reachable_whatever_the_notebooks_are_named(names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name in [*names, "index"]:
            write_notebook(root / "doc_nbs" / f"{name}.ipynb", "md:## A heading", "md:text")
        report = build(no_exec(root), **QUIET)
        site = root / "site"
        pages = {page.url for page in report.pages}
        assert pages == {f"{strip_prefix(n)}.html" for n in [*names, "index"]}
        reached = crawl(site, "index.html")
        assert pages <= reached
        assert {url[: -len(".html")] + ".ipynb" for url in pages} <= reached
        assert check_site(site, nbdev=False).broken == []
        zlib.decompress((site / "objects.inv").read_bytes().split(b"\n", 4)[4])


# ------------------------------------------------------------- remote requests


def test_remote_requests_found_by_tag_and_attribute() -> None:
    html = """
    <img src="https://a.test/x.png"> <img srcset="local.png 1x, //b.test/y.png 2x">
    <script src="http://c.test/lib.js"></script> <script>fetch("https://not-parsed.test")</script>
    <link rel="stylesheet" href="https://d.test/s.css"> <link rel="canonical" href="https://e.test">
    <link rel="icon" href="https://f.test/i.ico"> <iframe src="https://g.test/embed"></iframe>
    <video poster="https://h.test/p.jpg"></video> <div style="background: url('https://i.test/b.png')">
    <style>@import "https://j.test/more.css";</style> <object data="HTTPS://K.test/o.swf"></object>
    <svg><image href="https://l.test/i.svg"/></svg> <img src="\\\\m.test/z.png">
    <a href="https://fine.test">a link is not a request</a> <img src="data:image/png;base64,AA==">
    <img src="_images/local.png"> <img src="javascript:void(0)">
    """
    found = [(r.what, r.host) for r in remote_requests(html)]
    assert found == [
        ("<img src>", "a.test"),
        ("<img srcset>", "b.test"),
        ("<script src>", "c.test"),
        ("<link rel=stylesheet>", "d.test"),
        ("<link rel=icon>", "f.test"),
        ("<iframe src>", "g.test"),
        ("<video poster>", "h.test"),
        ("<div style>", "i.test"),
        ("<style>", "j.test"),
        ("<object data>", "k.test"),
        ("<image href>", "l.test"),
        ("<img src>", "m.test"),
    ]


@pytest.mark.parametrize(
    "html, what, host",
    [
        ('<img src="&#x68;ttps:&#x2F;&#x2F;evil.test/x.png">', "<img src>", "evil.test"),
        ("<img src=&#104;ttp&colon;//evil.test/x.png>", "<img src>", "evil.test"),
        ('<div style="background: url(&#x2F;&#x2F;evil.test/x)">', "<div style>", "evil.test"),
        ('<p style="background:url(&quot;\\2f\\2f evil.test/x&quot;)">', "<p style>", "evil.test"),
        ('<style>b { background: url("\\2f\\2f evil.test/x") }</style>', "<style>", "evil.test"),
        ("<style>@import/**/'//evil.test/s.css';</style>", "<style>", "evil.test"),
        ('<style>a{b:u\\72l(//evil.test/x)}</style>', "<style>", "evil.test"),
        ('<i style="background: image-set(\'//evil.test/x\' 1x)">', "<i style>", "evil.test"),
        (
            '<iframe srcdoc="&lt;img src=&quot;https://evil.test/x.png&quot;&gt;"></iframe>',
            "<iframe srcdoc> <img src>",
            "evil.test",
        ),
        (
            "<iframe srcdoc='<iframe srcdoc=\"&lt;script src=//evil.test/s.js&gt;\"></iframe>'>",
            "<iframe srcdoc> <iframe srcdoc> <script src>",
            "evil.test",
        ),
        ('<svg><script href="https://evil.test/s.js"/></svg>', "<script href>", "evil.test"),
        ('<svg><script xlink:href="//evil.test/s.js"/></svg>', "<script xlink:href>", "evil.test"),
        ('<svg><use xlink:href="//evil.test/u.svg"/></svg>', "<use xlink:href>", "evil.test"),
        ("<svg><style>a{b:url(&#x2F;&#x2F;evil.test/x)}</style></svg>", "<style>", "evil.test"),
        (
            '<meta http-equiv="Refresh" content="0; url=https://evil.test/">',
            "<meta http-equiv=refresh>",
            "evil.test",
        ),
        ('<base href="https://evil.test/">', "<base href>", "evil.test"),
        ('<base href="../elsewhere/">', "<base href>", ""),
    ],
)
def test_remote_requests_hidden_by_escapes_and_nesting_are_found(
    html: str, what: str, host: str
) -> None:
    assert [(r.what, r.host) for r in remote_requests(html)] == [(what, host)]


def test_escaped_requests_and_base_are_warnings_even_under_allow_remote(tmp_path: Path) -> None:
    html = new_code_cell("show()", execution_count=1)
    html.outputs = [
        new_output(
            "display_data",
            data={"text/html": '<img src="&#x68;ttps:&#x2F;&#x2F;evil.test/x.png">'},
        )
    ]
    write_notebook(
        tmp_path / "doc_nbs" / "index.ipynb",
        "md:# Home",
        html,
        new_markdown_cell('<base href="https://ok.test/">'),
    )
    (tmp_path / "pyproject.toml").write_text('[tool.docgen]\nallow_remote = ["ok.test"]\n')
    with pytest.raises(BuildFailed) as failed:
        build(no_exec(tmp_path, strict=True), **QUIET)
    message = str(failed.value)
    assert "cell 2: <img src> loads https://evil.test/x.png from evil.test" in message
    assert "cell 3: <base href> https://ok.test/ re-points every relative image" in message


def test_allow_remote_hosts_and_wildcards() -> None:
    allow = ["cdn.plot.ly", "*.example.org"]
    assert host_allowed("cdn.plot.ly", allow)
    assert host_allowed("a.b.example.org", allow)
    assert not host_allowed("example.org", allow)
    assert not host_allowed("evilexample.org", allow)
    assert not host_allowed("plot.ly", allow)


@pytest.fixture
def remote_project(tmp_path: Path) -> Path:
    html = new_code_cell("show()", execution_count=1)
    html.outputs = [
        new_output(
            "display_data",
            data={
                "text/html": '<script src="https://cdn.plot.ly/plotly.js"></script>'
                '<a href="https://plotly.com">plotly</a>'
            },
        )
    ]
    raw = nbformat.v4.new_raw_cell(
        '<link rel="stylesheet" href="https://fonts.example.org/f.css">',
        metadata={"format": "text/html"},
    )
    write_notebook(
        tmp_path / "doc_nbs" / "index.ipynb",
        "md:# Home\n\n![remote](https://img.example.org/a.png) <img src=http://raw.test/b.png>",
        html,
        raw,
        new_markdown_cell("[a link](https://example.com) is fine"),
    )
    return tmp_path


def test_remote_requests_are_warnings_naming_notebook_cell_and_url(remote_project: Path) -> None:
    report = build(no_exec(remote_project), **QUIET)
    remote = [w for w in report.warnings if "makes no network requests" in w]
    assert len(remote) == 4, report.warnings
    for cell, url in [
        (1, "https://img.example.org/a.png"),
        (1, "http://raw.test/b.png"),
        (2, "https://cdn.plot.ly/plotly.js"),
        (3, "https://fonts.example.org/f.css"),
    ]:
        assert [w for w in remote if f"index.ipynb, cell {cell}:" in w and url in w], url
    with pytest.raises(BuildFailed, match="cdn.plot.ly"):
        build(no_exec(remote_project, strict=True), **QUIET)


def test_allow_remote_accepts_the_authors_hosts(remote_project: Path) -> None:
    (remote_project / "pyproject.toml").write_text(
        '[tool.docgen]\nstrict = true\nallow_remote = ["cdn.plot.ly", "*.example.org", '
        '"raw.test"]\n'
    )
    report = build(no_exec(remote_project), **QUIET)
    assert report.warnings == []


@pytest.mark.parametrize("entry", ["https://cdn.plot.ly", "cdn.plot.ly/x", "a*.org", ""])
def test_allow_remote_wants_host_names(tmp_path: Path, entry: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f'[tool.docgen]\nallow_remote = ["{entry}"]\n')
    with pytest.raises(UsageError, match="allow_remote wants host names"):
        load_config(cwd=tmp_path)


def test_a_notebook_name_that_is_not_utf8_is_an_error_naming_it(tmp_path: Path) -> None:
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Home")
    write_notebook(tmp_path / "doc_nbs" / os.fsdecode(b"bad\xffname.ipynb"), "md:x")
    result = run_docgen("build", "--no-exec", cwd=tmp_path)
    assert result.returncode == 1
    assert "bad\\xffname.ipynb': the notebook's name is not UTF-8" in result.stderr
    assert "Traceback" not in result.stderr


def test_api_links_to_a_page_with_a_hostile_name(tmp_path: Path) -> None:
    nbs = tmp_path / "nbs"
    with linkdemo_importable():
        write_notebook(
            nbs / "my page:api#1.ipynb",
            new_markdown_cell(INDEX_MD),
            "import linkdemo\nfrom docgen import show_doc",
            show_doc_cell("linkdemo.Widget"),
        )
        write_notebook(nbs / "index.ipynb", "md:See `linkdemo.Widget`.", "import linkdemo")
        config = load_config(
            cwd=LINKDEMO,
            overrides={"nbs": nbs, "out": tmp_path / "site", "execute": False,
                       "packages": ["linkdemo"]},
        )
        build(config, **QUIET)
    site = tmp_path / "site"
    home = "my%20page%3Aapi%231.html#linkdemo.core.Widget"
    assert home in hrefs_of(site / "index.html")
    items = {i.name: i.uri for i in read_inventory((site / "objects.inv").read_bytes())}
    assert items["linkdemo.core.Widget"] == home
    assert f'"url": "{home}"' in (site / "symbols.json").read_text(encoding="utf-8")
    assert check_site(site, nbdev=False).broken == []
