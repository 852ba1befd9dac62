"""Figures: results in, PNG out (Agg backend, no torch). `draw(result, folder)` is the one entry point."""

from gencli.plots import diffusion_likelihood, diffusion_paths, diffusion_samples, lm  # noqa: F401  (register with draw)
from gencli.plots.figures import draw

__all__ = ["draw"]
