"""The sampling loop: integrate z from t = 1 down to t = 0 with one of the registered steps, calling back each step.

    sample(model, z, ts, sde, sampler, labels, generator, callback, step_noise)

The callback receives a dict with `i`, `t`, `sigma`, `z` (before the step) and `denoised`
(x0_hat = z - sigma D(z, t)); that is what a trajectory figure needs (k-diffusion's callback).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from gencli.core.budget import check_fits
from gencli.diffusion.model.denoiser import Denoiser
from gencli.diffusion.process.flow import LinearFlow
from gencli.diffusion.process.sde import VESDE
from gencli.diffusion.sampling.grids import time_grid
from gencli.diffusion.sampling.start import initial_noise
from gencli.diffusion.sampling.steps import Step, samplers_for

Callback = Callable[[dict], None]


def sample(
    model: Denoiser,
    z: Tensor,
    ts: Tensor,
    sde: VESDE | LinearFlow,
    sampler: str = "euler",
    labels: Tensor | None = None,
    generator: torch.Generator | None = None,
    callback: Callback | None = None,
    step_noise: Tensor | None = None,
) -> Tensor:
    """Integrate z from ts[0] = 1 to ts[-1] = 0 with the registered `sampler` of the process (`sde`: the VE-SDE or a
    flow); vectorised over the points.

    A stochastic sampler draws fresh noise each step from `generator`, or takes the given
    `step_noise` (steps, N, 2).
    """
    table = samplers_for(sde.objective)
    if sampler not in table:
        raise ValueError(f"unknown sampler {sampler!r} for the {sde.objective} objective")
    step = table[sampler].step
    t_list = ts.double().cpu().numpy()  # numpy, not Python lists: 16 bytes a step, not 64
    sigmas = sde.sigma(ts).double().cpu().numpy()

    def denoise(x: Tensor, t: float) -> Tensor:
        return sde.velocity(model(x, torch.tensor(t), labels))

    for i in range(len(t_list) - 1):
        t, s = float(t_list[i]), float(sigmas[i])
        eps = denoise(z, t)
        if callback is not None:
            callback({"i": i, "t": t, "sigma": s, "z": z, "denoised": sde.denoised(z, t, eps)})

        def noise(i=i, shape=z.shape, device=z.device) -> Tensor:
            return step_noise[i] if step_noise is not None else torch.randn(shape, generator=generator).to(device)

        z = step(Step(z, eps, t, float(t_list[i + 1]), s, float(sigmas[i + 1]), sde.log_ratio, denoise, noise))
    if callback is not None:
        callback({"i": len(t_list) - 1, "t": float(t_list[-1]), "sigma": float(sigmas[-1]), "z": z, "denoised": z})
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
    check_sampling_memory(model, n, steps)
    gen = torch.Generator().manual_seed(seed)
    if labels is not None:
        labels = labels.to(model.data_mean.device)
    with torch.inference_mode():
        z = initial_noise(model, n, start, sde, gen, labels)
        ts = time_grid(steps, schedule, sde, rho)
        return sample(model, z, ts, sde, sampler, labels, gen, callback)


GRID_BYTES_PER_STEP = 64  # the time grid and its sigmas, in float32 and float64, with the grid's temporaries


def bytes_per_point(model: torch.nn.Module) -> int:
    """Memory one point takes while the denoiser runs on a batch: every layer's output, a few times over (float32
    activations, the sampler's z, eps and their temporaries)."""
    widths = sum(m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear))
    return 4 * (3 * widths + 64)


def check_sampling_memory(model: torch.nn.Module, n: int, steps: int, frames: int = 0) -> None:
    """Refuse n points over `steps` steps (keeping `frames` snapshots of them) that cannot fit in free memory."""
    check_fits(
        n * (bytes_per_point(model) + 8 * frames), f"{n:,} points" + (f" x {frames:,} frames" if frames else ""), "n", n
    )
    check_fits(steps * GRID_BYTES_PER_STEP, f"a time grid of {steps:,} steps", "steps", steps)


def record_trajectory() -> tuple[list[Tensor], Callback]:
    """A list and the callback that appends z at every step to it."""
    frames: list[Tensor] = []

    def on_step(info: dict) -> None:
        frames.append(info["z"].detach().clone())

    return frames, on_step


def balanced_labels(n: int, n_classes: int) -> Tensor:
    """n labels cycling through the classes (every class equally often, up to one)."""
    return torch.arange(n) % n_classes


def weighted_labels(n: int, weights) -> Tensor:
    """n labels in proportion to `weights` (largest remainders get the leftover ones), cycling through the classes
    so that any prefix is spread over them too; equal weights give `balanced_labels`."""
    import numpy as np

    w = np.asarray(weights, dtype=float)
    if len(w) == 0 or np.allclose(w, w[0]):
        return balanced_labels(n, len(w) or 1)
    share = n * w / w.sum()
    counts = np.floor(share).astype(int)
    counts[np.argsort(-(share - counts), kind="stable")[: n - counts.sum()]] += 1
    # interleave: label k's j-th copy sits at (j + 0.5) / count_k of the way along
    keys = np.concatenate([(np.arange(c) + 0.5) / c for c in counts if c])
    labels = np.concatenate([np.full(c, k) for k, c in enumerate(counts) if c])
    return torch.as_tensor(labels[np.argsort(keys, kind="stable")], dtype=torch.long)
