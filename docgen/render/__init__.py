"""Pure functions from a page's data to HTML: markdown, code, outputs, ANSI, the page."""
