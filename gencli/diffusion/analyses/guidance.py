"""Classifier-free guidance at several weights (C7)."""

from __future__ import annotations

import dataclasses

import numpy as np

from gencli.core.errors import ParameterError
from gencli.diffusion.analyses.common import class_labels, quality_of, sample_timed, sampler_settings
from gencli.diffusion.config import SampleConfig
from gencli.diffusion.model.store import TrainedDiffusion
from gencli.diffusion.quality import regions
from gencli.diffusion.results import (
    GuidanceRow,
    GuidanceSweep,
)


def guidance_sweep(
    trained: TrainedDiffusion,
    sc: SampleConfig,
    n: int,
    seed: int,
    weights: list[float],
    intervals: list[tuple[float, float]] | None = None,
) -> GuidanceSweep:
    """Classifier-free guidance at several weights W, in the configured interval and, for contrast, at every step.

    Per (interval, W), from the same noise: the own-region fraction (class fidelity), the within-region TV of a 4x4
    histogram against the class's own data (how evenly each class fills its region: diversity), and the quality of
    all the samples against the data.
    """
    cfg = trained.cfg
    if not cfg.n_classes:
        raise ParameterError("weights", "a guidance sweep needs the conditional model")
    intervals = intervals or list(dict.fromkeys([tuple(sc.guidance_interval), (0.0, 1.0)]))
    labels = class_labels(trained, n)
    rows, plain = [], None
    for interval in intervals:
        for w in weights:
            if w == 0 and plain is not None:
                rows.append(dataclasses.replace(plain, interval=interval))
                continue
            x, wall = sample_timed(
                trained, dataclasses.replace(sc, guidance=w, guidance_interval=list(interval)), n, seed, labels
            )
            own = regions.own_region_fractions(x, labels, trained.dataset, cfg.n_classes)
            even = regions.within_region_tv(x, labels, trained.dataset, cfg.n_classes)
            centre = regions.spread_from_centre(x, labels, trained.dataset, cfg.n_classes)
            row = GuidanceRow(
                w,
                interval,
                float(np.nanmean(own)),
                float(np.nanmin(own)),
                float(np.nanmean(even)),
                quality_of(trained, x),
                wall,
                x.numpy(),
                centre,
            )
            plain = row if w == 0 else plain
            rows.append(row)
    return GuidanceSweep(rows, labels.numpy(), cfg.n_classes, trained.dataset.data_view(), sampler_settings(sc), seed)
