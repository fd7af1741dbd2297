"""The theme options of `[tool.docgen]`: `lang`, `logo`, `favicon`, `accent`, `footer`,
`extra_css` and `extra_js`, as template context and as the files they add to the site.

A user's files are copied under `_static/user/` by their file names, so the site stays
self-contained: no page loads anything from another host.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docgen.errors import UsageError

if TYPE_CHECKING:
    from docgen.config import Config

USER_STATIC = "_static/user"
# A CSS colour without anything that could end the declaration it is written into.
_COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}|[a-zA-Z]+|(rgb|rgba|hsl|hsla|oklch)\([0-9.,%/ a-z-]*\)")
_LANG = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")


def _files(config: Config) -> list[tuple[str, str]]:
    """(option, path as written) of every file the options name."""
    named = [("logo", config.logo), ("favicon", config.favicon)]
    named += [("extra_css", p) for p in config.extra_css]
    named += [("extra_js", p) for p in config.extra_js]
    return [(option, path) for option, path in named if path]


def branding_files(config: Config) -> dict[str, bytes]:
    """The files the options name, by their place in the site; a `UsageError` naming the
    option for one that can't be read."""
    files: dict[str, bytes] = {}
    places: dict[str, str] = {}
    for option, written in _files(config):
        path = config.root / written
        site_path = f"{USER_STATIC}/{Path(written).name}"
        if site_path in places and places[site_path] != written:
            raise UsageError(
                f"option '{option}': {written} and {places[site_path]} have the same file "
                "name, and would be the same file of the site; rename one"
            )
        try:
            files[site_path] = path.read_bytes()
        except OSError as e:
            raise UsageError(
                f"option '{option}' names {path}, which cannot be read "
                f"({e.strerror or e}); give a file relative to {config.root}"
            ) from e
        places[site_path] = written
    return files


def branding_context(config: Config) -> dict[str, Any]:
    """What the templates get: `lang`, `logo`, `favicon`, `extra_css`, `extra_js` (site
    paths, relative to the root), `accent` and `footer`."""
    if config.accent and not _COLOUR.fullmatch(config.accent):
        raise UsageError(
            f"option 'accent' must be a CSS colour such as \"#b5179e\", not {config.accent!r}"
        )
    if not _LANG.fullmatch(config.lang):
        raise UsageError(
            f'option \'lang\' must be a language tag such as "en" or "pt-BR", not {config.lang!r}'
        )

    def place(written: str) -> str:
        return f"{USER_STATIC}/{Path(written).name}" if written else ""

    return {
        "lang": config.lang,
        "logo": place(config.logo),
        "favicon": place(config.favicon),
        "accent": config.accent,
        "footer": config.footer,
        "extra_css": [place(p) for p in config.extra_css],
        "extra_js": [place(p) for p in config.extra_js],
    }
