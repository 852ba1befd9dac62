"""Where gencli reads and writes when no path is given, relative to the working folder.

The defaults chain of the README: `diffusion train` writes checkpoints/diffusion (the conditional model
checkpoints/diffusion-cond), `lm train` writes checkpoints/lm, and every command that reads a checkpoint
defaults to the same place; analyses write their files under runs/.
"""

from __future__ import annotations

import os
from pathlib import Path

CHECKPOINTS = Path("checkpoints")
RUNS = Path("runs")
CHECKPOINT_NAMES = {"diffusion": "diffusion", "cond": "diffusion-cond", "lm": "lm"}  # model key -> folder name


def checkpoint_path(model: str, root: Path = CHECKPOINTS) -> Path:
    """The default checkpoint folder of model `diffusion`, `cond` (the conditional diffusion model) or `lm`."""
    return Path(root) / CHECKPOINT_NAMES[model]


def diffusion_checkpoint(conditional: bool) -> Path:
    """checkpoints/diffusion, or checkpoints/diffusion-cond for the conditional model."""
    return checkpoint_path("cond" if conditional else "diffusion")


LM_CHECKPOINT = checkpoint_path("lm")
REPORT_DIR = RUNS / "report"


def run_dir(*parts: str) -> Path:
    """The default output folder of a command, e.g. run_dir("diffusion", "sample") = runs/diffusion/sample."""
    return RUNS.joinpath(*parts)


CACHE_DIR_ENV = "GENCLI_CACHE_DIR"


def cache_dir() -> Path:
    """The user cache folder of gencli: $GENCLI_CACHE_DIR, else $XDG_CACHE_HOME/gencli, else ~/.cache/gencli."""
    own = os.environ.get(CACHE_DIR_ENV)
    if own:
        return Path(own).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gencli"
