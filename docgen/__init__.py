"""docgen: documentation sites for Python libraries, written as executed Jupyter notebooks."""

__version__ = "0.1.0"
