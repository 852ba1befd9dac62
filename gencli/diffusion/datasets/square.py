"""The course exercise's set: points uniform in the square [-h, h]^2 (h = 1), classes the cells of a grid.

Class = cols * row + col, col counting cells from the left (x) and row from the bottom (y), both from 0.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from gencli.diffusion.datasets.base import Dataset, Region

# C6's points for the square of half-width 1: three inside, three outside (scaled by the half-width)
QUERIES = ((0.0, 0.0), (0.5, -0.5), (-0.9, 0.9), (1.3, 0.0), (2.0, 2.0), (-3.0, 1.0))


def square_points(n: int, half_width: float, generator: torch.Generator) -> Tensor:
    """n points uniform in [-half_width, half_width]^2, shape (n, 2)."""
    return (torch.rand((n, 2), generator=generator) * 2 - 1) * half_width


def grid_labels(x: Tensor, rows: int, cols: int, half_width: float) -> Tensor:
    """Class of each point: cols * row + col of its grid cell; -1 outside the square."""
    u = (x + half_width) / (2 * half_width)  # (N, 2) in [0, 1] inside
    col = torch.floor(u[:, 0] * cols).long().clamp(0, cols - 1)
    row = torch.floor(u[:, 1] * rows).long().clamp(0, rows - 1)
    inside = (x.abs() <= half_width).all(dim=1)
    return torch.where(inside, row * cols + col, torch.full_like(col, -1))


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


def box_log_density(x: Tensor, lo: Tensor, hi: Tensor) -> Tensor:
    """log density (N,) of the uniform distribution on the box [lo, hi]: -log(area) inside, -inf outside."""
    x = x.double()
    inside = ((x >= lo.double()) & (x <= hi.double())).all(dim=1)
    value = -torch.log(hi.double() - lo.double()).sum()
    return torch.where(inside, value, torch.tensor(float("-inf"), dtype=torch.float64))


def cell_box(klass: int | None, rows: int, cols: int, half_width: float) -> tuple[Tensor, Tensor]:
    """The corners (lo, hi), each (2,), of class `klass`'s grid cell, or of the whole square when klass is None."""
    if klass is None:
        return torch.full((2,), -half_width, dtype=torch.float64), torch.full((2,), half_width, dtype=torch.float64)
    row, col = divmod(int(klass), cols)
    width, height = 2 * half_width / cols, 2 * half_width / rows
    lo = torch.tensor([-half_width + col * width, -half_width + row * height], dtype=torch.float64)
    return lo, lo + torch.tensor([width, height], dtype=torch.float64)


class Square(Dataset):
    """Uniform points in [-h, h]^2; classes: the cells of a rows x cols grid."""

    name = "square"
    bounded = True
    has_density = True
    region = Region("cell", "cells")
    support = "the square"

    def __init__(self, half_width: float = 1.0, rows: int = 3, cols: int = 3):
        self.h, self.rows, self.cols = float(half_width), int(rows), int(cols)
        self.n_classes = self.rows * self.cols
        self.title = f"uniform in the square [-{self.h:g}, {self.h:g}]^2"

    def draw(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        x = square_points(n, self.h, generator)
        return x, grid_labels(x, self.rows, self.cols, self.h)

    def classify(self, x: Tensor) -> Tensor:
        return grid_labels(x, self.rows, self.cols, self.h)

    def box(self, klass: int | None = None) -> tuple[Tensor, Tensor]:
        return cell_box(klass, self.rows, self.cols, self.h)

    def log_density(self, x: Tensor, klass: int | None = None) -> Tensor:
        return box_log_density(x, *self.box(klass))

    def smoothed_log_density(self, x: Tensor, sigma: float, klass: int | None = None) -> Tensor:
        return smoothed_box_log_density(x, *self.box(klass), sigma)

    def inside(self, x: Tensor, log_p: Tensor | None = None) -> Tensor:
        return (x.abs() <= self.h).all(dim=1)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.full(2, -self.h), np.full(2, self.h)

    def view(self) -> tuple[float, float, float, float]:
        r = 2.5 * self.h
        return -r, r, -r, r

    def outline(self) -> list[np.ndarray]:
        h = self.h
        return [np.array([[-h, -h], [h, -h], [h, h], [-h, h], [-h, -h]])]

    def class_boundaries(self) -> list[np.ndarray]:
        h = self.h
        lines = [
            np.array([[-h, -h + 2 * h * r / self.rows], [h, -h + 2 * h * r / self.rows]]) for r in range(1, self.rows)
        ]
        lines += [
            np.array([[-h + 2 * h * c / self.cols, -h], [-h + 2 * h * c / self.cols, h]]) for c in range(1, self.cols)
        ]
        return lines

    def query_points(self) -> list[tuple[float, float]]:
        return [(x * self.h, y * self.h) for x, y in QUERIES]

    def default_class(self) -> int:
        return (self.rows // 2) * self.cols + self.cols // 2

    def region_box(self, klass: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.box(klass)
        return lo.numpy(), hi.numpy()

    def region_shares(self, klass: int, bins: int) -> np.ndarray:
        return np.full(bins * bins, 1.0 / bins**2)  # uniform in its cell

    def log_area(self) -> float:
        return math.log((2 * self.h) ** 2)

    def describe(self, n: int) -> str:
        return (
            f"{n:,} points uniform in the square [-{self.h:g}, {self.h:g}]^2; the {self.rows}x{self.cols} grid gives "
            f"{self.n_classes} classes (class = {self.cols} * row + col)"
        )
