"""2D distributions, one object each: the exercise's square, the toy sets of the field, and your own points.

    catalog.py    the built-in sets by name (no torch: the help and the config read it)
    base.py       what every set knows of itself (`Dataset`), and the fallbacks of a set without closed forms
    square.py, checkerboard.py, mixture.py, ring.py, curves.py   the built-in sets
    points.py     your own points from a CSV file, split into training and held-out points

`dataset_for(data_config, checkpoint)` builds the set a config names: a built-in by name, or the points of a CSV
file (read from the checkpoint's own copy once a model was trained on it). This package's top imports nothing
heavy, so that the catalog can be read without torch.
"""

from __future__ import annotations

import importlib
from pathlib import Path

POINTS_FILE = "points.csv"  # a file set's points, as its checkpoint keeps them


def builtin(name: str, data=None):
    """The built-in set `name`, with the square's own settings (half-width, grid) from the data config."""
    from gencli.diffusion.datasets.catalog import BUILTIN

    module, cls, _ = BUILTIN[name]
    klass = getattr(importlib.import_module(f"gencli.diffusion.datasets.{module}"), cls)
    if name == "square" and data is not None:
        return klass(data.half_width, data.grid_rows, data.grid_cols)
    return klass()


def dataset_for(data, checkpoint: Path | None = None):
    """The set of a `DataConfig`: a built-in, or a CSV file's points (a checkpoint's own copy when given)."""
    from gencli.diffusion.datasets.catalog import is_builtin
    from gencli.diffusion.datasets.points import PointCloud

    if is_builtin(data.name):
        return builtin(data.name, data)
    if checkpoint is None:
        return PointCloud.from_file(Path(data.name), data.holdout, data.seed)
    return PointCloud.from_file(Path(checkpoint) / POINTS_FILE, data.holdout, data.seed, data.name, "checkpoint file")
