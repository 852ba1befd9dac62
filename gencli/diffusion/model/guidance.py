"""Classifier-free guidance: a denoiser that mixes the conditional and the null-class prediction.

eps = (1 + w) D(x, t, c) - w D(x, t, null)   (Ho and Salimans 2022, eq. 6 with eps-prediction),
applied only while t lies in [lo, hi] (Kynkaanniemi et al. 2024, "Applying guidance in a limited
interval"); outside the interval the plain conditional prediction D(x, t, c) is used. With
scores, the guided score is (1 + w) grad log p(x_t | c) - w grad log p(x_t).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gencli.core.errors import ParameterError
from gencli.diffusion.model.denoiser import Denoiser


class GuidedDenoiser(nn.Module):
    """Wraps a conditional denoiser with a null class; samplers use it in place of the denoiser."""

    def __init__(self, model: Denoiser, weight: float, interval: tuple[float, float] = (0.0, 1.0)):
        super().__init__()
        if model.null_index is None:
            raise ParameterError(
                "guidance",
                "this checkpoint has no null class; train the conditional model with "
                "train.class_dropout > 0 (e.g. --set train.class_dropout=0.2)",
            )
        self.model, self.weight = model, float(weight)
        self.lo, self.hi = float(interval[0]), float(interval[1])
        self.n_classes, self.null_index = model.n_classes, model.null_index

    @property
    def data_mean(self) -> Tensor:
        return self.model.data_mean

    @property
    def data_var(self) -> Tensor:
        return self.model.data_var

    def forward(self, x: Tensor, t: Tensor | float, labels: Tensor | None = None) -> Tensor:
        """Guided eps_hat (N, 2) for points x (N, 2) at time t (scalar or (N,))."""
        t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
        t = t.expand(x.shape[0]) if t.dim() == 0 else t
        inside = (t >= self.lo) & (t <= self.hi)
        if self.weight == 0 or not bool(inside.any()):
            return self.model(x, t, labels)
        null = torch.full_like(labels, self.null_index)
        both = self.model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, null]))  # one batched call
        cond, uncond = both[: len(x)], both[len(x) :]
        guided = (1 + self.weight) * cond - self.weight * uncond
        return torch.where(inside[:, None], guided, cond)


def guided(model: Denoiser, weight: float, interval) -> nn.Module:
    """The model itself at weight 0, else the guided wrapper."""
    return model if weight == 0 else GuidedDenoiser(model, weight, tuple(interval))
