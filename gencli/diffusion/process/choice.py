"""The process a config trains and samples with: the VE-SDE scaled to the data, or the straight flow path."""

from __future__ import annotations

from gencli.diffusion.config import DiffusionConfig
from gencli.diffusion.process.flow import LinearFlow
from gencli.diffusion.process.sde import VESDE


def process_for(cfg: DiffusionConfig, scale: float, shift=(0.0, 0.0)) -> VESDE | LinearFlow:
    """The config's process in the data's units: sigma(t) of the VE-SDE times the standardisation's `scale`, or the
    flow whose source is N(shift, scale^2 I) (N(0, I) in the standardised frame)."""
    if cfg.is_flow:
        return LinearFlow(float(scale), tuple(float(v) for v in shift), cfg.model.objective)
    return VESDE(cfg.sde.sigma_min * scale, cfg.sde.sigma_max * scale)
