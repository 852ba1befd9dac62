"""Sampling analyses: samples and their quality (C4, C5), nine seeds (U3), sweeps over steps, samplers and grids
(U4, U5), the grids' sigmas, and all of `gencli diffusion sample` at once."""

from __future__ import annotations

import typing

import numpy as np

from gencli.core.budget import check_fits
from gencli.diffusion.analyses.common import class_labels, quality_of, sample_timed, sampler_settings, training_points
from gencli.diffusion.analyses.guidance import guidance_sweep
from gencli.diffusion.config import SampleConfig, Schedule
from gencli.diffusion.model.store import TrainedDiffusion
from gencli.diffusion.process.sde import VESDE
from gencli.diffusion.quality import regions
from gencli.diffusion.results import (
    Samples,
    SamplingSweep,
    SeedPanel,
    SeedsGrid,
    SigmaSchedules,
    SweepRow,
)
from gencli.diffusion.sampling.grids import time_grid
from gencli.diffusion.sampling.samplers import GRID_BYTES_PER_STEP

SCHEDULE_NAMES = typing.get_args(Schedule)


def sample_quality(
    trained: TrainedDiffusion, sc: SampleConfig, n: int, seed: int = 0, klass: int | str | None = None
) -> Samples:
    """n samples and their quality against fresh data (TV with its floor, precision, recall, inside fraction) and,
    conditional, each class's own-region fraction and spread (C4, C5). One class is measured against its own data.

    `klass="none"` samples the null class: the conditional model used unconditionally.
    """
    cfg, data = trained.cfg, trained.dataset
    labels = class_labels(trained, n, klass)
    x, wall = sample_timed(trained, sc, n, seed, labels)
    view, q = data.data_view(), quality_of(trained, x, klass)
    if klass == "none":
        return Samples(x.numpy(), None, 0, view, {**sampler_settings(sc), "class": "none"}, seed, wall, q)
    res = Samples(
        x.numpy(),
        labels.numpy() if labels is not None else None,
        cfg.n_classes,
        view,
        sampler_settings(sc),
        seed,
        wall,
        q,
    )
    if labels is not None:
        points, point_labels = training_points(trained)
        res.own_region = regions.own_region_fractions(x, labels, data, cfg.n_classes)
        res.spread = regions.class_spread(x, labels, cfg.n_classes)
        res.data_spread = regions.class_spread(points, point_labels, cfg.n_classes)
    return res


def seeds_grid(trained: TrainedDiffusion, sc: SampleConfig, n: int, first_seed: int = 0, count: int = 9) -> SeedsGrid:
    """U3: `count` samplings of n points with consecutive seeds, each with its quality."""
    labels = class_labels(trained, n)
    panels = []
    for s in range(first_seed, first_seed + count):
        x, _ = sample_timed(trained, sc, n, s, labels)
        panels.append(SeedPanel(s, x.numpy(), quality_of(trained, x)))
    return SeedsGrid(
        panels,
        labels.numpy() if labels is not None else None,
        trained.cfg.n_classes,
        sampler_settings(sc),
        trained.dataset.data_view(),
    )


def sampler_sweep(
    trained: TrainedDiffusion,
    sc: SampleConfig,
    n: int,
    seed: int,
    variants: list[tuple[str, str, int]],
    key: str = "compare",
) -> SamplingSweep:
    """U4/U5: the same seed through each (sampler, schedule, steps); quality and wall time of each."""
    cfg = trained.cfg
    labels = class_labels(trained, n)
    rows = []
    for sampler, schedule, steps in variants:
        x, wall = sample_timed(trained, sc, n, seed, labels, sampler, schedule, steps)
        own = None
        if labels is not None:
            own = float(np.nanmean(regions.own_region_fractions(x, labels, trained.dataset, cfg.n_classes)))
        rows.append(SweepRow(sampler, schedule, steps, quality_of(trained, x), wall, x.numpy(), own))
    what = "number of steps T" if key == "steps_sweep" else "sampler and time grid"
    return SamplingSweep(
        key,
        what,
        rows,
        labels.numpy() if labels is not None else None,
        cfg.n_classes,
        seed,
        sc.start,
        trained.dataset.data_view(),
        trained.sde.log_ratio,
    )


def sigma_schedules(sde: VESDE, steps: int, rho: float = 7.0) -> SigmaSchedules:
    """U5: sigma at each step of the uniform (exercise) and Karras time grids."""
    check_fits(len(SCHEDULE_NAMES) * steps * GRID_BYTES_PER_STEP, f"time grids of {steps:,} steps", "steps", steps)
    series = {}
    for name in SCHEDULE_NAMES:
        ts = time_grid(steps, name, sde, rho)
        series[name] = (ts.numpy(), sde.sigma(ts).numpy())
    return SigmaSchedules(steps, rho, sde.sigma_min, sde.sigma_max, series)


def sampling_study(
    trained: TrainedDiffusion,
    sc: SampleConfig,
    n: int,
    seed: int = 0,
    klass: int | str | None = None,
    seeds: bool = False,
    steps_sweep: list[int] | None = None,
    pairs: list[tuple[str, str]] | None = None,
    guidance_weights: list[float] | None = None,
) -> list:
    """Samples with their quality (C4, C5) and, when asked, the 9-seed grid (U3), a sweep over the number of steps (U4),
    a comparison of samplers and grids (U5) and a guidance sweep: everything `gencli diffusion sample` shows."""
    results: list = [sample_quality(trained, sc, n, seed, klass)]
    if seeds:
        results.append(seeds_grid(trained, sc, n, seed))
    if steps_sweep:
        results.append(
            sampler_sweep(trained, sc, n, seed, [(sc.sampler, sc.schedule, t) for t in steps_sweep], "steps_sweep")
        )
    if pairs:
        results.append(sampler_sweep(trained, sc, n, seed, [(s, g, sc.steps) for s, g in pairs], "compare"))
    if guidance_weights:
        results.append(guidance_sweep(trained, sc, n, seed, guidance_weights))
    return results
