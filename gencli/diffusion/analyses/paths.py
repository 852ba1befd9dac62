"""Trajectory analyses: the forward process of one point (U1), reverse paths (U6, C3) and determinism (U6)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from gencli.diffusion.analyses.common import class_labels, sampler_settings, sampling_model, training_points
from gencli.diffusion.config import SampleConfig
from gencli.diffusion.model.store import TrainedDiffusion
from gencli.diffusion.process.flow import LinearFlow
from gencli.diffusion.process.sde import VESDE
from gencli.diffusion.quality.regions import landed_classes
from gencli.diffusion.results import (
    Determinism,
    ForwardPath,
    ReversePaths,
)
from gencli.diffusion.sampling.grids import time_grid
from gencli.diffusion.sampling.samplers import (
    check_sampling_memory,
    record_trajectory,
    sample,
)
from gencli.diffusion.sampling.start import initial_noise


def forward_path(
    sde: VESDE | LinearFlow, dataset, point: tuple[float, float] | None = None, steps: int = 500, seed: int = 0
) -> ForwardPath:
    """U1: one path of the forward process from `point` (default: outside the set, beyond a corner of its box), at
    steps + 1 evenly spaced times."""
    point = tuple(point) if point is not None else dataset.forward_start()
    ts = torch.linspace(0, 1, steps + 1)
    x0 = torch.tensor([point], dtype=torch.float32)
    path = sde.forward_path(x0, ts, torch.Generator().manual_seed(seed))[:, 0]
    inside = bool(dataset.inside(x0)[0])
    return ForwardPath(
        point,
        ts.numpy(),
        sde.sigma(ts).numpy(),
        path.numpy(),
        dataset.data_view(),
        inside,
        sde.log_ratio,
        sde.objective,
    )


def reverse_paths(trained: TrainedDiffusion, sc: SampleConfig, n: int = 4, seed: int = 0) -> ReversePaths:
    """Reverse trajectories of n points, or one point per class with the check that it ends in its own region (C3)."""
    cfg = trained.cfg
    k = cfg.n_classes
    labels = torch.arange(k, device=trained.device) if k else None
    count = k or n
    gen = torch.Generator().manual_seed(seed)
    model = sampling_model(trained, sc)
    check_sampling_memory(model, count, sc.steps, frames=2 * (sc.steps + 1))  # the frames, then their stack
    frames, cb = record_trajectory()
    ts = time_grid(sc.steps, sc.schedule, trained.sde, sc.rho)
    with torch.inference_mode():
        z = initial_noise(model, count, sc.start, trained.sde, gen, labels)
        sample(model, z, ts, trained.sde, sc.sampler, labels, gen, cb)
    traj = torch.stack(frames).cpu()  # (K, count, 2)
    data, _ = training_points(trained)
    landed = landed_classes(traj[-1], trained.dataset).numpy() if k else None
    return ReversePaths(
        traj.numpy(),
        ts.numpy(),
        labels.cpu().numpy() if k else None,
        k,
        trained.dataset.data_view(),
        data.numpy(),
        sampler_settings(sc),
        seed,
        trained.dataset.inside(traj[-1]).numpy(),
        landed,
    )


def determinism(
    trained: TrainedDiffusion,
    sc: SampleConfig,
    repeats: int = 10,
    n: int = 1000,
    seed: int = 0,
    shown: int = 4,
    on_repeat: Callable[[int], None] | None = None,
) -> Determinism:
    """U6: the same initial noise through the sampler `repeats` times (step noise, if any, seeded seed + 1 + r)."""
    labels = class_labels(trained, n)
    if labels is not None:
        labels = labels.to(trained.device)
    model = sampling_model(trained, sc)
    with torch.inference_mode():
        z1 = initial_noise(model, n, sc.start, trained.sde, torch.Generator().manual_seed(seed), labels)
    ts = time_grid(sc.steps, sc.schedule, trained.sde, sc.rho)
    outputs, paths = [], []
    for r in range(repeats):
        frames: list[torch.Tensor] = []

        def keep(info: dict, frames=frames) -> None:
            frames.append(info["z"][:shown].cpu())

        with torch.inference_mode():
            step_gen = torch.Generator().manual_seed(seed + 1 + r)
            outputs.append(sample(model, z1.clone(), ts, trained.sde, sc.sampler, labels, step_gen, keep).cpu())
        paths.append(torch.stack(frames))
        if on_repeat is not None:
            on_repeat(r + 1)
    stack = torch.stack(outputs)  # (R, n, 2)
    same = [bool(torch.equal(o, outputs[0])) for o in outputs]
    return Determinism(
        sc.sampler,
        sc.steps,
        repeats,
        n,
        all(same),
        sum(same[1:]),
        (stack - stack[0]).abs().amax().item(),
        torch.stack(paths).numpy(),
        stack[:, :shown].numpy(),
        trained.dataset.data_view(),
    )
