"""D(x, t) and the trace of its Jacobian for gencli's Denoiser, in float64 numpy, carried forward through its layers.

The probability-flow ODE asks for the divergence hundreds of times on a small batch, where each torch call costs
more in dispatch than in arithmetic. The Denoiser is a chain of linear maps and LeakyReLUs after fixed input
features, so its Jacobian is exact by forward-mode differentiation: carry d h / d x_j (j = 0, 1) beside every
activation h, through W (linear) and the slope on each unit's side of 0 (LeakyReLU); the input features'
derivatives are those of (x - shift) / scale and of sin, cos of its Fourier phases (t and the class do not move
with x). Tested against the autograd divergence (gencli.diffusion.likelihood.exact.divergence).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from gencli.diffusion.model.denoiser import Denoiser


class DenoiserJacobian:
    """A Denoiser's weights as float64 arrays, for `value_and_trace` at any x and t with fixed class labels."""

    def __init__(self, model: Denoiser, labels: Tensor | None):
        self.shift = model.input_shift.detach().double().cpu().numpy()
        self.scale = float(model.input_scale)
        self.freqs = model.fourier_freqs.detach().double().cpu().numpy() if model.fourier else None
        self.layers: list[tuple[np.ndarray, np.ndarray] | float] = []
        for layer in model.net:
            if isinstance(layer, nn.Linear):
                w = layer.weight.detach().double().cpu().numpy()
                self.layers.append((np.ascontiguousarray(w.T), layer.bias.detach().double().cpu().numpy()))
            else:
                self.layers.append(float(layer.negative_slope))
        self.classes = None
        if model.class_embed is not None:
            if labels is None:
                raise ValueError("a conditional denoiser needs class labels")
            with torch.no_grad():
                self.classes = model.class_embed(labels.cpu()).double().numpy()  # (n, class_dim)

    @staticmethod
    def applies(model) -> bool:
        """Whether `model` is a Denoiser made only of the layers this class differentiates."""
        return isinstance(model, Denoiser) and all(isinstance(m, (nn.Linear, nn.LeakyReLU)) for m in model.net)

    def value_and_trace(self, x: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
        """D(x, t) (n, 2) and tr(dD/dx) (n,) for points x (n, 2)."""
        n = len(x)
        xs = (x - self.shift) / self.scale
        parts = [xs, np.full((n, 1), t)]
        tangent_parts = [np.broadcast_to(np.eye(2)[:, None, :] / self.scale, (2, n, 2)), np.zeros((2, n, 1))]
        if self.freqs is not None:
            phase = xs @ self.freqs  # (n, F)
            sin, cos = np.sin(phase), np.cos(phase)
            dphase = (self.freqs / self.scale)[:, None, :]  # (2, 1, F): d phase / d x_j
            parts += [sin, cos]
            tangent_parts += [cos * dphase, -sin * dphase]
        if self.classes is not None:
            parts.append(self.classes)
            tangent_parts.append(np.zeros((2, n, self.classes.shape[1])))
        h = np.concatenate(parts, axis=1)
        tangents = np.concatenate(tangent_parts, axis=2).reshape(2 * n, -1)  # rows: d/dx_0 of each point, then d/dx_1
        for layer in self.layers:
            if isinstance(layer, tuple):
                w, b = layer
                h = h @ w + b
                tangents = tangents @ w
            else:
                slope = np.where(h > 0, 1.0, layer)
                h = h * slope
                tangents = (tangents.reshape(2, n, -1) * slope).reshape(2 * n, -1)
        return h, tangents[:n, 0] + tangents[n:, 1]
