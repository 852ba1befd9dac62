"""Decreasing time grids from t = 1 to t = 0: the exercise's uniform grid and the Karras et al. 2022 grid."""

from __future__ import annotations

import torch
from torch import Tensor

from gencli.diffusion.process.sde import VESDE


def uniform_grid(steps: int) -> Tensor:
    """t_i = 1 - i / T for i = 0..T: the exercise's grid, dt = -1/T."""
    return torch.linspace(1.0, 0.0, steps + 1)


def karras_grid(steps: int, sde: VESDE, rho: float = 7.0) -> Tensor:
    """Times whose sigmas follow Karras et al. 2022 eq. 5, from sigma_max to sigma_min."""
    ramp = torch.linspace(0.0, 1.0, steps + 1, dtype=torch.float64)
    lo, hi = sde.sigma_min ** (1 / rho), sde.sigma_max ** (1 / rho)
    sigmas = (hi + ramp * (lo - hi)) ** rho
    ts = sde.t_of_sigma(sigmas)
    ts[0], ts[-1] = 1.0, 0.0
    return ts.float()


def time_grid(steps: int, schedule: str, sde: VESDE, rho: float = 7.0) -> Tensor:
    """The decreasing time grid (steps + 1,) of a named schedule."""
    if schedule == "uniform":
        return uniform_grid(steps)
    if schedule == "karras":
        return karras_grid(steps, sde, rho)
    raise ValueError(f"unknown schedule {schedule!r}")
