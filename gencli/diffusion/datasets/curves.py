"""Sets drawn along curves and blurred: two moons, and spiral arms. Each class is one curve.

A point is c_k(u) + s eps with its curve k uniform among the K curves, u uniform on [0, 1] and eps ~ N(0, I). Its
density is p(x) = (1/K) sum_k integral_0^1 N(x; c_k(u), s^2 I) du, computed exactly up to quadrature: the
trapezoid rule on a grid of u whose spacing along every curve is far below s (an error under 1e-6 nats).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from gencli.diffusion.datasets.base import Dataset, Region

QUADRATURE_NODES = 2001  # per curve


class Curves(Dataset):
    """Points along K parametric curves c_k(u), u in [0, 1], blurred by N(0, s^2 I)."""

    has_density = True
    std: float = 0.1

    def curve(self, k: int, u: Tensor) -> Tensor:
        """Points (N, 2) of curve k at parameters u (N,), float64."""
        raise NotImplementedError

    def draw(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        labels = torch.randint(self.n_classes, (n,), generator=generator)
        u = torch.rand(n, generator=generator, dtype=torch.float64)
        centre = torch.empty(n, 2, dtype=torch.float64)
        for k in range(self.n_classes):
            mine = labels == k
            centre[mine] = self.curve(k, u[mine])
        x = centre + self.std * torch.randn((n, 2), generator=generator, dtype=torch.float64)
        return x.float(), labels

    def _per_curve(self, x: Tensor, var: float) -> Tensor:
        """log integral_0^1 N(x; c_k(u), var I) du for each curve k: (N, K). With |x - c|^2 = |x|^2 - 2 x.c + |c|^2
        the exponents of every node are one matrix product (x.c / var + log w - |c|^2 / (2 var)), then one
        logsumexp; in float64 the expansion's cancellation costs about 1e-15 of |x|^2 / var (relative), as cdist's own
        expansion did."""
        u = torch.linspace(0, 1, QUADRATURE_NODES, dtype=torch.float64)
        log_w = torch.full((QUADRATURE_NODES,), -math.log(QUADRATURE_NODES - 1), dtype=torch.float64)
        log_w[0] = log_w[-1] = -math.log(2 * (QUADRATURE_NODES - 1))  # the trapezoid rule
        x = x.double()
        own = (x * x).sum(1) * (-0.5 / var) - math.log(2 * math.pi * var)  # -|x|^2 / (2 var), the normaliser
        out = []
        for k in range(self.n_classes):
            c = self.curve(k, u)  # (Q, 2)
            exponent = torch.addmm(log_w - (0.5 / var) * (c * c).sum(1), x, c.T, alpha=1.0 / var)  # (N, Q)
            out.append(torch.logsumexp(exponent, dim=1) + own)
        return torch.stack(out, dim=1)

    def smoothed_log_density(self, x: Tensor, sigma: float, klass: int | None = None) -> Tensor:
        per = torch.cat([self._per_curve(x[i : i + 4096], self.std**2 + sigma**2) for i in range(0, len(x), 4096)])
        return per[:, klass] if klass is not None else torch.logsumexp(per, dim=1) - math.log(self.n_classes)

    def log_density(self, x: Tensor, klass: int | None = None) -> Tensor:
        return self.smoothed_log_density(x, 0.0, klass)

    def classify(self, x: Tensor) -> Tensor:
        return torch.argmax(
            torch.cat([self._per_curve(x[i : i + 4096], self.std**2) for i in range(0, len(x), 4096)]), 1
        )

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        u = torch.linspace(0, 1, 501, dtype=torch.float64)
        pts = torch.cat([self.curve(k, u) for k in range(self.n_classes)]).numpy()
        return pts.min(axis=0) - 3 * self.std, pts.max(axis=0) + 3 * self.std

    def outline(self) -> list[np.ndarray]:
        u = torch.linspace(0, 1, 201, dtype=torch.float64)
        return [self.curve(k, u).numpy() for k in range(self.n_classes)]


class Moons(Curves):
    """Two interleaving half circles of radius 1 (scikit-learn's make_moons), centred at the origin."""

    name = "moons"
    region = Region("moon", "moons")
    support = "the moons"
    n_classes = 2

    def __init__(self, std: float = 0.1):
        self.std = std
        self.title = f"two interleaving moons (half circles of radius 1) blurred by a Gaussian of std {std:g}"

    def curve(self, k: int, u: Tensor) -> Tensor:
        a = math.pi * u
        if k == 0:
            pts = torch.stack([torch.cos(a), torch.sin(a)], dim=1)
        else:
            pts = torch.stack([1 - torch.cos(a), 0.5 - torch.sin(a)], dim=1)
        return pts - torch.tensor([0.5, 0.25], dtype=torch.float64)


class Spirals(Curves):
    """Spiral arms r = R a / a_max at angle a + 2 pi k / K, a from a_min to a_max (two arms, 1.25 turns each)."""

    name = "spirals"
    region = Region("arm", "arms")
    support = "the arms"

    def __init__(self, arms: int = 2, radius: float = 1.0, std: float = 0.05, turns: float = 1.25):
        self.n_classes, self.radius, self.std = arms, radius, std
        self.a_min, self.a_max = 0.5 * math.pi, 0.5 * math.pi + 2 * math.pi * turns
        self.title = (
            f"{arms} spiral arms of {turns:g} turns (radius up to {radius:g}) blurred by a Gaussian of std {std:g}"
        )

    def curve(self, k: int, u: Tensor) -> Tensor:
        a = self.a_min + u * (self.a_max - self.a_min)
        r = self.radius * a / self.a_max
        b = a + 2 * math.pi * k / self.n_classes
        return torch.stack([r * torch.cos(b), r * torch.sin(b)], dim=1)
