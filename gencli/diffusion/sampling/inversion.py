"""Inverting the sampler: the inputs (initial noise, per-step noise) that make a frozen model output a chosen point.

The model stays frozen; the initial noise z(1) (and, for the stochastic sampler, the
noise of every step) is optimised with Adam so that the sampler's output hits a target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from gencli.diffusion.model.denoiser import Denoiser
from gencli.diffusion.process.sde import VESDE
from gencli.diffusion.sampling.samplers import record_trajectory, sample
from gencli.diffusion.sampling.start import initial_noise
from gencli.diffusion.sampling.steps import is_stochastic


@dataclass
class Inversion:
    """The optimised inputs, the output they give, and the optimisation history."""

    z1: Tensor
    step_noise: Tensor | None
    final: Tensor
    distance: float
    losses: list[float]
    trajectory: Tensor  # (K, 2)
    iterations: int


def optimise_sampler_inputs(
    model: Denoiser,
    sde: VESDE,
    target: Tensor,
    ts: Tensor,
    sampler: str = "sde",
    iterations: int = 500,
    lr: float = 0.1,
    tolerance: float = 0.01,
    seed: int = 0,
    start: str = "matched",
    label: Tensor | None = None,
    on_step: Callable[[int, float], None] | None = None,
) -> Inversion:
    """Minimise ||sample(z1, noise) - target||^2 over z1 (and step noise); stop within `tolerance`."""
    for p in model.parameters():
        p.requires_grad_(False)
    gen = torch.Generator().manual_seed(seed)
    z1 = initial_noise(model, 1, start, sde, gen, label).clone().requires_grad_(True)
    params = [z1]
    noise = None
    if is_stochastic(sampler):  # its per-step noise is optimised too
        noise = torch.randn((len(ts) - 1, 1, 2), generator=gen).to(z1.device).requires_grad_(True)
        params.append(noise)
    opt = torch.optim.Adam(params, lr=lr)
    losses: list[float] = []
    target = target.reshape(1, 2).to(z1.device)
    it = 0
    for it in range(1, iterations + 1):
        out = sample(model, z1, ts, sde, sampler, label, step_noise=noise)
        dist = (out - target).norm()
        losses.append(dist.item())
        if on_step is not None:
            on_step(it, losses[-1])
        if losses[-1] <= tolerance:
            break
        opt.zero_grad()
        (dist**2).backward()
        opt.step()
    with torch.no_grad():
        frames, cb = record_trajectory()
        final = sample(
            model,
            z1.detach(),
            ts,
            sde,
            sampler,
            label,
            step_noise=noise.detach() if noise is not None else None,
            callback=cb,
        )
    return Inversion(
        z1=z1.detach()[0],
        step_noise=noise.detach()[:, 0] if noise is not None else None,
        final=final[0],
        distance=(final[0] - target[0]).norm().item(),
        losses=losses,
        trajectory=torch.stack(frames)[:, 0],
        iterations=it,
    )
