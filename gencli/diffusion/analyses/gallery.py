"""Other distributions: each built-in set's model sampled and measured the same way (the report's gallery)."""

from __future__ import annotations

import dataclasses

from gencli.diffusion.analyses.common import quality_of, sample_timed, sampler_settings, training_points
from gencli.diffusion.analyses.likelihood import data_log_likelihood
from gencli.diffusion.model.store import TrainedDiffusion
from gencli.diffusion.results.gallery import Gallery, GalleryRow

SHOWN = 3000  # training points drawn beside the samples


def distribution_gallery(
    models: dict[str, TrainedDiffusion], n: int, steps: int, ll_points: int = 0, seed: int = 0
) -> Gallery:
    """Per set: n samples (its default sampler at `steps` steps) measured against fresh data, and, with ll_points,
    the exact log p averaged over that many fresh data points beside the truth's."""
    rows = []
    sc = None
    for m in models.values():
        sc = dataclasses.replace(m.cfg.sample, steps=steps)
        x, _ = sample_timed(m, sc, n, seed, None)
        data, _ = training_points(m)
        row = GalleryRow(
            m.dataset.data_view(),
            data[:SHOWN].numpy(),
            x.numpy(),
            quality_of(m, x),
            float((m.checkpoint.meta.get("metrics") or {}).get("wall_s") or 0.0),
            m.cfg.train.epochs,
        )
        if ll_points:
            row.model_ll, row.truth_ll, row.ll_se, _ = data_log_likelihood(m, sc, ll_points, seed)
            row.ll_points = ll_points
        rows.append(row)
    return Gallery(rows, sampler_settings(sc) if sc is not None else {})
