"""Sampling analyses: samples and their quality (C4, C5), nine seeds (U3), sweeps over steps, samplers and grids
(U4, U5), the grids' sigmas, and all of `gencli diffusion sample` at once."""

from __future__ import annotations

import typing

import numpy as np

from gencli.diffusion import quality
from gencli.diffusion.analyses.common import (
    class_grid,
    class_labels,
    sample_timed,
    sampler_settings,
)
from gencli.diffusion.analyses.guidance import guidance_sweep
from gencli.diffusion.config import SampleConfig, Schedule
from gencli.diffusion.model.store import TrainedDiffusion
from gencli.diffusion.process.sde import VESDE
from gencli.diffusion.results import (
    Samples,
    SamplingSweep,
    SeedPanel,
    SeedsGrid,
    SigmaSchedules,
    SweepRow,
)
from gencli.diffusion.sampling.grids import time_grid
from gencli.diffusion.training.trainer import make_dataset

SCHEDULE_NAMES = typing.get_args(Schedule)


def sample_quality(
    trained: TrainedDiffusion, sc: SampleConfig, n: int, seed: int = 0, klass: int | str | None = None
) -> Samples:
    """n samples and their quality: inside fraction, TV from uniform and, conditional, own-cell fractions (C4, C5).

    `klass="none"` samples the null class: the conditional model used unconditionally.
    """
    cfg = trained.cfg
    labels = class_labels(trained, n, klass)
    x, wall = sample_timed(trained, sc, n, seed, labels)
    if klass == "none":
        return Samples(
            x.numpy(),
            None,
            0,
            (0, 0),
            {**sampler_settings(sc), "class": "none"},
            seed,
            wall,
            quality.inside_fraction(x, cfg.data.half_width),
            quality.tv_from_uniform(x, 10, cfg.data.half_width),
        )
    hw = cfg.data.half_width
    res = Samples(
        x.numpy(),
        labels.numpy() if labels is not None else None,
        cfg.n_classes,
        class_grid(cfg),
        sampler_settings(sc),
        seed,
        wall,
        quality.inside_fraction(x, hw),
        quality.tv_from_uniform(x, 10, hw),
    )
    if labels is not None:
        data, data_labels = make_dataset(cfg)
        res.own_region = quality.own_region_fractions(x, labels, cfg.data.grid_rows, cfg.data.grid_cols, hw)
        res.spread = quality.class_spread(x, labels, cfg.n_classes)
        res.data_spread = quality.class_spread(data, data_labels, cfg.n_classes)
    return res


def seeds_grid(trained: TrainedDiffusion, sc: SampleConfig, n: int, first_seed: int = 0, count: int = 9) -> SeedsGrid:
    """U3: `count` samplings of n points with consecutive seeds."""
    labels = class_labels(trained, n)
    panels = []
    for s in range(first_seed, first_seed + count):
        x, _ = sample_timed(trained, sc, n, s, labels)
        panels.append(SeedPanel(s, x.numpy(), quality.inside_fraction(x), quality.tv_from_uniform(x)))
    return SeedsGrid(
        panels, labels.numpy() if labels is not None else None, trained.cfg.n_classes, sampler_settings(sc)
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
            own = float(np.nanmean(quality.own_region_fractions(x, labels, cfg.data.grid_rows, cfg.data.grid_cols)))
        rows.append(
            SweepRow(
                sampler, schedule, steps, quality.inside_fraction(x), quality.tv_from_uniform(x), wall, x.numpy(), own
            )
        )
    what = "number of steps T" if key == "steps_sweep" else "sampler and time grid"
    return SamplingSweep(key, what, rows, labels.numpy() if labels is not None else None, cfg.n_classes, seed, sc.start)


def sigma_schedules(sde: VESDE, steps: int, rho: float = 7.0) -> SigmaSchedules:
    """U5: sigma at each step of the uniform (exercise) and Karras time grids."""
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
