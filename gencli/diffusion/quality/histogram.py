"""Samples against data, for any 2D set: the total-variation distance of two histograms, and its noise floor.

Both sets are counted in a 10 x 10 grid over the data's box, plus one bin for everything outside it;
TV = (1/2) sum_b |p_b - q_b|. Even two draws of the data differ by sampling noise alone: the floor is the mean TV
between pairs of independent data draws of the same two sizes, so a ratio of 1 is as good as the sizes allow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

BINS = 10


def histogram(x: Tensor, lo: np.ndarray, hi: np.ndarray, bins: int = BINS) -> np.ndarray:
    """The shares (bins^2 + 1,) of points in each cell of a bins x bins grid over [lo, hi], and outside it (last)."""
    x = x.double().cpu().numpy()
    u = (x - lo) / (hi - lo)
    inside = np.all((u >= 0) & (u <= 1), axis=1)
    idx = np.clip(np.floor(u[inside] * bins).astype(np.int64), 0, bins - 1)
    counts = np.bincount(idx[:, 1] * bins + idx[:, 0], minlength=bins * bins).astype(float)
    return np.append(counts, (~inside).sum()) / max(len(x), 1)


def histogram_tv(a: Tensor, b: Tensor, lo: np.ndarray, hi: np.ndarray, bins: int = BINS) -> float:
    """(1/2) sum |p_a - p_b| over the grid's cells and the outside bin."""
    return 0.5 * float(np.abs(histogram(a, lo, hi, bins) - histogram(b, lo, hi, bins)).sum())


@dataclass(frozen=True)
class Floor:
    """The TV two independent data draws of n and m points show from sampling noise alone: mean and spread."""

    mean: float
    sd: float
    repeats: int


def tv_floor(dataset, n: int, m: int, lo: np.ndarray, hi: np.ndarray, bins: int = BINS) -> Floor:
    """The noise floor of `histogram_tv` between n samples and m reference points of `dataset`."""
    values = np.array([histogram_tv(a, b, lo, hi, bins) for a, b in dataset.floor_pairs(n, m)])
    return Floor(float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0, len(values))


def as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else torch.as_tensor(np.asarray(x))
