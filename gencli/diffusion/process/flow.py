"""The straight-line path of flow matching (Lipman et al. 2023; rectified flow, Liu et al. 2023).

In the course's time s, running from the source (s = 0) to the data (s = 1):

    x_s = (1 - s) x0 + s x1,   x0 ~ N(0, I) (or its minibatch-OT partner),  x1 ~ data
    target velocity  dx_s/ds = x1 - x0,   loss  ||v(x_s, s) - (x1 - x0)||^2

gencli's samplers, grids and figures run one clock for every objective: t = 1 is noise, t = 0 is data (the VE-SDE's
convention). A flow at gencli time t is at the course's s = 1 - t, so x_t = t x0 + (1 - t) x1, and sampling integrates
dx/dt = -v from t = 1 down to 0. The network sees the standardised frame (the data centred and scaled to the
square's spread, `scale` and `shift`); its source is N(0, I) there, N(shift, scale^2 I) in the data's units (N(0, I)
for the exercise's square), and its output times `scale` is the velocity in the data's units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor


def interpolate(x0: Tensor, x1: Tensor, s: Tensor | float) -> Tensor:
    """x_s = (1 - s) x0 + s x1 (the course's time s: 0 at the source, 1 at the data); s scalar or (N,)."""
    s = torch.as_tensor(s, dtype=x0.dtype, device=x0.device)
    s = s[:, None] if s.dim() == 1 else s
    return (1 - s) * x0 + s * x1


def target_velocity(x0: Tensor, x1: Tensor) -> Tensor:
    """d x_s / ds = x1 - x0: the conditional flow matching target of the straight path."""
    return x1 - x0


@dataclass(frozen=True)
class LinearFlow:
    """The flow's path and its ODE in gencli's time (t = 1 - s), in the data's units."""

    scale: float = 1.0  # the standardisation's scale: the source's std and the velocity's unit
    shift: tuple[float, float] = field(default=(0.0, 0.0))  # the source's mean
    objective: str = "flow"  # or "flow-ot": the same path, trained with minibatch-OT pairs
    sigma_min: float = 0.0  # the noise left at t = 0: none, the path ends on the data
    log_ratio: float = math.nan  # the VE-SDE's c; a flow has none

    @property
    def sigma_max(self) -> float:
        """The source's spread at t = 1 (in the data's units)."""
        return self.scale

    def sigma(self, t: Tensor | float) -> Tensor:
        """The source's share of x_t in the data's units: scale t (x_t = t x0 + (1 - t) x1, x0 of std `scale`)."""
        t = torch.as_tensor(t)
        if not t.is_floating_point():
            t = t.to(torch.get_default_dtype())
        return self.scale * t

    def velocity(self, out: Tensor) -> Tensor:
        """The network's output (standardised units per unit of s) in the data's units."""
        return self.scale * out

    def ode_rate(self, t: float) -> float:
        """dx/dt = rate(t) D(x, t) in gencli's time: -scale (sampling runs t from 1 to 0, along +v)."""
        return -self.scale

    def denoised(self, z: Tensor, t: float, out: Tensor) -> Tensor:
        """Where the straight line through z with the predicted velocity lands at t = 0: x1_hat = z + t v."""
        return z + t * self.velocity(out)

    def source(self, n: int, generator: torch.Generator) -> Tensor:
        """n draws (n, 2) of the source N(shift, scale^2 I), from a CPU generator."""
        return torch.tensor(self.shift) + self.scale * torch.randn((n, 2), generator=generator)

    def forward_path(self, x1: Tensor, ts: Tensor, generator: torch.Generator) -> Tensor:
        """The straight path from data points x1 (N, 2) toward one source draw each, at gencli times `ts` (K,):
        x_t = t x0 + (1 - t) x1. Returns (K, N, 2)."""
        x0 = self.source(x1.shape[0], generator).to(x1.dtype)
        return torch.stack([interpolate(x0, x1, 1 - float(t)) for t in ts])
