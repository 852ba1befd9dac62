"""The exercise's own quality figures for the square: the fraction inside it and the TV of a 10x10 histogram from
uniform, (its exact noise floor: `gencli.diffusion.results.common.tv_noise_floor`)."""

from __future__ import annotations

import torch
from torch import Tensor


def inside_fraction(x: Tensor, half_width: float = 1.0) -> float:
    """Fraction of points inside the square [-half_width, half_width]^2."""
    return (x.abs() <= half_width).all(dim=1).float().mean().item()


def tv_from_uniform(x: Tensor, bins: int = 10, half_width: float = 1.0) -> float:
    """Total-variation distance between the samples' bins x bins histogram and the uniform one.

    Mass outside the square counts as its own bin (uniform puts 0 there), so
    TV = (sum_b |p_b - 1/bins^2| + p_outside) / 2.
    """
    n = x.shape[0]
    u = (x + half_width) / (2 * half_width)
    inside = ((u >= 0) & (u <= 1)).all(dim=1)
    idx = (u[inside] * bins).floor().long().clamp(0, bins - 1)
    counts = torch.bincount(idx[:, 1] * bins + idx[:, 0], minlength=bins * bins).double()
    p = counts / n
    outside = 1.0 - inside.double().mean()
    return 0.5 * ((p - 1.0 / bins**2).abs().sum() + outside).item()
