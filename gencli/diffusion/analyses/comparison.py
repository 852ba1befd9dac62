"""Diffusion or flow? Models of one set sampled at 1, 2, 4, ..., 128 network evaluations with each sampler that
applies, measured alike; each model's path straightness, training time and exact likelihood."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch

from gencli.core.errors import ParameterError
from gencli.diffusion.analyses.common import class_labels, quality_of, sample_timed, sampling_model
from gencli.diffusion.analyses.likelihood import data_log_likelihood
from gencli.diffusion.model.store import TrainedDiffusion
from gencli.diffusion.quality import regions
from gencli.diffusion.results.comparison import ComparisonRow, ModelSummary, ObjectiveComparison
from gencli.diffusion.sampling.grids import time_grid
from gencli.diffusion.sampling.samplers import check_sampling_memory, record_trajectory, sample
from gencli.diffusion.sampling.start import initial_noise
from gencli.diffusion.sampling.steps import samplers_for

EVALUATIONS = (1, 2, 4, 8, 16, 32, 64, 128)


def path_straightness(trained: TrainedDiffusion, n: int = 500, steps: int = 64, seed: int = 0) -> float:
    """The mean over n points of (length of the sampling path) / (distance from its start to its end), along the
    model's deterministic Euler sampler with `steps` steps from its own start: 1 for a straight path."""
    sc = dataclasses.replace(trained.cfg.sample, sampler="euler", steps=steps, guidance=0.0)
    model = sampling_model(trained, sc)
    labels = class_labels(trained, n)
    labels = labels.to(trained.device) if labels is not None else None
    check_sampling_memory(model, n, steps, frames=2 * (steps + 1))
    frames, keep = record_trajectory()
    with torch.inference_mode():
        z = initial_noise(model, n, sc.start, trained.sde, torch.Generator().manual_seed(seed), labels)
        ts = time_grid(steps, "uniform", trained.sde)
        sample(model, z, ts, trained.sde, "euler", labels, None, keep)
    path = torch.stack(frames).double().cpu()  # (K, n, 2)
    length = (path[1:] - path[:-1]).norm(dim=2).sum(0)
    chord = (path[-1] - path[0]).norm(dim=1).clamp_min(1e-12)
    return float((length / chord).mean())


def model_labels(models: list[TrainedDiffusion]) -> list[str]:
    """A name per model: its objective, and its checkpoint's folder where two share one."""
    objectives = [m.cfg.model.objective for m in models]
    return [o if objectives.count(o) == 1 else f"{o} ({m.checkpoint.path.name})" for o, m in zip(objectives, models)]


def check_one_set(models: list[TrainedDiffusion]) -> None:
    """Every model was trained on the same data (a comparison of quality needs one reference)."""
    first = models[0]
    for m in models[1:]:
        if m.cfg.data.name != first.cfg.data.name or m.dataset.data_view() != first.dataset.data_view():
            raise ParameterError(
                "models",
                f"{m.checkpoint.path} holds a model of {m.cfg.data.name!r}, {first.checkpoint.path} one of "
                f"{first.cfg.data.name!r}: compare models of one set",
            )


def objective_comparison(
    models: list[TrainedDiffusion],
    n: int = 2000,
    seed: int = 0,
    evaluations: tuple[int, ...] | list[int] = EVALUATIONS,
    ll_points: int = 0,
    straight_steps: int = 64,
    on_row: Callable[[int], None] | None = None,
) -> ObjectiveComparison:
    """Each model sampled with each of its samplers at every budget of network evaluations that a whole number of
    its steps fills (heun and midpoint cost 2 a step), n points from one seed, measured against fresh data; with
    ll_points, each model's exact log p averaged over that many fresh points beside the truth's."""
    if not models:
        raise ParameterError("models", "give at least one checkpoint")
    if not evaluations or min(evaluations) < 1:
        raise ParameterError("evaluations", "must be positive integers", list(evaluations))
    check_one_set(models)
    names = model_labels(models)
    rows, summaries, done = [], [], 0
    for label, m in zip(names, models):
        labels = class_labels(m, n)
        sc = m.cfg.sample
        schedule = "uniform" if m.cfg.is_flow else sc.schedule
        for sampler in samplers_for(m.cfg.model.objective).values():
            for e in sorted(set(evaluations)):
                if e % sampler.evaluations:
                    continue
                steps = e // sampler.evaluations
                x, _ = sample_timed(m, sc, n, seed, labels, sampler.name, schedule, steps)
                own = None
                if labels is not None:
                    own = float(np.nanmean(regions.own_region_fractions(x, labels, m.dataset, m.cfg.n_classes)))
                rows.append(ComparisonRow(label, sampler.name, e, steps, quality_of(m, x), own))
                done += 1
                if on_row is not None:
                    on_row(done)
        summary = ModelSummary(
            label,
            m.cfg.model.objective,
            str(m.checkpoint.path),
            float((m.checkpoint.meta.get("metrics") or {}).get("wall_s") or 0.0),
            m.cfg.train.epochs,
            path_straightness(m, min(n, 500), straight_steps, seed),
            straight_steps,
        )
        if ll_points and m.dataset.has_density and not m.cfg.n_classes:
            summary.ll_model, summary.ll_truth, summary.ll_se, _ = data_log_likelihood(m, sc, ll_points, seed)
            summary.ll_points = ll_points
        summaries.append(summary)
    return ObjectiveComparison(rows, summaries, models[0].dataset.data_view(), n, seed, sorted(set(evaluations)))


def comparison_size(models: list[TrainedDiffusion], evaluations) -> int:
    """How many samplings objective_comparison runs (for a progress bar)."""
    return sum(
        1
        for m in models
        for s in samplers_for(m.cfg.model.objective).values()
        for e in set(evaluations)
        if e % s.evaluations == 0
    )
