"""`docgen render NOTEBOOK --fragment`: one notebook as an HTML fragment, its images and the
scoped stylesheet, for any other site generator to include."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from docgen.api.external import external_index
from docgen.commands.build import _file, _folder
from docgen.config import load_config
from docgen.embed.notebook import notebook_config, page_fragment, render_notebook
from docgen.embed.wrap import image_name, wrap_fragment
from docgen.errors import UsageError
from docgen.site.embeds import EMBED_CLASS, embed_stylesheet
from docgen.site.outdir import not_a_folder
from docgen.words import counted

IMAGES = "images"
CSS = "docgen-embed.css"


def _add_render(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render",
        help="one notebook, executed (or from the cache), as an HTML fragment for another "
        "site generator",
    )
    p.add_argument("notebook", type=_file, metavar="NOTEBOOK", help="the .ipynb to render")
    p.add_argument(
        "--fragment",
        action="store_true",
        help=f'write NAME.html (the notebook inside <div class="{EMBED_CLASS}">), its '
        f"images in {IMAGES}/ and the stylesheet {CSS}, whose rules are all under "
        f".{EMBED_CLASS}",
    )
    p.add_argument(
        "--out",
        type=_folder,
        help="folder to write them to (default: NAME-fragment beside where docgen runs); "
        "other files in it are left alone",
    )
    p.add_argument(
        "--no-exec", action="store_true", help="render the outputs stored in the notebook"
    )
    p.add_argument("--config", type=_file, help="TOML file with a [tool.docgen] table")
    p.set_defaults(run=_run_render)


def _run_render(args: argparse.Namespace) -> int:
    if not args.fragment:
        raise UsageError(
            "docgen render writes a fragment for another site generator: add --fragment "
            "(to build a whole site, use docgen build)"
        )
    path = Path(args.notebook).resolve()
    if path.suffix != ".ipynb" or not path.is_file():
        problem = "does not exist" if not path.exists() else "is not a .ipynb file"
        raise UsageError(f"{args.notebook} {problem}; give the path of a notebook")
    out = Path(args.out or f"{path.stem}-fragment").resolve()
    blocker = not_a_folder(out)
    if blocker is not None:
        raise UsageError(f"--out {out} cannot be a folder: {blocker} is a file")
    project = load_config(args.config)

    def warn(message: str) -> None:
        print(f"warning: {message}", file=sys.stderr, flush=True)

    config = notebook_config(
        project.root,
        nbs=path.parent,
        out=out,
        title=project.title,
        timeout=project.timeout,
        cache=project.cache,
        kernel_name=project.kernel_name,
        allow_remote=project.allow_remote,
        max_output_chars=project.max_output_chars,
        execute=project.execute and not args.no_exec,
    )
    external = external_index(project.inventories, project.root, out, warn)
    page = render_notebook(path, config, external, warn)
    fragment = page_fragment(page)
    (out / IMAGES).mkdir(parents=True, exist_ok=True)
    for site_path, data in fragment.images.items():
        (out / IMAGES / image_name(site_path)).write_bytes(data)
    (out / CSS).write_text(embed_stylesheet(), encoding="utf-8")
    html = wrap_fragment(fragment, f"{IMAGES}/")
    (out / f"{path.stem}.html").write_text(html + "\n", encoding="utf-8")
    images = counted(len(fragment.images), "image")
    print(f"wrote {out / (path.stem + '.html')}, {images} and {CSS}")
    return 0
