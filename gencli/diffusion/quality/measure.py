"""Measure samples against the data of their set: `measure(samples, dataset)` -> SampleQuality."""

from __future__ import annotations

import functools

import torch
from torch import Tensor

from gencli.diffusion.quality.histogram import Floor, histogram_tv, tv_floor
from gencli.diffusion.quality.knn import K, precision_recall
from gencli.diffusion.quality.square import tv_from_uniform
from gencli.diffusion.results.common import tv_noise_floor
from gencli.diffusion.results.quality import SampleQuality

MAX_KNN = 10000  # points each side of the k-NN precision and recall


@functools.lru_cache(maxsize=64)
def _reference(dataset, n: int) -> Tensor:
    return dataset.reference_points(n)[0]


@functools.lru_cache(maxsize=64)
def _reference_mean_log_density(dataset, n: int) -> float:
    """The mean log density of the n reference points under their set's truth (the same points every call)."""
    return _mean_finite(dataset.log_density(_reference(dataset, n)))[0]


@functools.lru_cache(maxsize=64)
def _floor(dataset, n: int, m: int) -> tuple[Floor, float, float]:
    lo, hi = dataset.bounds()
    floor = tv_floor(dataset, n, m, lo, hi)
    a, b = next(iter(dataset.floor_pairs(n, m)))
    side = min(len(a), len(b), MAX_KNN)
    p, r = precision_recall(a[:side], b[:side], K)
    return floor, p, r


def _mean_finite(v: Tensor) -> tuple[float, float]:
    finite = torch.isfinite(v)
    return (float(v[finite].mean()) if finite.any() else float("nan")), float((~finite).double().mean())


def measure(samples: Tensor, dataset, reference: int | None = None) -> SampleQuality:
    """The quality of samples (N, 2) against `reference` points (default N) of fresh data of `dataset`."""
    x = samples.detach().float().cpu()
    n = len(x)
    ref = _reference(dataset, reference or n)
    m = len(ref)
    lo, hi = dataset.bounds()
    floor, data_p, data_r = _floor(dataset, n, m)
    side = min(n, m, MAX_KNN)
    precision, recall = precision_recall(x[:side], ref[:side], K)
    truth = dataset.log_density(x)
    inside = float(dataset.inside(x, truth).double().mean())
    q = SampleQuality(
        n=n,
        reference=m,
        reference_kind="held-out points" if dataset.name == "points" else "fresh data",
        tv=histogram_tv(x, ref, lo, hi),
        floor=floor.mean,
        floor_sd=floor.sd,
        floor_repeats=floor.repeats,
        precision=precision,
        recall=recall,
        data_precision=data_p,
        data_recall=data_r,
        k=K,
        inside_fraction=inside,
    )
    if truth is not None:
        q.truth_logp, q.truth_outside = _mean_finite(truth)
        q.data_logp = _reference_mean_log_density(dataset, reference or n)
    if dataset.name == "square":
        q.square_tv = tv_from_uniform(x, 10, dataset.h)
        q.square_floor = tv_noise_floor(n)
    return q


__all__ = ["measure"]
