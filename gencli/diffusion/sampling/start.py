"""The initial noise z(1) of the samplers: the exercise's N(0, I), or N(mean, (sigma_max^2 + var) I) of the data."""

from __future__ import annotations

import torch
from torch import Tensor

from gencli.diffusion.model.denoiser import Denoiser
from gencli.diffusion.process.flow import LinearFlow
from gencli.diffusion.process.sde import VESDE


def start_moments(
    model: Denoiser, labels: Tensor | None, n: int, start: str, sde: VESDE | LinearFlow
) -> tuple[Tensor, Tensor]:
    """Mean and std (n, 2) of the initial noise z(1).

    A flow model: its source, N(0, I) in its standardised frame, whatever `start` says (the samplers refuse a start
    that does not apply). The VE-SDE: standard: N(0, I) as in the exercise. matched: N(mean, sigma_max^2 + var) of the
    data (of the point's class when conditional), the exact marginal of x_1 for a
    Gaussian with the data's first two moments.
    """
    device = model.data_mean.device
    if sde.objective != "vesde":  # a flow starts from the source it was trained from, N(shift, scale^2 I)
        mean = torch.as_tensor(sde.shift, dtype=torch.float32, device=device).expand(n, 2)
        return mean, torch.full((n, 2), float(sde.scale), device=device)
    if start == "standard":
        return torch.zeros(n, 2, device=device), torch.ones(n, 2, device=device)
    if start != "matched":
        raise ValueError(f"unknown start {start!r}")
    idx = labels if (labels is not None and model.n_classes) else torch.zeros(n, dtype=torch.long, device=device)
    mean = model.data_mean[idx]
    std = (sde.sigma_max**2 + model.data_var[idx]).sqrt()
    return mean, std


def initial_noise(
    model: Denoiser,
    n: int,
    start: str,
    sde: VESDE | LinearFlow,
    generator: torch.Generator,
    labels: Tensor | None = None,
) -> Tensor:
    """z(1) for n points, drawn from `generator` (a CPU generator: the same draw on every device)."""
    mean, std = start_moments(model, labels, n, start, sde)
    return mean + std * torch.randn((n, 2), generator=generator).to(mean.device)
