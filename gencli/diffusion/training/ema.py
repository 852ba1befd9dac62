"""The moving average of the denoiser's weights that sampling uses (Polyak averaging, as an EMA)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class ParameterEMA:
    """ema <- ema + a (params - ema) after each step, from the initial parameters: one foreach lerp over the
    parameter list (torch's AveragedModel does the same arithmetic with ten times the overhead per step, which a
    denoiser of 3 ms a step feels). `module` holds the averaged weights (buffers as the model had them)."""

    def __init__(self, model: nn.Module, rate: float):
        self.module = copy.deepcopy(model)
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.weight = 1.0 - (1.0 - rate)  # as AveragedModel's EMA computes it from its decay, bit for bit
        self._average = list(self.module.parameters())  # the Parameters themselves: a replaced .data is seen
        self._current = list(model.parameters())

    @torch.no_grad()
    def update(self) -> None:
        """One step of the average toward the model's current parameters."""
        torch._foreach_lerp_(self._average, self._current, self.weight)
