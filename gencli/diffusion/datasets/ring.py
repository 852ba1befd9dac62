"""A ring: points on a circle of radius R blurred by N(0, s^2 I); classes: equal angular sectors.

Its density is in closed form: with x = R (cos phi, sin phi) + s eps and phi uniform,
p(x) = exp(-(|x|^2 + R^2) / (2 s^2)) I0(R |x| / s^2) / (2 pi s^2)   (I0: the modified Bessel function).
A sector holds 1/K of the mass (the ring is symmetric), so p(x | c) = K p(x) in sector c.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from gencli.diffusion.datasets.base import Dataset, Region


class Ring(Dataset):
    """A Gaussian-blurred circle; each class one of K equal sectors (by the point's angle)."""

    name = "ring"
    has_density = True
    region = Region("sector", "sectors")
    support = "the ring"

    def __init__(self, radius: float = 1.0, std: float = 0.1, sectors: int = 6):
        self.radius, self.std, self.n_classes = radius, std, sectors
        self.title = f"a ring of radius {radius:g} blurred by a Gaussian of std {std:g}"

    def draw(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        phi = torch.rand(n, generator=generator, dtype=torch.float64) * 2 * math.pi
        x = self.radius * torch.stack([torch.cos(phi), torch.sin(phi)], 1) + self.std * torch.randn(
            (n, 2), generator=generator, dtype=torch.float64
        )
        x = x.float()
        return x, self.classify(x)

    def classify(self, x: Tensor) -> Tensor:
        angle = torch.atan2(x[:, 1].double(), x[:, 0].double()) % (2 * math.pi)
        return torch.floor(angle / (2 * math.pi) * self.n_classes).long().clamp(0, self.n_classes - 1)

    def smoothed_log_density(self, x: Tensor, sigma: float, klass: int | None = None) -> Tensor | None:
        var = self.std**2 + sigma**2
        r = x.double().norm(dim=1)
        z = self.radius * r / var
        logp = -(r**2 + self.radius**2) / (2 * var) + torch.log(torch.special.i0e(z)) + z - math.log(2 * math.pi * var)
        if klass is None:
            return logp
        if sigma > 0:
            return None  # the sector's edges smoothed too: no closed form
        return torch.where(
            self.classify(x) == klass, logp + math.log(self.n_classes), torch.tensor(float("-inf"), dtype=torch.float64)
        )

    def log_density(self, x: Tensor, klass: int | None = None) -> Tensor:
        return self.smoothed_log_density(x, 0.0, klass)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        r = self.radius + 3 * self.std
        return np.full(2, -r), np.full(2, r)

    def outline(self) -> list[np.ndarray]:
        a = np.linspace(0, 2 * np.pi, 97)
        return [self.radius * np.stack([np.cos(a), np.sin(a)], axis=1)]

    def class_boundaries(self) -> list[np.ndarray]:
        lines = []
        reach = self.radius + 3 * self.std
        for k in range(self.n_classes):
            b = 2 * np.pi * k / self.n_classes
            lines.append(np.array([[0.0, 0.0], [reach * np.cos(b), reach * np.sin(b)]]))
        return lines
