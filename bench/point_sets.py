"""Point sets no built-in has, as CSV files for `--data FILE` and `bench/diffusion_sets.py --csv`: shapes, places
and spreads the built-ins do not cover, so the set recipe is measured on data it was not chosen on.

  star.csv    a filled five-pointed star centred at (3, -2), outer radius 2 (no labels)
  arcs.csv    three concentric half-rings around (-4, 6), radii 0.5, 1 and 1.5, label = ring (0, 1, 2)
  blobs.csv   four anisotropic Gaussian blobs of unequal weight around (10, 10), label = blob

Run: .venv/bin/python bench/point_sets.py OUTDIR [--n 20000] [--seed 0]   (writes OUTDIR/*.csv, prints their paths)
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np


def star(n: int, rng: np.random.Generator) -> tuple[np.ndarray, None]:
    """Uniform on a five-pointed star (inner radius 0.4 of the outer), by rejection from its bounding box."""
    from matplotlib.path import Path as Polygon

    angles = math.pi / 2 + np.arange(10) * math.pi / 5
    radii = np.where(np.arange(10) % 2 == 0, 2.0, 0.8)
    polygon = Polygon(np.stack([3 + radii * np.cos(angles), -2 + radii * np.sin(angles)], 1))
    out = np.empty((0, 2))
    while len(out) < n:
        pts = rng.uniform([1, -4], [5, 0], size=(4 * n, 2))
        out = np.concatenate([out, pts[polygon.contains_points(pts)]])
    return out[:n], None


def arcs(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Three upper half-rings of width 0.15, one label each, equal counts."""
    label = rng.integers(0, 3, n)
    radius = 0.5 * (label + 1) + rng.normal(0, 0.05, n)
    a = rng.random(n) * math.pi
    return np.stack([-4 + radius * np.cos(a), 6 + radius * np.sin(a)], 1), label


def blobs(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Four Gaussians with their own covariance, weights 0.4, 0.3, 0.2, 0.1."""
    means = np.array([[10.0, 10.0], [13.0, 10.5], [11.0, 13.0], [8.0, 12.5]])
    chol = [np.array([[1.0, 0], [0.6, 0.3]]), np.array([[0.4, 0], [0, 1.0]]), np.array([[0.8, 0], [-0.5, 0.2]])]
    chol.append(np.eye(2) * 0.3)
    label = rng.choice(4, n, p=[0.4, 0.3, 0.2, 0.1])
    z = rng.normal(size=(n, 2))
    pts = np.stack([means[k] + chol[k] @ z[i] for i, k in enumerate(label)])
    return pts, label


SHAPES = {"star": star, "arcs": arcs, "blobs": blobs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for i, (name, draw) in enumerate(SHAPES.items()):
        pts, label = draw(args.n, np.random.default_rng(args.seed + i))
        path = args.out / f"{name}.csv"
        with path.open("w") as f:
            f.write("x,y" + (",label" if label is not None else "") + "\n")
            for j, (x, y) in enumerate(pts):
                f.write(f"{x:.6f},{y:.6f}" + (f",{label[j]}" if label is not None else "") + "\n")
        print(path)


if __name__ == "__main__":
    main()
