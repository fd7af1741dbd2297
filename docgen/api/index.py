"""The symbol index: every documented name, this project's and other projects', and its URL."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from docgen.api.introspect import ProjectApi
from docgen.site.urls import href

API_DIR = "api"  # the site folder of the generated API pages


@dataclass(frozen=True)
class SymbolIndex:
    """Everything a backticked name can resolve to."""

    api: ProjectApi
    external: dict[str, str]  # name -> absolute URL
    short: dict[str, list[str]]  # unqualified name -> canonical names of project symbols
    roots: frozenset[str]  # top-level names whose submodules may be imported to resolve
    # An nbdev project's own `_modidx.py` names -> "page.html#anchor" on this site (modidx.py):
    # after the introspected API, before other projects' names.
    own: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        api: ProjectApi,
        external: dict[str, str],
        own: dict[str, str] | None = None,
        own_short: dict[str, list[str]] | None = None,
    ) -> SymbolIndex:
        short: dict[str, list[str]] = {}
        for symbol in api.symbols.values():
            if symbol.kind in ("class", "function") and "." not in symbol.short_name:
                short.setdefault(symbol.short_name, []).append(symbol.name)
        for name, full in (own_short or {}).items():
            if "." not in name and name not in short:
                short[name] = full
        roots = {name.split(".")[0] for name in external} | {p.split(".")[0] for p in api.packages}
        return cls(api=api, external=external, short=short, roots=frozenset(roots), own=own or {})

    def place(self, documented: dict[str, str]) -> SymbolIndex:
        """Give every project symbol its URL.

        `documented` maps names (as `show_doc` wrote them) to "page.html#anchor"; then a
        name the project's `_modidx.py` places lives there; every other symbol lives on its
        module's API page, anchored by its canonical name.
        """
        homes: dict[str, str] = {}
        for name, url in documented.items():
            canonical = self.api.canonical(name)
            if canonical is not None:
                homes.setdefault(canonical, url)
        symbols = {}
        for name, symbol in self.api.symbols.items():
            page = api_page_url(symbol.module)
            default = href(page) if symbol.kind == "module" else href(page, name)
            symbols[name] = replace(symbol, url=homes.get(name) or self.own.get(name, default))
        return replace(self, api=replace(self.api, symbols=symbols))

    def lookup(self, name: str) -> str | None:
        """The URL of exactly this name, if any: the project's own first."""
        canonical = self.api.canonical(name)
        if canonical is not None:
            return self.api.symbols[canonical].url or None
        return self.own.get(name) or self.external.get(name)


def api_page_url(module: str) -> str:
    """The generated page of `module` ("index": of the API overview), from the site root."""
    return f"{API_DIR}/{module}.html"
