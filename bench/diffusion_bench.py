"""Diffusion speed and quality: training vs a plain PyTorch loop, sampling time, sample quality.

Everything but the plain loop goes through the library (gencli.diffusion.training.fit and .analyses),
so the numbers are the ones `gencli diffusion sample` and `gencli report` print.
Run: .venv/bin/python bench/diffusion_bench.py   (2 torch threads, CPU; prints a table)
"""

import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from gencli.core.config import ConfigSources
from gencli.diffusion import analyses
from gencli.diffusion.model.store import load_trained
from gencli.diffusion.training.fit import fit, prepare

torch.set_num_threads(2)


def plain_loop(epochs: int, width: int = 64) -> float:
    """The exercise written plainly: 3-layer MLP on (x_t, t), Adam, full batch; seconds of the loop alone."""
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Linear(3, width), nn.LeakyReLU(), nn.Linear(width, width), nn.LeakyReLU(), nn.Linear(width, 2)
    )
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


def whole_process(root: Path, name: str) -> float:
    """Seconds of a whole `gencli diffusion train` process at the defaults (start, training, figures, saving)."""
    t0 = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).with_name("gencli")), "diffusion", "train", "--ckpt", str(root / name), "--json"],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "OMP_NUM_THREADS": "2"},
    )
    return time.perf_counter() - t0


def trained(root: Path, name: str, sets: list[str]):
    """Train a checkpoint through the library; the loaded model and the training wall time."""
    trainer = prepare(root / name, False, ConfigSources(sets=tuple(sets)))
    fit(trainer, root / name)
    return load_trained(root / name), trainer.wall_s


def quality(model, n=10000, **settings) -> str:
    sc = dataclasses.replace(model.cfg.sample, **settings)
    res = analyses.sample_quality(model, sc, n, seed=1)
    if res.own_region is not None:
        return f"{res.own_mean:.4f} / {res.own_worst[1]:.4f}"
    return f"{res.inside_fraction:.4f} / {res.tv_distance:.4f}"


def main() -> None:
    rows = []
    root = Path(tempfile.mkdtemp(prefix="gencli-bench-"))
    plain, whole = [], []
    for rep in range(2):  # interleaved, so that machine noise hits both alike
        plain.append(plain_loop(3000))
        whole.append(whole_process(root, f"process{rep}"))
    rows.append(
        (
            "train 3000 epochs: plain loop (width 64) / whole gencli process (s)",
            f"{min(plain):.2f} / {min(whole):.2f}  (ratio {min(whole) / min(plain):.2f}, best of 2 each)",
        )
    )
    model, wall = trained(root, "default", [])
    rows.append(("  the same training inside the library, loop only (s)", f"{wall:.2f}"))
    sc = model.cfg.sample
    analyses.sample_quality(model, dataclasses.replace(sc, steps=10), 1000)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        analyses.sample_quality(model, sc, 1000)
        times.append(time.perf_counter() - t0)
    rows.append(
        ("sample 1000 points x 1000 steps, best / median of 5 (s)", f"{min(times):.3f} / {sorted(times)[2]:.3f}")
    )
    for start in ("matched", "standard"):
        rows.append((f"default model, {start} start: inside / TV (10k)", quality(model, start=start)))
    ex, _ = trained(root, "exercise", ["train.lr=1e-3", "train.ema=0"])
    rows.append(("exercise exactly (lr 1e-3, no EMA, N(0,I)): inside / TV", quality(ex, start="standard")))
    rows.append(("exercise model, matched start: inside / TV", quality(ex, start="matched")))
    for epochs in (3000, 6000):  # 6000: configs/diffusion-cond.yaml and the report
        cond, _ = trained(root, f"cond{epochs}", ["model.conditional=true", f"train.epochs={epochs}"])
        rows.append((f"conditional, {epochs} epochs: own-cell mean / worst (9k)", quality(cond, n=9000)))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  value\n{'-' * width}  -----")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
