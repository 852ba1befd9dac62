"""Reverse-time samplers for the VE SDE; one signature, a per-step callback.

Every sampler integrates from t = 1 down to t = 0 over a decreasing time grid `ts`:
    sample(model, z, ts, sde, sampler, labels, generator, callback, step_noise)
The callback receives a dict with `i`, `t`, `sigma`, `z` (before the step) and
`denoised` (x0_hat = z - sigma D(z, t)); that is what a trajectory figure needs.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from gencli.diffusion.model import Denoiser
from gencli.diffusion.sde import VESDE

Callback = Callable[[dict], None]


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


def start_moments(model: Denoiser, labels: Tensor | None, n: int, start: str, sde: VESDE) -> tuple[Tensor, Tensor]:
    """Mean and std (n, 2) of the initial noise z(1).

    standard: N(0, I) as in the exercise. matched: N(mean, sigma_max^2 + var) of the
    data (of the point's class when conditional), the exact marginal of x_1 for a
    Gaussian with the data's first two moments.
    """
    device = model.data_mean.device
    if start == "standard":
        return torch.zeros(n, 2, device=device), torch.ones(n, 2, device=device)
    if start != "matched":
        raise ValueError(f"unknown start {start!r}")
    idx = labels if (labels is not None and model.n_classes) else torch.zeros(n, dtype=torch.long, device=device)
    mean = model.data_mean[idx]
    std = (sde.sigma_max**2 + model.data_var[idx]).sqrt()
    return mean, std


def initial_noise(
    model: Denoiser, n: int, start: str, sde: VESDE, generator: torch.Generator, labels: Tensor | None = None
) -> Tensor:
    """z(1) for n points, drawn from `generator` (a CPU generator: the same draw on every device)."""
    mean, std = start_moments(model, labels, n, start, sde)
    return mean + std * torch.randn((n, 2), generator=generator).to(mean.device)


def _denoise(model: Denoiser, z: Tensor, t: float, sigma: float, labels: Tensor | None) -> tuple[Tensor, Tensor]:
    eps = model(z, torch.tensor(t), labels)
    return eps, z - sigma * eps


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
    """Integrate z from ts[0] = 1 to ts[-1] = 0; vectorised over the points.

    euler: the exercise's step dz = -sigma'(t) sigma(t) score dt with score = -D / sigma,
      i.e. z += sigma'(t) D (t_next - t).
    ddim:  z += (sigma(t_next) - sigma(t)) D, the exact step when D is constant over it
      (DDIM, Song et al. 2021, for the VE process).
    heun:  the ddim step corrected with the slope at its end (Karras et al. 2022, Alg. 1).
    sde:   Euler-Maruyama for the reverse SDE dz = -g^2 score dt + g dW, g^2 = d sigma^2/dt;
      fresh noise each step from `generator`, or the given `step_noise` (steps, N, 2).
    """
    t_list = ts.tolist()
    sigmas = sde.sigma(ts).tolist()
    c = sde.log_ratio
    for i in range(len(t_list) - 1):
        t, t_next, s, s_next = t_list[i], t_list[i + 1], sigmas[i], sigmas[i + 1]
        eps, denoised = _denoise(model, z, t, s, labels)
        if callback is not None:
            callback({"i": i, "t": t, "sigma": s, "z": z, "denoised": denoised})
        if sampler == "euler":
            z = z + (c * s * (t_next - t)) * eps
        elif sampler == "ddim":
            z = z + (s_next - s) * eps
        elif sampler == "heun":
            z_pred = z + (s_next - s) * eps
            eps_next, _ = _denoise(model, z_pred, t_next, s_next, labels)
            z = z + (s_next - s) * 0.5 * (eps + eps_next)
        elif sampler == "sde":
            h = t - t_next
            g2 = 2 * c * s * s  # g(t)^2 = d sigma^2 / dt = 2 sigma sigma'
            noise = step_noise[i] if step_noise is not None else torch.randn(z.shape, generator=generator).to(z.device)
            z = z - (2 * c * s * h) * eps + (g2 * h) ** 0.5 * noise
        else:
            raise ValueError(f"unknown sampler {sampler!r}")
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
