"""Figures: results in, PNG out (Agg backend, no torch). `draw(result, folder)` is the one entry point."""

from gencli.plots import (  # noqa: F401  (register their figures with draw)
    diffusion_comparison,
    diffusion_gallery,
    diffusion_likelihood,
    diffusion_paths,
    diffusion_samples,
    lm,
)
from gencli.plots.figures import draw

__all__ = ["draw"]
