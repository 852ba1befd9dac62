"""A lower bound on log p(x): the variational bound of Kingma et al. 2021 (VDM) for the VE SDE.

log p(x) >= E_q[log p(x | z_0)] - KL(q(z_1 | x) || p(z_1)) - L_T(x), with the diffusion term
L_T(x) = (T/2) E_{eps, i ~ U{1..T}} [(SNR(s) - SNR(t)) ||x - x0_hat(x_t, t)||^2]   (VDM eq. 13)
where t = i/T, s = t - 1/T, SNR(t) = 1/sigma(t)^2, x_t = x + sigma(t) eps.
Since x - x0_hat = sigma(t) (D - eps), the weight becomes (sigma(t)^2/sigma(s)^2 - 1), computed
stably. p(z_1) is the sampler's start distribution; p(x | z_0) = N(x; z_0, sigma_min^2 I).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from gencli.diffusion.model.denoiser import Denoiser
from gencli.diffusion.process.sde import VESDE
from gencli.diffusion.sampling.start import start_moments


@dataclass
class BoundEstimate:
    """Per-point bound on log p(x) in nats and its parts; `stderr` is the Monte Carlo error."""

    elbo: Tensor
    stderr: Tensor
    diffusion: Tensor
    prior_kl: Tensor
    reconstruction: Tensor


def prior_kl(x: Tensor, mean: Tensor, std: Tensor, sigma_max: float) -> Tensor:
    """KL(N(x, sigma_max^2 I) || N(mean, diag(std^2))) per point, summed over dimensions."""
    var = std**2
    s2 = sigma_max**2
    return 0.5 * (torch.log(var / s2) + (s2 + (x - mean) ** 2) / var - 1.0).sum(dim=1)


def reconstruction(d: int, sigma_min: float) -> float:
    """E_{z_0 ~ N(x, sigma_min^2 I)} log N(x; z_0, sigma_min^2 I) = -d/2 log(2 pi sigma_min^2) - d/2."""
    return -0.5 * d * math.log(2 * math.pi * sigma_min**2) - 0.5 * d


@torch.no_grad()
def log_prob_bound(
    model: Denoiser,
    x: Tensor,
    sde: VESDE,
    steps: int = 1000,
    n_samples: int = 2048,
    generator: torch.Generator | None = None,
    labels: Tensor | None = None,
    start: str = "matched",
    chunk: int = 65536,
) -> BoundEstimate:
    """Monte Carlo estimate of the bound for points x (N, 2), n_samples (eps, i) pairs each."""
    n = x.shape[0]
    gen = generator or torch.Generator().manual_seed(0)
    ratio = math.exp(2 * sde.log_ratio / steps)  # sigma(t)^2 / sigma(t - 1/T)^2, constant here
    weight = 0.5 * steps * (ratio - 1.0)
    # streamed over the N*M (point, sample) pairs in chunks: memory is a chunk's, however many samples are asked for
    total = torch.zeros(n, dtype=torch.float64, device=x.device)
    squares = torch.zeros(n, dtype=torch.float64, device=x.device)
    for a in range(0, n * n_samples, chunk):
        point = torch.arange(a, min(a + chunk, n * n_samples), device=x.device) // n_samples
        xb = x[point]
        i = torch.randint(1, steps + 1, (xb.shape[0],), generator=gen).to(x.device)
        t = i.float() / steps
        eps = torch.randn(xb.shape, generator=gen).to(x.device)
        xt = sde.perturb(xb, t, eps)
        d = model(xt, t, labels[point] if labels is not None else None)
        terms = (weight * ((d - eps) ** 2).sum(dim=1)).double()
        total.index_add_(0, point, terms)
        squares.index_add_(0, point, terms * terms)
    diffusion = total / n_samples
    var = (squares - n_samples * diffusion**2).clamp_min(0) / max(n_samples - 1, 1)
    stderr = (var.sqrt() / math.sqrt(n_samples)).float()
    diffusion = diffusion.float()
    mean, std = start_moments(model, labels, n, start, sde)
    kl = prior_kl(x, mean, std, sde.sigma_max)
    rec = torch.full((n,), reconstruction(x.shape[1], sde.sigma_min), device=x.device)
    return BoundEstimate(elbo=rec - kl - diffusion, stderr=stderr, diffusion=diffusion, prior_kl=kl, reconstruction=rec)
