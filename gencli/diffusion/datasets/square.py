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


def _log_normal_mass(a: Tensor, b: Tensor) -> Tensor:
    """log (Phi(b) - Phi(a)) for a < b, elementwise, without cancellation in either tail."""
    flip = a > 0  # both bounds in the upper tail: Phi(b) - Phi(a) = Phi(-a) - Phi(-b)
    hi = torch.where(flip, -a, b)
    lo = torch.where(flip, -b, a)
    log_hi, log_lo = torch.special.log_ndtr(hi), torch.special.log_ndtr(lo)
    return log_hi + torch.log1p(-torch.exp(log_lo - log_hi))


def smoothed_box_log_density(x: Tensor, lo: Tensor, hi: Tensor, sigma: float) -> Tensor:
    """log density (N,) at x (N, D) of the uniform distribution on the box [lo, hi] (per dimension) convolved with
    N(0, sigma^2 I): sum over d of log((Phi((hi_d - x_d) / sigma) - Phi((lo_d - x_d) / sigma)) / (hi_d - lo_d))."""
    x = x.double()
    lo, hi = lo.double().to(x.device).expand_as(x), hi.double().to(x.device).expand_as(x)
    mass = _log_normal_mass((lo - x) / sigma, (hi - x) / sigma)
    return (mass - torch.log(hi - lo)).sum(dim=1)


def cell_box(klass: int | None, rows: int, cols: int, half_width: float) -> tuple[Tensor, Tensor]:
    """The corners (lo, hi), each (2,), of class `klass`'s grid cell, or of the whole square when klass is None."""
    if klass is None:
        return torch.full((2,), -half_width, dtype=torch.float64), torch.full((2,), half_width, dtype=torch.float64)
    row, col = divmod(int(klass), cols)
    width, height = 2 * half_width / cols, 2 * half_width / rows
    lo = torch.tensor([-half_width + col * width, -half_width + row * height], dtype=torch.float64)
    return lo, lo + torch.tensor([width, height], dtype=torch.float64)
