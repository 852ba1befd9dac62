"""The sampling loop: integrate z from t = 1 down to t = 0 with one of the registered steps, calling back each step.

    sample(model, z, ts, sde, sampler, labels, generator, callback, step_noise)

The callback receives a dict with `i`, `t`, `sigma`, `z` (before the step) and `denoised`
(x0_hat = z - sigma D(z, t)); that is what a trajectory figure needs (k-diffusion's callback).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from gencli.diffusion.model.denoiser import Denoiser
from gencli.diffusion.process.sde import VESDE
from gencli.diffusion.sampling.grids import time_grid
from gencli.diffusion.sampling.start import initial_noise
from gencli.diffusion.sampling.steps import SAMPLERS, Step

Callback = Callable[[dict], None]


def sample(
    model: Denoiser,
    z: Tensor,
    ts: Tensor,
    sde: VESDE,
    sampler: str = "euler",
    labels: Tensor | None = None,
    generator: torch.Generator | None = None,
    callback: Callback | None = None,
    step_noise: Tensor | None = None,
) -> Tensor:
    """Integrate z from ts[0] = 1 to ts[-1] = 0 with the registered `sampler`; vectorised over the points.

    A stochastic sampler draws fresh noise each step from `generator`, or takes the given
    `step_noise` (steps, N, 2).
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}")
    step = SAMPLERS[sampler].step
    t_list = ts.tolist()
    sigmas = sde.sigma(ts).tolist()

    def denoise(x: Tensor, t: float) -> Tensor:
        return model(x, torch.tensor(t), labels)

    for i in range(len(t_list) - 1):
        t, s = t_list[i], sigmas[i]
        eps = denoise(z, t)
        if callback is not None:
            callback({"i": i, "t": t, "sigma": s, "z": z, "denoised": z - s * eps})

        def noise(i=i, shape=z.shape, device=z.device) -> Tensor:
            return step_noise[i] if step_noise is not None else torch.randn(shape, generator=generator).to(device)

        z = step(Step(z, eps, t, t_list[i + 1], s, sigmas[i + 1], sde.log_ratio, denoise, noise))
    if callback is not None:
        callback({"i": len(t_list) - 1, "t": t_list[-1], "sigma": sigmas[-1], "z": z, "denoised": z})
    return z


def sample_points(
    model: Denoiser,
    n: int,
    sde: VESDE,
    steps: int,
    sampler: str = "euler",
    schedule: str = "uniform",
    start: str = "matched",
    seed: int = 0,
    labels: Tensor | None = None,
    rho: float = 7.0,
    callback: Callback | None = None,
) -> Tensor:
    """n samples (n, 2) on the model's device from a seed: initial noise and any step noise come from it."""
    gen = torch.Generator().manual_seed(seed)
    if labels is not None:
        labels = labels.to(model.data_mean.device)
    with torch.inference_mode():
        z = initial_noise(model, n, start, sde, gen, labels)
        ts = time_grid(steps, schedule, sde, rho)
        return sample(model, z, ts, sde, sampler, labels, gen, callback)


def record_trajectory() -> tuple[list[Tensor], Callback]:
    """A list and the callback that appends z at every step to it."""
    frames: list[Tensor] = []

    def on_step(info: dict) -> None:
        frames.append(info["z"].detach().clone())

    return frames, on_step


def balanced_labels(n: int, n_classes: int) -> Tensor:
    """n labels cycling through the classes (every class equally often, up to one)."""
    return torch.arange(n) % n_classes
