"""Diffusion speed and quality: training vs a plain PyTorch loop, sampling time, sample quality.

Run: .venv/bin/python bench/diffusion_bench.py   (2 torch threads, CPU; prints a table)
"""

import copy
import time

import torch
from torch import nn

from gencli.diffusion.config import DiffusionConfig
from gencli.diffusion.model import Denoiser
from gencli.diffusion.quality import inside_fraction, own_region_fractions, tv_from_uniform
from gencli.diffusion.sampling import balanced_labels, sample_points
from gencli.diffusion.train import DiffusionTrainer

torch.set_num_threads(2)


def plain_loop(epochs: int) -> float:
    """The exercise written plainly: 3-layer MLP on (x_t, t), Adam, full batch."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 128), nn.LeakyReLU(), nn.Linear(128, 128), nn.LeakyReLU(), nn.Linear(128, 2))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x0 = torch.rand(3000, 2) * 2 - 1
    t0 = time.perf_counter()
    for _ in range(epochs):
        t = torch.rand(3000)
        eps = torch.randn(3000, 2)
        xt = x0 + torch.exp(5 * (t - 1))[:, None] * eps
        loss = ((net(torch.cat([xt, t[:, None]], 1)) - eps) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


def trained(cfg):
    tr = DiffusionTrainer(cfg)
    tr.run(cfg.train.epochs)
    m = Denoiser(cfg.model, cfg.n_classes)
    m.load_state_dict(tr.sampling_weights())
    return tr, m


def main() -> None:
    rows = []
    plain = plain_loop(3000)
    cfg = DiffusionConfig()
    tr, m = trained(cfg)
    rows.append(("train 3000 epochs: plain loop / gencli (s)", f"{plain:.2f} / {tr.wall_s:.2f}  (ratio {tr.wall_s / plain:.2f})"))
    sample_points(m, 1000, tr.sde, 10)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        sample_points(m, 1000, tr.sde, 1000)
        times.append(time.perf_counter() - t0)
    rows.append(("sample 1000 points x 1000 steps, best / median of 5 (s)", f"{min(times):.3f} / {sorted(times)[2]:.3f}"))
    for start in ("matched", "standard"):
        x = sample_points(m, 10000, tr.sde, 1000, start=start, seed=1)
        rows.append((f"default model, {start} start: inside / TV (10k)", f"{inside_fraction(x):.4f} / {tv_from_uniform(x):.4f}"))
    ex = copy.deepcopy(cfg)
    ex.train.lr, ex.train.ema = 1e-3, 0.0
    tr_ex, m_ex = trained(ex)
    x = sample_points(m_ex, 10000, tr_ex.sde, 1000, start="standard", seed=1)
    rows.append(("exercise exactly (lr 1e-3, no EMA, N(0,I)): inside / TV", f"{inside_fraction(x):.4f} / {tv_from_uniform(x):.4f}"))
    x = sample_points(m_ex, 10000, tr_ex.sde, 1000, start="matched", seed=1)
    rows.append(("exercise model, matched start: inside / TV", f"{inside_fraction(x):.4f} / {tv_from_uniform(x):.4f}"))
    labels = balanced_labels(10000, 9)
    for epochs in (3000, 6000):  # 6000: configs/diffusion-cond.yaml
        cc = copy.deepcopy(cfg)
        cc.model.conditional, cc.train.epochs = True, epochs
        tr_c, m_c = trained(cc)
        x = sample_points(m_c, 10000, tr_c.sde, 1000, seed=1, labels=labels)
        own = own_region_fractions(x, labels, 3, 3)
        rows.append((f"conditional, {epochs} epochs: own-region mean / worst", f"{sum(own) / 9:.4f} / {min(own):.4f}"))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  value\n{'-' * width}  -----")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
