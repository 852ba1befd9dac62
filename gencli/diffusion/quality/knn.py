"""k-nearest-neighbour precision and recall of samples against data (Kynkaanniemi et al. 2019, "Improved
Precision and Recall Metric for Assessing Generative Models").

Each set's manifold is estimated as the union of balls around its points, each ball's radius the distance to the
point's k-th nearest neighbour in its own set. Precision: the share of samples inside the data's manifold (are
the samples realistic?); recall: the share of data points inside the samples' manifold (is all of the data
covered?).
"""

from __future__ import annotations

import torch
from torch import Tensor

K = 5
CHUNK = 2048


def knn_radii(x: Tensor, k: int = K) -> Tensor:
    """The distance of each point to its k-th nearest other point of the same set (N,) (of a set of k points or
    fewer: to its farthest other point; a single point has radius 0)."""
    x = x.double()
    k = min(k, len(x) - 1)
    if k < 1:
        return torch.zeros(len(x), dtype=torch.float64)
    out = torch.empty(len(x), dtype=torch.float64)
    for a in range(0, len(x), CHUNK):
        d = torch.cdist(x[a : a + CHUNK], x)
        out[a : a + CHUNK] = d.topk(k + 1, largest=False).values[:, -1]  # the point itself is at distance 0
    return out


def covered(x: Tensor, centres: Tensor, radii: Tensor) -> Tensor:
    """True for each point of x inside some ball (centres, radii)."""
    x, centres = x.double(), centres.double()
    out = torch.empty(len(x), dtype=torch.bool)
    for a in range(0, len(x), CHUNK):
        out[a : a + CHUNK] = (torch.cdist(x[a : a + CHUNK], centres) <= radii[None, :]).any(dim=1)
    return out


def precision_recall(samples: Tensor, data: Tensor, k: int = K) -> tuple[float, float]:
    """(precision, recall) of samples against data, the k-NN manifold estimate of each."""
    precision = covered(samples, data, knn_radii(data, k)).double().mean().item()
    recall = covered(data, samples, knn_radii(samples, k)).double().mean().item()
    return precision, recall


def nearest_labels(x: Tensor, points: Tensor, labels: Tensor) -> Tensor:
    """The label of each point's nearest neighbour among labelled points."""
    x, points = x.double(), points.double()
    out = torch.empty(len(x), dtype=torch.long)
    for a in range(0, len(x), CHUNK):
        out[a : a + CHUNK] = labels[torch.cdist(x[a : a + CHUNK], points).argmin(dim=1)]
    return out
