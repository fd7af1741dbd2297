"""The MkDocs plugin `docgen`: `plugins: [docgen]` in mkdocs.yml, then a line

    ::: docgen-embed SITE/page.html#anchor

in any markdown page shows that section (or labelled cell) of a built docgen site, as the
Sphinx directive does (docgen/sphinx.py): images copied into the site, the scoped
stylesheet linked, a link back. The plugin's `sites` option names sites; `cache` is where
fetched sites are kept (default `.docgen_cache/embed` beside mkdocs.yml).

MkDocs is imported only here: it is not a dependency of docgen.
"""

from __future__ import annotations

import html
import logging
import re
import secrets
from pathlib import Path, PurePosixPath
from typing import Any

from mkdocs.config import config_options
from mkdocs.config.base import Config as MkDocsConfig
from mkdocs.plugins import BasePlugin

from docgen.config import CACHE_DIR
from docgen.embed.fetch import EmbedError, SiteReader, load_fragment
from docgen.embed.wrap import image_name, wrap_fragment
from docgen.site.embeds import embed_stylesheet

log = logging.getLogger("mkdocs.plugins.docgen")
STATIC = "_docgen"  # the site folder with the stylesheet and the embedded images
CSS = f"{STATIC}/docgen-embed.css"
_LINE = re.compile(r"^[ ]{0,3}:::[ \t]+docgen-embed[ \t]+(\S+)[ \t]*$")
_FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})(.*)$")


class _Options(MkDocsConfig):
    sites = config_options.Type(dict, default={})
    cache = config_options.Type(str, default="")


class DocgenPlugin(BasePlugin[_Options]):
    """Replaces each `::: docgen-embed TARGET` line by the fragment it names."""

    def on_config(self, config: Any) -> Any:
        root = Path(config.config_file_path or ".").resolve().parent
        cache = Path(root, self.config.cache) if self.config.cache else root / CACHE_DIR / "embed"
        self.reader = SiteReader(cache)
        self.root = root
        self.images: dict[str, bytes] = {}
        # A token no page contains: markdown sees a paragraph, the HTML gets the fragment.
        self.token = f"docgen-embed-{secrets.token_hex(8)}"
        self.pending: dict[str, str] = {}
        if CSS not in config.extra_css:
            config.extra_css.append(CSS)
        return config

    def on_page_markdown(self, markdown: str, page: Any, config: Any, files: Any) -> str:
        src = Path(page.file.abs_src_path).parent if page.file.abs_src_path else self.root
        dest = PurePosixPath(page.file.dest_uri)
        images_at = "../" * (len(dest.parts) - 1) + f"{STATIC}/images/"

        def embed(target: str) -> str:
            try:
                fragment = load_fragment(target, self.config.sites, self.reader, src, self.root)
            except EmbedError as e:
                log.warning(f"Doc file '{page.file.src_uri}': docgen-embed: {e}")
                return f"*docgen-embed: {html.escape(target)} could not be embedded*"
            for path, data in fragment.images.items():
                self.images[image_name(path)] = data
            key = f"{self.token}-{len(self.pending)}"
            self.pending[key] = wrap_fragment(fragment, images_at)
            return f"\n{key}\n"

        lines, fence = [], ""
        for line in markdown.split("\n"):
            opens = _FENCE.match(line)
            if fence:  # inside a code block: shown as written
                if opens and opens.group(1).startswith(fence) and not opens.group(2).strip():
                    fence = ""  # the block's closing fence
            elif opens:
                fence = opens.group(1)
            elif m := _LINE.match(line):
                line = embed(m.group(1))
            lines.append(line)
        return "\n".join(lines)

    def on_page_content(self, html_text: str, page: Any, config: Any, files: Any) -> str:
        for key, fragment in self.pending.items():
            html_text = html_text.replace(f"<p>{key}</p>", fragment)
        return html_text

    def on_post_build(self, config: Any) -> None:
        out = Path(config.site_dir) / STATIC
        (out / "images").mkdir(parents=True, exist_ok=True)
        (out / "docgen-embed.css").write_text(embed_stylesheet(), encoding="utf-8")
        for name, data in self.images.items():
            (out / "images" / name).write_bytes(data)
