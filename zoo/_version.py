"""zoo's version (one place; the package and saved cards read it)."""

__version__ = "0.1.0"
