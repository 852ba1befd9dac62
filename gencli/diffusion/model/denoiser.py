"""The denoiser D(x_t, t[, c]): a small MLP that predicts the noise eps."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from gencli.diffusion.config import ModelConfig

FOURIER_SEED = 1234  # the features' frequencies are drawn once, apart from the weights' generator


def input_width(cfg: ModelConfig, conditional: bool) -> int:
    """What the first layer sees per point: the point (2), t (1), sin and cos of its Fourier features, the class
    embedding."""
    return 3 + 2 * cfg.fourier + (cfg.class_dim if conditional else 0)


def estimated_parameters(m: ModelConfig) -> int:
    """About how many weights a Denoiser of ModelConfig `m` has (its linear layers), computed without building it."""
    inputs = input_width(m, m.conditional)
    return inputs * m.hidden + max(m.n_layers - 2, 0) * m.hidden * (m.hidden + 1) + 3 * m.hidden


class Denoiser(nn.Module):
    """Fully connected eps-predictor with LeakyReLU between layers.

    Input: the noisy point (2), the time t (1), optionally sin and cos of random projections of the point (Fourier
    features, model.fourier of them) and, when conditional, a learned class embedding; the first fully connected
    layer mixes them. With `null_class`, the embedding
    has one more row, index `n_classes`, the "no class" of classifier-free guidance. The data
    moments used by the matched start (mean and variance, per class when conditional, and
    of all the data for the null class) ride along as buffers, and so does the standardisation of the input
    (`input_shift`, `input_scale`: the network sees (x - shift) / scale; the noise schedule is scaled with it).
    """

    def __init__(self, cfg: ModelConfig, n_classes: int = 0, null_class: bool = False):
        super().__init__()
        self.n_classes = n_classes
        self.null_index = n_classes if (n_classes and null_class) else None
        rows = n_classes + (1 if self.null_index is not None else 0)
        self.class_embed = nn.Embedding(rows, cfg.class_dim) if n_classes else None
        self.fourier = cfg.fourier
        dims = [input_width(cfg, bool(n_classes))] + [cfg.hidden] * (cfg.n_layers - 1) + [2]
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(dims) - 2:
                layers.append(nn.LeakyReLU())
        self.net = nn.Sequential(*layers)
        k = max(rows, 1)
        self.register_buffer("data_mean", torch.zeros(k, 2))
        self.register_buffer("data_var", torch.ones(k, 2))
        # standardisation: the network sees (x - shift) / scale (identity for the exercise's square)
        self.register_buffer("input_shift", torch.zeros(2))
        self.register_buffer("input_scale", torch.ones(()))
        if cfg.fourier:  # random Fourier features of the (standardised) point, its own fixed draw (Tancik et al. 2020)
            gen = torch.Generator().manual_seed(FOURIER_SEED)
            freqs = torch.randn((2, cfg.fourier), generator=gen) * (2 * math.pi * cfg.fourier_scale)
            self.register_buffer("fourier_freqs", freqs)

    def forward(self, x: Tensor, t: Tensor | float, labels: Tensor | None = None) -> Tensor:
        """eps_hat of shape (N, 2) for points x (N, 2) at time t (scalar or (N,))."""
        t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
        tcol = t.expand(x.shape[0])[:, None] if t.dim() == 0 else t[:, None]  # (N, 1)
        xs = (x - self.input_shift) / self.input_scale
        parts = [xs, tcol]
        if self.fourier:
            phase = xs @ self.fourier_freqs  # (N, F)
            parts += [torch.sin(phase), torch.cos(phase)]
        if self.class_embed is not None:
            if labels is None:
                raise ValueError("a conditional denoiser needs class labels")
            parts.append(self.class_embed(labels))  # (N, class_dim)
        return self.net(torch.cat(parts, dim=1))
