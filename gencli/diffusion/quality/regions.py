"""Class fidelity of conditional samples, for any set: does each class's sample land in its own region, and how
evenly do those that do fill it."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from gencli.diffusion.quality.histogram import histogram
from gencli.diffusion.quality.knn import nearest_labels


def landed_classes(x: Tensor, dataset) -> Tensor:
    """The class whose region each point lands in: the set's own rule, or the label of its nearest data point."""
    cls = dataset.classify(x)
    if cls is not None:
        return cls
    points, labels = dataset.labelled_points()
    return nearest_labels(x, points, labels)


def own_region_fractions(x: Tensor, labels: Tensor, dataset, n_classes: int) -> list[float]:
    """For each class c, the fraction of its samples that land in region c (NaN for a class without samples)."""
    landed = landed_classes(x, dataset)
    out = []
    for c in range(n_classes):
        mine = labels == c
        out.append((landed[mine] == c).float().mean().item() if mine.any() else float("nan"))
    return out


def within_region_tv(x: Tensor, labels: Tensor, dataset, n_classes: int, bins: int = 4) -> list[float]:
    """Per class: how evenly the samples that land in their own region fill it, the TV distance between their
    bins x bins histogram over the region's box and the data's own (0: as even as the data; near 1: collapsed)."""
    landed = landed_classes(x, dataset)
    out = []
    for c in range(n_classes):
        pts = x[(labels == c) & (landed == c)]
        if len(pts) == 0:
            out.append(float("nan"))
            continue
        lo, hi = dataset.region_box(c)
        p = histogram(pts, lo, hi, bins)[:-1]
        p = p / max(p.sum(), 1e-12)
        q = dataset.region_shares(c, bins)
        out.append(0.5 * float(np.abs(p - q / max(q.sum(), 1e-12)).sum()))
    return out


def class_spread(x: Tensor, labels: Tensor, n_classes: int) -> list[list[float]]:
    """Per-class standard deviation in x and y."""
    out = []
    for c in range(n_classes):
        xc = x[labels == c]
        out.append(xc.std(0).tolist() if len(xc) >= 2 else [float("nan")] * 2)
    return out


def class_moments(x: Tensor, labels: Tensor | None, n_classes: int) -> tuple[Tensor, Tensor]:
    """Per-class mean and per-dimension variance, shapes (K, 2); one row when unconditional."""
    if labels is None or n_classes == 0:
        return x.mean(0, keepdim=True), x.var(0, keepdim=True)
    means = torch.zeros(n_classes, x.shape[1])
    variances = torch.zeros(n_classes, x.shape[1])
    for c in range(n_classes):
        xc = x[labels == c]
        if len(xc) >= 2:
            means[c], variances[c] = xc.mean(0), xc.var(0)
        elif len(xc) == 1:
            means[c] = xc[0]
    return means, variances


def spread_from_centre(x: Tensor, labels: Tensor, dataset, n_classes: int) -> float:
    """How far the samples that land in their own region sit from its centre, against the data of that class: the
    mean over classes of mean |x - m_c| (samples) / mean |x - m_c| (data), m_c the class's data mean. Below 1: pulled
    toward the centres; above 1: pushed toward the regions' edges."""
    ref, ref_labels = dataset.labelled_points()
    landed = landed_classes(x, dataset)
    ratios = []
    for c in range(n_classes):
        data = ref[ref_labels == c].double()
        pts = x[(labels == c) & (landed == c)].double()
        if len(data) < 2 or len(pts) == 0:
            continue
        m = data.mean(0)
        ratios.append(float((pts - m).norm(dim=1).mean() / (data - m).norm(dim=1).mean().clamp_min(1e-12)))
    return float(np.mean(ratios)) if ratios else float("nan")
