"""A mixture of Gaussians with equal weights and equal spreads on a circle (the "8 gaussians" of FFJORD and
flow matching)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from gencli.diffusion.datasets.base import Dataset, Region, gaussian_log_density


class GaussianMixture(Dataset):
    """K Gaussians N(m_k, s^2 I) at radius r, angles 2 pi k / K; each class one component."""

    name = "gaussians"
    has_density = True
    region = Region("component", "components")
    support = "the Gaussians' bulk"

    def __init__(self, k: int = 8, radius: float = 2.0, std: float = 0.2):
        self.k, self.radius, self.std = k, radius, std
        angles = torch.arange(k, dtype=torch.float64) * 2 * math.pi / k
        self.means = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)  # (K, 2)
        self.n_classes = k
        self.title = f"a mixture of {k} Gaussians (std {std:g}) on a circle of radius {radius:g}"

    def draw(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        labels = torch.randint(self.k, (n,), generator=generator)
        x = self.means[labels].float() + self.std * torch.randn((n, 2), generator=generator)
        return x, labels

    def _components(self, x: Tensor, var: float) -> Tensor:
        return gaussian_log_density(x, self.means, var)  # (N, K)

    def log_density(self, x: Tensor, klass: int | None = None) -> Tensor:
        return self.smoothed_log_density(x, 0.0, klass)

    def smoothed_log_density(self, x: Tensor, sigma: float, klass: int | None = None) -> Tensor:
        per = self._components(x, self.std**2 + sigma**2)
        return per[:, klass] if klass is not None else torch.logsumexp(per, dim=1) - math.log(self.k)

    def classify(self, x: Tensor) -> Tensor:
        return torch.argmax(self._components(x, self.std**2), dim=1)  # the most likely component

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        r = self.radius + 3 * self.std
        return np.full(2, -r), np.full(2, r)

    def outline(self) -> list[np.ndarray]:
        a = np.linspace(0, 2 * np.pi, 49)
        circle = 2 * self.std * np.stack([np.cos(a), np.sin(a)], axis=1)
        return [m + circle for m in self.means.numpy()]
