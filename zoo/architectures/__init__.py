"""Architecture families, one module each; importing this package registers them all.

Every public module in this folder is imported automatically, so adding a family
means adding one file here (and one test file in ``tests/architectures/``).
"""

import importlib
import pkgutil

from zoo.architectures._common import classification_head

__all__ = ["FAMILIES", "classification_head"]

FAMILIES: list[str] = []

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
        FAMILIES.append(_module.name)
