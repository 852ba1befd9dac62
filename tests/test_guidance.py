"""Classifier-free guidance against the closed form for Gaussian class-conditionals, and the null-class training."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from gencli.core.config import resolve
from gencli.core.errors import GencliError
from gencli.diffusion.config import DiffusionConfig
from gencli.diffusion.datasets.square import Square
from gencli.diffusion.model.denoiser import Denoiser
from gencli.diffusion.model.guidance import GuidedDenoiser
from gencli.diffusion.process.sde import VESDE
from gencli.diffusion.quality.regions import within_region_tv
from gencli.diffusion.sampling.grids import uniform_grid
from gencli.diffusion.sampling.samplers import sample
from gencli.diffusion.training.trainer import denoising_loss

SDE = VESDE()
MEANS = torch.tensor([[-0.6, 0.2], [0.5, -0.4]])
S_CLASS, S_ALL = 0.3, 0.8  # class c: N(MEANS[c], S_CLASS^2 I); the null class: N(0, S_ALL^2 I)


class TwoGaussians(nn.Module):
    """The exact eps-predictor eps = sigma (x - m) / (s^2 + sigma^2) for each class, and for the null class (index
    2)."""

    n_classes, null_index = 2, 2

    def __init__(self):
        super().__init__()
        self.register_buffer("data_mean", torch.cat([MEANS, torch.zeros(1, 2)]))
        self.register_buffer("data_var", torch.tensor([[S_CLASS**2] * 2, [S_CLASS**2] * 2, [S_ALL**2] * 2]))

    def forward(self, x, t, labels):
        t = torch.as_tensor(t, dtype=x.dtype).expand(x.shape[0])
        sigma = SDE.sigma(t)[:, None]
        return sigma * (x - self.data_mean[labels]) / (self.data_var[labels] + sigma**2)


def guided_score(x: torch.Tensor, t: float, c: int, w: float) -> torch.Tensor:
    """(1 + w) grad log p_t(x | c) - w grad log p_t(x) for the Gaussians above, in closed form."""
    s2 = SDE.sigma(torch.tensor(t, dtype=torch.float64)).item() ** 2
    cond = -(x - MEANS[c].double()) / (S_CLASS**2 + s2)
    uncond = -x / (S_ALL**2 + s2)
    return (1 + w) * cond - w * uncond


def test_guided_eps_is_the_closed_form_inside_the_interval_and_conditional_outside():
    model = TwoGaussians()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 2, generator=g)
    labels = torch.tensor([0, 1, 0, 1, 0, 1])
    guided = GuidedDenoiser(model, 2.0, (0.0, 0.4))
    for t in (0.1, 0.3, 0.7):
        sigma = SDE.sigma(t).item()
        eps = guided(x, t, labels).double()
        inside = t <= 0.4
        want = torch.stack(
            [-sigma * guided_score(x[i].double(), t, int(labels[i]), 2.0 if inside else 0.0) for i in range(6)]
        )
        assert torch.allclose(eps, want, atol=1e-5), t
    per_point_t = torch.tensor([0.1, 0.7, 0.3, 0.9, 0.0, 0.45])
    eps = guided(x, per_point_t, labels).double()
    for i in range(6):
        t = per_point_t[i].item()
        w = 2.0 if t <= 0.4 else 0.0
        assert torch.allclose(
            eps[i], -SDE.sigma(t).item() * guided_score(x[i].double(), t, int(labels[i]), w), atol=1e-5
        )


def test_guided_sampling_follows_the_closed_form_flow():
    """The sampler with guidance integrates dz/dt = -sigma' sigma score_guided; RK4 on the closed form is the truth."""
    model = GuidedDenoiser(TwoGaussians(), 1.5, (0.0, 1.0))
    z1 = torch.tensor([[0.9, -0.7], [-0.2, 0.4]])
    labels = torch.tensor([0, 1])
    out = sample(model, z1.clone(), uniform_grid(2000), SDE, "heun", labels)

    def field(z, t, c):
        sig = math.exp(5 * (t - 1))
        return -5 * sig * sig * guided_score(z, t, c, 1.5)

    for i in range(2):
        z, n = z1[i].double(), 4000
        h = -1.0 / n
        for k in range(n):
            t = 1.0 + k * h
            k1 = field(z, t, i)
            k2 = field(z + h / 2 * k1, t + h / 2, i)
            k3 = field(z + h / 2 * k2, t + h / 2, i)
            k4 = field(z + h * k3, t + h, i)
            z = z + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        assert torch.allclose(out[i].double(), z, atol=2e-3), (out[i], z)


def test_guidance_needs_a_null_class():
    cfg = resolve(DiffusionConfig, sets=["model.conditional=true"])
    with pytest.raises(GencliError, match="class_dropout"):
        GuidedDenoiser(Denoiser(cfg.model, cfg.n_classes, null_class=False), 1.0)


def test_class_dropout_trains_the_null_class_and_keeps_the_stream_without_it():
    cfg = resolve(DiffusionConfig, sets=["model.conditional=true", "model.hidden=8"])
    model = Denoiser(cfg.model, 9, null_class=True)
    assert model.class_embed.num_embeddings == 10 and model.null_index == 9
    x0 = torch.rand(4000, 2) * 2 - 1
    labels = torch.arange(4000) % 9
    seen = []
    real_forward = model.forward

    def spy(x, t, lab):
        seen.append(lab.clone())
        return real_forward(x, t, lab)

    model.forward = spy
    denoising_loss(model, x0, labels, SDE, torch.Generator().manual_seed(0), class_dropout=0.25)
    frac = (seen[-1] == 9).float().mean().item()
    assert abs(frac - 0.25) < 0.03 and torch.equal(seen[-1][seen[-1] != 9], labels[seen[-1] != 9])
    a = denoising_loss(model, x0, labels, SDE, torch.Generator().manual_seed(1), class_dropout=0.0)
    b = denoising_loss(model, x0, labels, SDE, torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and torch.equal(seen[-1], labels)


def test_within_region_tv_is_zero_for_an_even_fill_and_large_for_a_collapse():
    u = (torch.arange(16, dtype=torch.float64) + 0.5) / 16
    grid = torch.stack(torch.meshgrid(u, u, indexing="xy"), dim=-1).reshape(-1, 2)  # even in [0, 1]^2
    cells, labels = [], []
    for c in range(9):
        row, col = divmod(c, 3)
        cells.append(torch.stack([-1 + (col + grid[:, 0]) * 2 / 3, -1 + (row + grid[:, 1]) * 2 / 3], dim=1))
        labels.append(torch.full((len(grid),), c))
    x, lab = torch.cat(cells).float(), torch.cat(labels)
    assert np.allclose(within_region_tv(x, lab, Square(), 9), 0.0, atol=1e-9)
    centres = torch.stack([torch.tensor([-1 + (c % 3 + 0.5) * 2 / 3, -1 + (c // 3 + 0.5) * 2 / 3]) for c in range(9)])
    collapsed = centres[lab] + 0.001 * torch.randn(len(lab), 2, generator=torch.Generator().manual_seed(0))
    assert min(within_region_tv(collapsed, lab, Square(), 9)) > 0.7
