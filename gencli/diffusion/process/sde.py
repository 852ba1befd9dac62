"""The variance-exploding forward process x_t = x_0 + sigma(t) eps (S(t) = 1)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class VESDE:
    """sigma(t) = sigma_min^(1-t) sigma_max^t; with the defaults, sigma(t) = exp(5 (t - 1))."""

    sigma_min: float = math.exp(-5.0)
    sigma_max: float = 1.0
    objective: str = "vesde"

    @property
    def log_ratio(self) -> float:
        """log(sigma_max / sigma_min): the constant c in sigma'(t) = c sigma(t) (5 by default)."""
        return math.log(self.sigma_max / self.sigma_min)

    def sigma(self, t: Tensor | float) -> Tensor:
        """sigma(t)."""
        t = torch.as_tensor(t)
        if not t.is_floating_point():
            t = t.to(torch.get_default_dtype())
        return self.sigma_min * torch.exp(self.log_ratio * t)

    def dsigma(self, t: Tensor | float) -> Tensor:
        """sigma'(t) = log(sigma_max / sigma_min) sigma(t)."""
        return self.log_ratio * self.sigma(t)

    def ode_rate(self, t: float) -> float:
        """The probability-flow ODE dx/dt = rate(t) D(x, t) with D the eps prediction: rate = sigma'(t) = c sigma(t)
        (Song et al. 2021, eq. 13, with score = -D / sigma and g^2 = 2 c sigma^2)."""
        return self.log_ratio * float(self.sigma(torch.tensor(t, dtype=torch.float64)))

    def velocity(self, out: Tensor) -> Tensor:
        """The network's eps prediction as the steps use it: unchanged (eps has no units)."""
        return out

    def denoised(self, z: Tensor, t: float, out: Tensor) -> Tensor:
        """x0_hat = z - sigma(t) eps_hat (Tweedie's estimate of the clean point)."""
        return z - float(self.sigma(t)) * out

    def t_of_sigma(self, sigma: Tensor) -> Tensor:
        """The inverse of sigma(t)."""
        return torch.log(sigma / self.sigma_min) / self.log_ratio

    def perturb(self, x0: Tensor, t: Tensor, eps: Tensor) -> Tensor:
        """x_t = x_0 + sigma(t) eps, with t of shape (N,)."""
        return x0 + self.sigma(t)[:, None] * eps

    def forward_path(self, x0: Tensor, ts: Tensor, generator: torch.Generator) -> Tensor:
        """One sample path of the forward SDE at increasing times `ts` (K,) from x0 (N, 2).

        Brownian increments with variance sigma(t_k)^2 - sigma(t_{k-1})^2 (and sigma(t_0)^2
        for the first), so every x_t has the marginal x_0 + sigma(t) eps. Returns (K, N, 2).
        """
        var = self.sigma(ts) ** 2
        inc_var = torch.cat([var[:1], var[1:] - var[:-1]]).clamp_min(0)
        noise = torch.randn((len(ts), *x0.shape), generator=generator, dtype=x0.dtype)
        steps = noise * inc_var.sqrt()[:, None, None]
        return x0[None] + torch.cumsum(steps, dim=0)
