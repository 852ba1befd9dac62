"""Quality figures of 2D samples: inside fraction, histogram TV distance, class regions."""

from __future__ import annotations

import torch
from torch import Tensor

from gencli.diffusion.datasets.square import grid_labels


def inside_fraction(x: Tensor, half_width: float = 1.0) -> float:
    """Fraction of points inside the square [-half_width, half_width]^2."""
    return (x.abs() <= half_width).all(dim=1).float().mean().item()


def tv_from_uniform(x: Tensor, bins: int = 10, half_width: float = 1.0) -> float:
    """Total-variation distance between the samples' bins x bins histogram and the uniform one.

    Mass outside the square counts as its own bin (uniform puts 0 there), so
    TV = (sum_b |p_b - 1/bins^2| + p_outside) / 2. With 10,000 samples of the true
    distribution its expected value is about 0.04 (sampling noise alone).
    """
    n = x.shape[0]
    u = (x + half_width) / (2 * half_width)
    inside = ((u >= 0) & (u <= 1)).all(dim=1)
    idx = (u[inside] * bins).floor().long().clamp(0, bins - 1)
    counts = torch.bincount(idx[:, 1] * bins + idx[:, 0], minlength=bins * bins).double()
    p = counts / n
    outside = 1.0 - inside.double().mean()
    return 0.5 * ((p - 1.0 / bins**2).abs().sum() + outside).item()


def own_region_fractions(x: Tensor, labels: Tensor, rows: int, cols: int, half_width: float = 1.0) -> list[float]:
    """For each class c, the fraction of its samples that land in cell c."""
    landed = grid_labels(x, rows, cols, half_width)
    out = []
    for c in range(rows * cols):
        mine = labels == c
        out.append((landed[mine] == c).float().mean().item() if mine.any() else float("nan"))
    return out


def within_cell_tv(
    x: Tensor, labels: Tensor, rows: int, cols: int, half_width: float = 1.0, bins: int = 4
) -> list[float]:
    """Per class: how evenly the samples that land in the class's own cell fill it.

    The TV distance between a bins x bins histogram of those samples (in the cell's own
    coordinates) and the uniform one; 0 is perfectly even, near 1 is collapsed to a point.
    """
    landed = grid_labels(x, rows, cols, half_width)
    u = (x + half_width) / (2 * half_width)  # (N, 2) in [0, 1] inside the square
    local = torch.stack([u[:, 0] * cols, u[:, 1] * rows], dim=1)
    local = local - local.floor().clamp(max=torch.tensor([cols - 1, rows - 1], dtype=local.dtype))
    out = []
    for c in range(rows * cols):
        pts = local[(labels == c) & (landed == c)]
        if len(pts) == 0:
            out.append(float("nan"))
            continue
        idx = (pts * bins).floor().long().clamp(0, bins - 1)
        p = torch.bincount(idx[:, 1] * bins + idx[:, 0], minlength=bins * bins).double() / len(pts)
        out.append(0.5 * (p - 1.0 / bins**2).abs().sum().item())
    return out


def class_spread(x: Tensor, labels: Tensor, n_classes: int) -> list[list[float]]:
    """Per-class standard deviation in x and y."""
    out = []
    for c in range(n_classes):
        xc = x[labels == c]
        out.append(xc.std(0).tolist() if len(xc) >= 2 else [float("nan")] * 2)
    return out
