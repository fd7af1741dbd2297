"""The theme in a real Chromium: the 404 page at any depth of a project site and from disk,
and `docgen check` on it. Browser tests skip when /usr/bin/chromium is missing (`make test`
installs it with apt)."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_docgen, write_notebook

from docgen.config import load_config
from docgen.pipeline import build

PROJECT = "/proj/"  # where GitHub Pages serves a project site: https://user.github.io/proj/


def make_site(root: Path, config: str = "") -> Path:
    (root / "pyproject.toml").write_text(f'[tool.docgen]\ntitle = "Mylib"\n{config}')
    nbs = root / "doc_nbs"
    write_notebook(nbs / "index.ipynb", "md:# Mylib\n\nThe first paragraph of the home page.")
    write_notebook(
        nbs / "guide" / "basics.ipynb", "md:# Basics\n\nHow to start.\n\n## Next", "print(1)"
    )
    build(load_config(cwd=root, overrides={"execute": False}), log=lambda _: None)
    return root / "site"


class _PagesHandler(http.server.SimpleHTTPRequestHandler):
    """A static host as GitHub Pages is one: the site under PROJECT, and its 404.html, with
    status 404, for every address that has no file."""

    def translate_path(self, path: str) -> str:
        path = path.split("?")[0]
        if not path.startswith(PROJECT):
            return "/nonexistent"
        return super().translate_path("/" + path[len(PROJECT) :])

    def send_head(self):  # type: ignore[no-untyped-def]
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            body = (Path(self.directory) / "404.html").read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(body)
            return None
        return super().send_head()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator:  # type: ignore[type-arg]
    servers = []

    def start(site: Path) -> str:
        handler = functools.partial(_PagesHandler, directory=str(site))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        servers.append((httpd, thread))
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield start
    for httpd, thread in servers:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def context(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context()
    yield context
    context.close()


def styled(tab) -> bool:  # type: ignore[no-untyped-def]
    """Whether docgen.css applies: its rules are loaded and the header is laid out by it."""
    tab.wait_for_function(
        "() => getComputedStyle(document.querySelector('.site-header')).position === 'sticky'",
        timeout=5000,
    )
    return True


# --- the 404 page -------------------------------------------------------------------


@pytest.mark.parametrize("site_url", ["", "https://user.github.io/proj/"])
@pytest.mark.parametrize("address", ["missing.html", "guide/missing.html", "a/b/c/"])
def test_404_is_styled_and_links_home_at_any_depth(  # type: ignore[no-untyped-def]
    tmp_path: Path, serve, context, site_url: str, address: str
) -> None:
    site = make_site(tmp_path, f'site_url = "{site_url}"\n' if site_url else "")
    base = serve(site)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    response = tab.goto(f"{base}{PROJECT}{address}")
    assert response.status == 404 and "Page not found" in tab.content()
    assert styled(tab)
    home = tab.locator(".site-title")
    tab.wait_for_function(
        "() => document.querySelector('.site-title').href.endsWith('/proj/index.html')"
    )
    home.click()
    tab.wait_for_url(f"{base}{PROJECT}index.html")
    assert tab.locator("h1").first.inner_text().startswith("Mylib")
    assert not errors


@pytest.mark.parametrize("site_url", ["", "https://user.github.io/proj/"])
def test_404_from_disk(tmp_path: Path, context, site_url: str) -> None:  # type: ignore[no-untyped-def]
    site = make_site(tmp_path, f'site_url = "{site_url}"\n' if site_url else "")
    tab = context.new_page()
    tab.goto((site / "404.html").as_uri())
    assert styled(tab)
    assert tab.locator(".site-title").evaluate("a => a.href") == (site / "index.html").as_uri()


def test_404_is_not_indexed(tmp_path: Path) -> None:
    page = (make_site(tmp_path) / "404.html").read_text()
    assert '<meta name="robots" content="noindex">' in page


@pytest.mark.parametrize(
    "site_url", ["", "https://user.github.io/proj/", "https://docs.example.org"]
)
def test_check_finds_no_broken_link_in_the_404_page(tmp_path: Path, site_url: str) -> None:
    make_site(tmp_path, f'site_url = "{site_url}"\n' if site_url else "")
    done = run_docgen("check", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ": 0 broken" in done.stdout


def test_check_resolves_links_into_site_url_against_the_site(tmp_path: Path) -> None:
    site = make_site(tmp_path, 'site_url = "https://user.github.io/proj/"\n')
    (site / "extra.html").write_text(
        '<a href="/proj/guide/basics.html">a</a> <a href="https://user.github.io/proj/index.html">b</a>'
        ' <a href="/proj/gone.html">c</a> <a href="https://user.github.io/proj/gone2.html">d</a>'
    )
    done = run_docgen("check", cwd=tmp_path)
    assert done.returncode == 1
    broken = [line for line in done.stdout.splitlines() if line.startswith("extra.html")]
    assert len(broken) == 2 and "gone.html does not exist" in broken[0]
    assert "gone2.html does not exist" in broken[1]


# --- page titles and meta ------------------------------------------------------------


def test_a_page_titled_as_the_site_names_it_once(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    assert "<title>Mylib</title>" in (site / "index.html").read_text()
    assert "<title>Basics — Mylib</title>" in (site / "guide" / "basics.html").read_text()


# --- the theme in the browser --------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path, serve) -> str:  # type: ignore[no-untyped-def]
    """The small site, on a project path, with a long first page so the fold matters."""
    return serve(make_site(tmp_path)) + PROJECT


def background(tab) -> str:  # type: ignore[no-untyped-def]
    return tab.evaluate("getComputedStyle(document.body).backgroundColor")


def test_at_390px_the_menu_opens_the_nav_and_the_heading_is_above_the_fold(  # type: ignore[no-untyped-def]
    browser, served: str
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    tab = context.new_page()
    tab.goto(served + "guide/basics.html")
    heading = tab.locator("h1").first.bounding_box()
    assert heading is not None and heading["y"] + heading["height"] < 844
    nav = tab.locator(".sidebar")
    assert not nav.is_visible()
    tab.click(".menu-button")
    tab.wait_for_function(
        "() => getComputedStyle(document.querySelector('.sidebar')).transform === 'none'"
    )
    assert nav.is_visible() and tab.locator(".menu-button").get_attribute("aria-expanded") == "true"
    box = nav.bounding_box()
    assert box is not None and box["x"] >= -1 and box["width"] <= 390
    tab.keyboard.press("Escape")
    assert tab.locator(".menu-button").get_attribute("aria-expanded") == "false"
    # the page's contents: collapsed above the page, not beside it
    assert not tab.locator(".toc").is_visible()
    contents = tab.locator(".toc-inline")
    assert contents.is_visible() and contents.get_attribute("open") is None
    context.close()


def test_dark_mode_follows_the_system(context, served: str) -> None:  # type: ignore[no-untyped-def]
    tab = context.new_page()
    tab.emulate_media(color_scheme="light")
    tab.goto(served + "index.html")
    light = background(tab)
    tab.emulate_media(color_scheme="dark")
    assert background(tab) != light
    assert tab.evaluate(
        "getComputedStyle(document.querySelector('.highlight .k') || document.body).color"
    )


def test_the_theme_toggle_is_remembered(context, served: str) -> None:  # type: ignore[no-untyped-def]
    tab = context.new_page()
    tab.emulate_media(color_scheme="light")
    tab.goto(served + "index.html")
    light = background(tab)
    tab.click(".theme-toggle")
    dark = background(tab)
    assert dark != light and tab.get_attribute(".theme-toggle", "aria-pressed") == "true"
    tab.goto(served + "guide/basics.html")  # another page, and a reload: still dark
    assert background(tab) == dark
    tab.reload()
    assert background(tab) == dark
    tab.click(".theme-toggle")
    tab.emulate_media(color_scheme="dark")  # light was chosen: the system's dark is overruled
    assert background(tab) == light


def test_the_copy_button_copies_the_code_only(browser, served: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    tab = context.new_page()
    tab.goto(served + "guide/basics.html")
    tab.hover(".cell-input")
    tab.click(".cell-input .copy-button")
    assert tab.evaluate("navigator.clipboard.readText()") == "print(1)"
    context.close()


def test_tab_reaches_the_skip_link_first(context, served: str) -> None:  # type: ignore[no-untyped-def]
    tab = context.new_page()
    tab.goto(served + "guide/basics.html")
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.className") == "skip-link"
    assert tab.evaluate("getComputedStyle(document.activeElement).top") != "-48px"
    tab.keyboard.press("Enter")
    assert tab.evaluate("location.hash") == "#main"


def test_heading_anchors_are_focusable(context, served: str) -> None:  # type: ignore[no-untyped-def]
    tab = context.new_page()
    tab.goto(served + "guide/basics.html")
    anchor = tab.locator("h1 .anchor, h2 .anchor").first
    anchor.focus()
    assert tab.evaluate("document.activeElement.classList.contains('anchor')")
    assert anchor.evaluate("a => getComputedStyle(a).opacity") == "1"


# --- theme options -------------------------------------------------------------------


def test_theme_options_reach_every_page(tmp_path: Path) -> None:
    (tmp_path / "brand").mkdir()
    for name in ("logo.svg", "icon.png", "extra.css", "extra.js"):
        (tmp_path / "brand" / name).write_text(f"/* {name} */")
    site = make_site(
        tmp_path,
        'lang = "pt-BR"\nlogo = "brand/logo.svg"\nfavicon = "brand/icon.png"\n'
        'accent = "#b5179e"\nfooter = "© Mylib authors"\n'
        'extra_css = ["brand/extra.css"]\nextra_js = ["brand/extra.js"]\n',
    )
    for page, root in (("index.html", ""), ("guide/basics.html", "../"), ("404.html", "")):
        html = (site / page).read_text()
        assert '<html lang="pt-BR">' in html
        assert f'<img class="logo" src="{root}_static/user/logo.svg" alt="">' in html
        assert f'<link rel="icon" href="{root}_static/user/icon.png">' in html
        assert "--accent: #b5179e;" in html
        assert '<footer class="site-footer">© Mylib authors</footer>' in html
        assert f'<link rel="stylesheet" href="{root}_static/user/extra.css">' in html
        assert f'<script src="{root}_static/user/extra.js"></script>' in html
    assert (site / "_static" / "user" / "extra.js").read_text() == "/* extra.js */"


@pytest.mark.parametrize(
    "line, message",
    [
        ('accent = "red; } body { display: none"', "option 'accent' must be a CSS colour"),
        ('lang = "en\\" onload=\\"x"', "option 'lang' must be a language tag"),
        ('logo = "missing.svg"', "option 'logo' names"),
    ],
)
def test_bad_theme_options_are_usage_errors(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.docgen]\n{line}\n")
    write_notebook(tmp_path / "doc_nbs" / "index.ipynb", "md:# Home")
    done = run_docgen("build", "--no-exec", cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_meta_with_site_url(tmp_path: Path) -> None:
    site = make_site(tmp_path, 'site_url = "https://user.github.io/proj"\n')
    home = (site / "index.html").read_text()
    assert '<link rel="canonical" href="https://user.github.io/proj/index.html">' in home
    assert '<meta name="description" content="The first paragraph of the home page.">' in home
    assert '<meta property="og:title" content="Mylib">' in home
    assert (
        '<meta property="og:description" content="The first paragraph of the home page.">' in home
    )
    basics = (site / "guide" / "basics.html").read_text()
    assert 'href="https://user.github.io/proj/guide/basics.html"' in basics
    sitemap = (site / "sitemap.xml").read_text()
    assert "<loc>https://user.github.io/proj/guide/basics.html</loc>" in sitemap
    assert "404.html" not in sitemap
    assert run_docgen("check", cwd=tmp_path).returncode == 0  # canonical links into the site


def test_no_canonical_or_sitemap_without_site_url(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    home = (site / "index.html").read_text()
    assert "canonical" not in home and "og:title" not in home
    assert not (site / "sitemap.xml").exists()


def test_description_is_the_first_paragraph_shortened() -> None:
    from docgen.site.meta import description

    assert description(
        '<h1>T</h1><p class="x"></p><p>A <b>bold</b> &amp; <a>linked</a>\nstart.</p><p>Next</p>'
    ) == ("A bold & linked start.")
    long = description("<p>" + "word " * 100 + "</p>")
    assert len(long) <= 201 and long.endswith("word…")
    assert description("<pre>code</pre>") == ""


# --- colours -------------------------------------------------------------------------


def _luminance(colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_ansi_colours_meet_wcag_aa_on_light_and_dark_backgrounds() -> None:
    import re

    from docgen.site.theme import templates_dir

    css = (templates_dir() / "static" / "docgen.css").read_text()
    blocks = re.findall(r':root(?:\[data-theme="dark"\])? \{([^}]*)\}', css)
    light = dict(re.findall(r"--([\w-]+): (#[0-9a-f]{6})", blocks[0]))
    for block in blocks[1:]:
        if "--ansi-" in block:
            light.update(re.findall(r"--(ansi-[\w-]+): (#[0-9a-f]{6})", block))
            break
    dark_blocks = re.findall(r':root\[data-theme="dark"\] \{([^}]*)\}', css)
    dark = {k: v for b in dark_blocks for k, v in re.findall(r"--([\w-]+): (#[0-9a-f]{6})", b)}
    names = re.findall(r"\.ansi-([a-z-]+)-fg \{ color: var\(--ansi-\1\); \}", css)
    assert len(names) == 16
    for palette in (light, dark):
        for name in names:
            for background in ("bg", "panel", "stderr-bg", "error-bg"):
                ratio = contrast(palette[f"ansi-{name}"], palette[background])
                assert ratio >= 4.5, f"ansi {name} on {background}: {ratio:.2f}"


def test_the_current_page_is_scrolled_into_view_in_a_long_sidebar(  # type: ignore[no-untyped-def]
    tmp_path: Path, serve, browser
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.docgen]\ntitle = "Mylib"\n')
    for i in range(60):
        write_notebook(tmp_path / "doc_nbs" / f"page{i:02d}.ipynb", f"md:# Page number {i}")
    build(load_config(cwd=tmp_path, overrides={"execute": False}), log=lambda _: None)
    base = serve(tmp_path / "site") + PROJECT
    context = browser.new_context(viewport={"width": 1280, "height": 600})
    tab = context.new_page()
    tab.goto(base + "page59.html")
    current = tab.locator(".sidebar li.current")
    assert current.count() == 1
    inside = tab.evaluate(
        "() => { const s = document.querySelector('.sidebar').getBoundingClientRect();"
        " const c = document.querySelector('.sidebar li.current').getBoundingClientRect();"
        " return c.top >= s.top && c.bottom <= s.bottom; }"
    )
    assert inside
    context.close()
