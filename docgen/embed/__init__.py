"""Embedding docgen pages in other sites: fragments fetched from a built docgen site
(fetch.py), wrapped for the host page (wrap.py), one notebook rendered on its own
(notebook.py); the Sphinx extension (docgen.sphinx) and the MkDocs plugin use them."""
