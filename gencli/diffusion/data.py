"""Training points: uniform in a square, with an optional grid of classes."""

from __future__ import annotations

import torch
from torch import Tensor


def square_points(n: int, half_width: float, generator: torch.Generator) -> Tensor:
    """n points uniform in [-half_width, half_width]^2, shape (n, 2)."""
    return (torch.rand((n, 2), generator=generator) * 2 - 1) * half_width


def grid_labels(x: Tensor, rows: int, cols: int, half_width: float) -> Tensor:
    """Class of each point: cols * row + col of its grid cell; -1 outside the square.

    col counts cells from the left (x), row from the bottom (y), both from 0.
    """
    u = (x + half_width) / (2 * half_width)  # (N, 2) in [0, 1] inside
    col = torch.floor(u[:, 0] * cols).long().clamp(0, cols - 1)
    row = torch.floor(u[:, 1] * rows).long().clamp(0, rows - 1)
    inside = (x.abs() <= half_width).all(dim=1)
    return torch.where(inside, row * cols + col, torch.full_like(col, -1))


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
