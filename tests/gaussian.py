"""An exact denoiser for Gaussian data N(m, s^2 I): the independent truth for sampler and bound tests."""

import math

import torch
from torch import nn

from gencli.diffusion.process.sde import VESDE


class GaussianDenoiser(nn.Module):
    """eps_hat = sigma (x - m) / (s^2 + sigma^2): the optimal eps-predictor for N(m, s^2 I) data.

    From x_t ~ N(m, (s^2 + sigma^2) I): score = -(x - m) / (s^2 + sigma^2) and eps_hat = -sigma score.
    """

    def __init__(self, m, s: float, sde: VESDE):
        super().__init__()
        self.n_classes = 0
        self.m = torch.as_tensor(m, dtype=torch.float32)
        self.s, self.sde = s, sde
        self.register_buffer("data_mean", self.m.reshape(1, 2).clone())
        self.register_buffer("data_var", torch.full((1, 2), s**2))

    def forward(self, x, t, labels=None):
        sigma = self.sde.sigma(torch.as_tensor(t, dtype=x.dtype))
        sigma = sigma[:, None] if sigma.dim() == 1 else sigma
        return sigma * (x - self.m) / (self.s**2 + sigma**2)


def gaussian_log_prob(x, m, s: float):
    """log N(x; m, s^2 I) in 2D."""
    d = x.shape[1]
    return -0.5 * (((x - torch.as_tensor(m)) / s) ** 2).sum(1) - d * math.log(s) - 0.5 * d * math.log(2 * math.pi)
