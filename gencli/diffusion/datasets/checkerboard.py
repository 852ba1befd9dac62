"""A checkerboard: points uniform on the dark cells of a board of unit cells (FFJORD's and flow matching's toy set)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from gencli.diffusion.datasets.base import Dataset, Region
from gencli.diffusion.datasets.square import smoothed_box_log_density


class Checkerboard(Dataset):
    """An n x n board of unit cells centred at 0; the dark cells (row + col even) hold the points, each class one
    cell."""

    name = "checkerboard"
    bounded = True
    has_density = True
    region = Region("cell", "cells")
    support = "the dark cells"

    def __init__(self, size: int = 4):
        self.size = size
        half = size / 2
        cells = [(r, c) for r in range(size) for c in range(size) if (r + c) % 2 == 0]
        self.lo = torch.tensor([[c - half, r - half] for r, c in cells], dtype=torch.float64)  # (K, 2) corners
        self.n_classes = len(cells)
        self.title = f"uniform on the {self.n_classes} dark cells of a {size}x{size} checkerboard of unit cells"

    def draw(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        labels = torch.randint(self.n_classes, (n,), generator=generator)
        x = self.lo[labels].float() + torch.rand((n, 2), generator=generator)
        return x, labels

    def classify(self, x: Tensor) -> Tensor:
        half = self.size / 2
        col, row = torch.floor(x[:, 0].double() + half).long(), torch.floor(x[:, 1].double() + half).long()
        on_board = (col >= 0) & (col < self.size) & (row >= 0) & (row < self.size) & ((row + col) % 2 == 0)
        index = torch.full((self.size, self.size), -1, dtype=torch.long)
        for k, (c, r) in enumerate((self.lo + half).long().tolist()):
            index[r, c] = k
        return torch.where(on_board, index[row.clamp(0, self.size - 1), col.clamp(0, self.size - 1)], -1)

    def log_density(self, x: Tensor, klass: int | None = None) -> Tensor:
        cls = self.classify(x)
        mine = cls >= 0 if klass is None else cls == klass
        value = -math.log(self.n_classes) if klass is None else 0.0  # each cell has area 1
        return torch.where(
            mine, torch.tensor(value, dtype=torch.float64), torch.tensor(float("-inf"), dtype=torch.float64)
        )

    def smoothed_log_density(self, x: Tensor, sigma: float, klass: int | None = None) -> Tensor:
        cells = range(self.n_classes) if klass is None else [klass]
        per = torch.stack([smoothed_box_log_density(x, self.lo[k], self.lo[k] + 1, sigma) for k in cells], dim=1)
        return torch.logsumexp(per, dim=1) - math.log(len(cells))

    def inside(self, x: Tensor, log_p: Tensor | None = None) -> Tensor:
        return self.classify(x) >= 0

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        half = self.size / 2
        return np.full(2, -half), np.full(2, half)

    def outline(self) -> list[np.ndarray]:
        return [np.array([[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]) for x, y in self.lo.tolist()]
