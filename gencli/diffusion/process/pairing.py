"""Minibatch optimal-transport pairing of source draws with data points (Tong et al. 2023; Pooladian et al. 2023).

Within a batch, the source draws are permuted so that the total squared distance sum_i ||x0_pi(i) - x1_i||^2 is the
least any permutation gives: an exact assignment (scipy's `linear_sum_assignment`, the Jonker-Volgenant algorithm).
With class labels the assignment runs within each class (C2OT, arXiv 2503.10636): a source draw is only ever paired
with a point of the class it is trained for, which keeps the conditional paths straight.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def assignment(x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    """The permutation p (n,) minimising sum_i ||x0[p[i]] - x1[i]||^2, for x0 and x1 of shape (n, 2)."""
    from scipy.optimize import linear_sum_assignment  # scipy loads with the first flow-ot batch

    cost = ((x1[:, None, :] - x0[None, :, :]) ** 2).sum(-1)  # cost[i, j]: data i with source j
    rows, cols = linear_sum_assignment(cost)
    out = np.empty(len(x1), dtype=np.int64)
    out[rows] = cols
    return out


def ot_pairs(x0: Tensor, x1: Tensor, labels: Tensor | None = None) -> Tensor:
    """x0 (n, 2) reordered so that row i is the source partner of data point x1[i]: the exact minimum-cost
    assignment over the batch, or within each class of `labels` (n,)."""
    a = x0.detach().double().cpu().numpy()
    b = x1.detach().double().cpu().numpy()
    if labels is None:
        return x0[torch.from_numpy(assignment(a, b)).to(x0.device)]
    order = np.empty(len(b), dtype=np.int64)
    lab = labels.cpu().numpy()
    for c in np.unique(lab):
        rows = np.flatnonzero(lab == c)
        order[rows] = rows[assignment(a[rows], b[rows])]
    return x0[torch.from_numpy(order).to(x0.device)]


def pairing_cost(x0: Tensor, x1: Tensor) -> float:
    """sum_i ||x0_i - x1_i||^2: what the pairing minimises."""
    return float(((x0.double() - x1.double()) ** 2).sum())
