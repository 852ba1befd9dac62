"""The bonus: optimise the sampler's inputs so that the frozen model outputs a chosen point."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from gencli.core.errors import ParameterError
from gencli.diffusion.analyses.common import class_labels, training_points
from gencli.diffusion.model.store import TrainedDiffusion
from gencli.diffusion.results import (
    SamplerInversion,
)
from gencli.diffusion.sampling.applies import check_applies
from gencli.diffusion.sampling.grids import time_grid
from gencli.diffusion.sampling.inversion import optimise_sampler_inputs
from gencli.diffusion.sampling.start import start_moments


def invert_to_target(
    trained: TrainedDiffusion,
    target: tuple[float, float],
    klass: int | None = None,
    sampler: str | None = None,
    steps: int = 100,
    iterations: int = 1000,
    lr: float = 0.1,
    tolerance: float = 0.01,
    seed: int = 0,
    on_step: Callable[[int, float], None] | None = None,
) -> SamplerInversion:
    """Bonus: optimise the sampler's initial (and, for sde, per-step) noise so that the frozen model outputs
    `target`. The default sampler: sde (a flow model: euler, it has no stochastic one)."""
    objective = trained.cfg.model.objective
    sampler = sampler or ("euler" if trained.cfg.is_flow else "sde")
    check_applies(objective, sampler)
    if not lr > 0:
        raise ParameterError("lr", f"must be > 0, got {lr}")
    k = trained.cfg.n_classes
    label = class_labels(trained, 1, klass if klass is not None else (0 if k else None))
    if label is not None:
        label = label.to(trained.device)
    ts = time_grid(steps, "uniform", trained.sde)
    res = optimise_sampler_inputs(
        trained.model,
        trained.sde,
        torch.tensor(target, dtype=torch.float32),
        ts,
        sampler,
        iterations,
        lr,
        tolerance,
        seed,
        trained.cfg.sample.start,
        label,
        on_step,
    )
    data, _ = training_points(trained)
    # how likely the found noise is under the sampler's own noise: standardise z(1) by its start distribution
    mean, std = start_moments(trained.model, label, 1, trained.cfg.sample.start, trained.sde)
    u = ((res.z1.to(mean.device) - mean[0]) / std[0]).cpu()
    if res.step_noise is not None:
        u = torch.cat([u, res.step_noise.cpu().flatten()])
    log_density = float(-0.5 * (u**2).sum() - 0.5 * u.numel() * math.log(2 * math.pi))
    return SamplerInversion(
        tuple(target),
        res.final.cpu().numpy(),
        res.distance,
        res.iterations,
        tolerance,
        np.asarray(res.losses),
        res.trajectory.cpu().numpy(),
        ts.numpy(),
        sampler,
        steps,
        res.z1.cpu().numpy(),
        data.numpy(),
        noise_numbers=u.numel(),
        view=trained.dataset.data_view(),
        noise_log_density=log_density,
    )
