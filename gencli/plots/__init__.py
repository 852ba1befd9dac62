"""Figures: results in, PNG out (Agg backend, no torch). `draw(result, folder)` is the one entry point."""

from gencli.plots import diffusion, lm  # noqa: F401  (register their figures with draw)
from gencli.plots.figures import draw

__all__ = ["draw"]
