"""docgen: documentation sites for Python libraries, written as executed Jupyter notebooks."""

__version__ = "0.1.0"

# Used inside notebooks: `from docgen import show_doc`.
from .showdoc import doc, show_doc  # noqa: E402

__all__ = ["doc", "show_doc", "__version__"]
