"""Modules imported on first use, so that `gencli --help` and tab completion never import torch or matplotlib."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for the module `name` and imports it when one of its attributes is first read.

    It is not put in sys.modules (importlib.util.LazyLoader would be, and then any code that scans
    sys.modules, as torch's own import does, would load it half-way through another import).
    """

    def __init__(self, name: str):
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)


def lazy_module(name: str) -> Any:
    """A stand-in for module `name` that imports it on first attribute access."""
    return LazyModule(name)
