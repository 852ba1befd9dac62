"""What every 2D distribution knows of itself, and the defaults a set without closed forms falls back on.

A `Dataset` draws points (and labels) from a seeded generator; where it can, it knows the class of a point
(its region), its exact log-density (per class too), that density smoothed by a small Gaussian (what a model
whose path ends at sigma_min can reach), its support, an outline for the figures and its bounding box. The
trainer, the quality measures, the analyses, the findings and the figures all ask it; none assumes a square.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from gencli.diffusion.results.common import DataView

REFERENCE_SEED = 7919  # fresh data for quality measures: a stream apart from any training seed
FLOOR_SEEDS = 8  # pairs of fresh draws averaged for a noise floor


@dataclass(frozen=True)
class Region:
    """The points of one class, as a figure names them."""

    name: str  # "cell", "component", "moon", ... ("region" when nothing better is known)
    plural: str


class Dataset:
    """A 2D distribution. Subclasses implement `draw` and whatever closed forms they have."""

    name: str = "dataset"
    title: str = "a 2D point set"  # as a sentence names it: "uniform points in the square [-1, 1]^2"
    n_classes: int = 0  # classes of its labelled draws (0: unlabelled)
    region: Region = Region("region", "regions")
    bounded: bool = False  # the support is a bounded set whose inside is known exactly (`inside`)
    support: str = "the data's bulk"  # where points count as inside, as a sentence names it
    has_density: bool = False  # `log_density` is known (in closed form or by exact quadrature)

    def data_view(self) -> DataView:
        """How the set looks in a figure and reads in a sentence (what results carry instead of the set)."""
        return DataView(
            name=self.name,
            title=self.title,
            limits=tuple(float(v) for v in self.view()),
            outline=tuple(self.outline()),
            boundaries=tuple(self.class_boundaries()),
            support=self.support,
            region=self.region.name,
            own_rule=self.own_rule,
            bounded=self.bounded,
        )

    # ---------------------------------------------------------------- drawing

    def draw(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor | None]:
        """n points (n, 2) and their classes (n,) (None when the set has none)."""
        raise NotImplementedError

    def training_points(self, n: int, seed: int) -> tuple[Tensor, Tensor | None]:
        """The points a model trains on: n draws with `seed` (a file's own training part, whatever n)."""
        return self.draw(n, torch.Generator().manual_seed(seed))

    def reference_points(self, n: int, seed: int = 0) -> tuple[Tensor, Tensor | None]:
        """Fresh data no model trained on, to measure samples against (a file's held-out part)."""
        return self.draw(n, torch.Generator().manual_seed(REFERENCE_SEED + seed))

    def floor_pairs(self, n: int, m: int, repeats: int = FLOOR_SEEDS):
        """Pairs (a, b) of n and m points drawn independently from the data, for the noise floor of a statistic
        that compares n samples with m reference points (a file: training points against its held-out part)."""
        for r in range(repeats):
            gen = torch.Generator().manual_seed(REFERENCE_SEED + 1000 + r)
            yield self.draw(n, gen)[0], self.draw(m, gen)[0]

    # ---------------------------------------------------------------- what it knows of itself

    def classify(self, x: Tensor) -> Tensor | None:
        """The class (region) of each point (N,), -1 where no class owns it; None when the set cannot say."""
        return None

    def log_density(self, x: Tensor, klass: int | None = None) -> Tensor | None:
        """log p(x) (or log p(x | c)) in nats (N,), float64, -inf off the support; None when unknown."""
        return None

    def smoothed_log_density(self, x: Tensor, sigma: float, klass: int | None = None) -> Tensor | None:
        """log of the density convolved with N(0, sigma^2 I): what a model whose path ends at sigma can reach."""
        return None

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """A box (lo, hi) holding (nearly) all of the mass."""
        x, _ = self.reference_points(4000)
        return _padded_box(x.numpy())

    def inside(self, x: Tensor, log_p: Tensor | None = None) -> Tensor:
        """True where a point lies in the data's support: exactly for a bounded set, else where the density is at
        least its 0.5th percentile over the data (or, without a density, within the data's 5-NN radius). `log_p`:
        the points' log density where the caller has it already."""
        level = self._inside_level
        if level is not None:
            return (self.log_density(x) if log_p is None else log_p) >= level
        return within_knn_radius(x, self.reference_points(4000)[0])

    @functools.cached_property
    def _inside_level(self) -> Tensor | None:
        """The 0.5th percentile of log p over 4000 fresh points (None without a density): computed once per set,
        since every quality measure asks `inside` again (a set is not changed after it is made)."""
        known = self.log_density(self.reference_points(4000)[0])
        return None if known is None else torch.quantile(known, 0.005)

    def outline(self) -> list[np.ndarray]:
        """Polylines (K, 2) that draw the support (empty: nothing to draw)."""
        return []

    def class_boundaries(self) -> list[np.ndarray]:
        """Polylines that draw the boundaries between its classes' regions (empty: none to draw)."""
        return []

    def view(self) -> tuple[float, float, float, float]:
        """Axis limits (x0, x1, y0, y1) that show the set with room around it: a square view about its centre."""
        lo, hi = self.bounds()
        centre, half = (lo + hi) / 2, float(np.max(hi - lo)) / 2
        r = 1.35 * half
        return centre[0] - r, centre[0] + r, centre[1] - r, centre[1] + r

    def scale(self) -> float:
        """The half-size of the set's box (its largest): distances in texts and targets are measured in it."""
        lo, hi = self.bounds()
        return float(np.max(hi - lo)) / 2

    def centre(self) -> np.ndarray:
        lo, hi = self.bounds()
        return (lo + hi) / 2

    # ---------------------------------------------------------------- the course's points

    def forward_start(self) -> tuple[float, float]:
        """U1's point: outside the data, beyond a corner of its box (for the square of half-width 1, (1.5, -1.25))."""
        lo, hi = self.bounds()
        w = hi - lo
        return float(hi[0] + 0.25 * w[0]), float(lo[1] - 0.125 * w[1])

    def far_target(self) -> tuple[float, float]:
        """The bonus's target: far outside the data, (4, 5.5) times the half-size from the centre (the square: (4,
        5.5))."""
        c, h = self.centre(), self.scale()
        return float(c[0] + 4.0 * h), float(c[1] + 5.5 * h)

    def query_points(self) -> list[tuple[float, float]]:
        """C6's points: some inside the data (its densest points, spread out), some outside (a hole in it when there is
        one, beyond its box, and far away)."""
        ref, _ = self.reference_points(2000)
        pts = ref.double()
        density = self.log_density(pts)
        if density is None:  # the points with the most neighbours within a 5-NN radius stand in for the densest
            density = -torch.cdist(pts, pts).topk(6, largest=False).values[:, -1]
        order = torch.argsort(density, descending=True)
        chosen: list[Tensor] = []
        spacing = 0.5 * self.scale()
        for i in order.tolist():
            if all((pts[i] - c).norm() > spacing for c in chosen):
                chosen.append(pts[i])
            if len(chosen) == 3:
                break
        inside = [(round(float(p[0]), 3), round(float(p[1]), 3)) for p in chosen]
        lo, hi = self.bounds()
        w = hi - lo
        outside = [
            _hole(ref),
            (float(hi[0] + 0.15 * w[0]), float((lo[1] + hi[1]) / 2)),
            (float(hi[0] + 0.5 * w[0]), float(hi[1] + 0.5 * w[1])),
        ]
        return inside + [(round(x, 3), round(y, 3)) for x, y in outside]

    def labelled_points(self) -> tuple[Tensor, Tensor | None]:
        """Labelled points to look a sample's nearest neighbour up in, when `classify` cannot say."""
        return self.reference_points(10000, 1)

    @property
    def own_rule(self) -> str:
        """How samples are judged to belong to their class, as a finding says it ("... of the samples land ...")."""
        return f"land in their own {self.region.name}"

    def region_box(self, klass: int) -> tuple[np.ndarray, np.ndarray]:
        """The box of class `klass`'s points (its region's extent)."""
        x, labels = self.reference_points(4000, 2)
        return _padded_box(x[labels == klass].numpy(), 0.0)

    def region_shares(self, klass: int, bins: int) -> np.ndarray:
        """The shares of class `klass`'s points in each cell of a bins x bins grid over its box (from a fresh draw)."""
        from gencli.diffusion.quality.histogram import histogram

        x, labels = self.reference_points(20000, 3)
        lo, hi = self.region_box(klass)
        return histogram(x[labels == klass], lo, hi, bins)[:-1]

    def of_class(self, klass: int) -> Dataset:
        """The set restricted to class `klass`: what one class's samples are measured against."""
        return ClassSubset(self, klass)

    def default_class(self) -> int:
        """The class shown when one is shown alone (C6's density grid)."""
        return 0

    def class_weights(self) -> np.ndarray:
        """The share of the data in each class (the built-in sets: equal)."""
        return np.full(self.n_classes, 1.0 / self.n_classes) if self.n_classes else np.zeros(0)

    def describe(self, n: int) -> str:
        """One sentence for C1: what n training points of this set are."""
        classes = f"; {self.n_classes} classes, one per {self.region.name}" if self.n_classes else ""
        return f"{n:,} points: {self.title}{classes}."


def _padded_box(x: np.ndarray, pad: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = x.min(axis=0), x.max(axis=0)
    w = np.maximum(hi - lo, 1e-9)
    return lo - pad * w, hi + pad * w


def within_knn_radius(x: Tensor, data: Tensor, k: int = 5) -> Tensor:
    """True for each point of x within the k-NN radius of some data point (the data's manifold estimate of
    Kynkaanniemi et al. 2019)."""
    from gencli.diffusion.quality.knn import knn_radii

    radii = knn_radii(data.double(), k)
    d = torch.cdist(x.double(), data.double())
    return (d <= radii[None, :]).any(dim=1)


def _hole(ref: Tensor) -> tuple[float, float]:
    """The point of the data's box farthest from every data point: a hole in the set, or a corner of its box."""
    lo, hi = _padded_box(ref.numpy(), 0.0)
    axis_x, axis_y = torch.linspace(float(lo[0]), float(hi[0]), 41), torch.linspace(float(lo[1]), float(hi[1]), 41)
    gx, gy = torch.meshgrid(axis_x, axis_y, indexing="xy")
    grid = torch.stack([gx.flatten(), gy.flatten()], 1).double()
    far = torch.cdist(grid, ref.double()).min(dim=1).values
    p = grid[int(torch.argmax(far))]
    return float(p[0]), float(p[1])


def gaussian_log_density(x: Tensor, mean: Tensor, var: float) -> Tensor:
    """log N(x; mean, var I) (N, K) for points x (N, 2) and means (K, 2), float64."""
    d2 = torch.cdist(x.double(), mean.double()) ** 2
    return -0.5 * d2 / var - math.log(2 * math.pi * var)


class ClassSubset(Dataset):
    """One class of a labelled set: its draws are the parent's points of that class, its density p(x | c)."""

    def __init__(self, parent: Dataset, klass: int):
        self.parent, self.klass = parent, int(klass)
        self.name = f"{parent.name}, class {klass}"
        self.title = f"class {klass} ({parent.region.name} {klass}) of {parent.title}"
        self.support = f"{parent.region.name} {klass}"
        self.region, self.bounded, self.has_density = parent.region, parent.bounded, parent.has_density

    def draw(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        parts, have = [], 0
        for _ in range(10000):
            x, labels = self.parent.draw(max(4 * n, 64), generator)
            mine = x[labels == self.klass][: n - have]
            parts.append(mine)
            have += len(mine)
            if have >= n:
                break
        x = torch.cat(parts)
        return x, torch.full((len(x),), self.klass, dtype=torch.long)

    def log_density(self, x: Tensor, klass: int | None = None) -> Tensor | None:
        return self.parent.log_density(x, self.klass)

    def smoothed_log_density(self, x: Tensor, sigma: float, klass: int | None = None) -> Tensor | None:
        return self.parent.smoothed_log_density(x, sigma, self.klass)

    def classify(self, x: Tensor) -> Tensor | None:
        return self.parent.classify(x)

    def inside(self, x: Tensor, log_p: Tensor | None = None) -> Tensor:
        cls = self.parent.classify(x)
        inside = self.parent.inside(x)  # log_p is this class's density, not the parent's
        return inside & (cls == self.klass) if cls is not None else inside

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.parent.region_box(self.klass)
        return _padded_box(np.stack([lo, hi]))

    def view(self) -> tuple[float, float, float, float]:
        return self.parent.view()

    def outline(self) -> list[np.ndarray]:
        return self.parent.outline()
