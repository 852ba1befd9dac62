"""`draw(result, folder)`: the figures of an analysis result as PNG files, keyed by name.

Each plots module registers a function per result type; a result without a figure
draws nothing.
"""

from __future__ import annotations

import functools
from pathlib import Path


@functools.singledispatch
def draw(result, folder: Path) -> dict[str, Path]:
    """The figures of `result`, written under `folder` (none for results without a figure)."""
    return {}
