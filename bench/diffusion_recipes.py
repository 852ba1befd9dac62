"""Which training recipe gives the conditional model its default? Own-cell fraction per recipe, with guidance.

Trains each recipe through the library (no config file, the given --set values), samples
9,000 points (1,000 per class) with the default sampler and prints the own-cell fraction
(mean and worst class), the within-cell evenness, and the same with guidance where the
recipe has a null class. Also the unconditional model at widths 64 and 128 (inside, TV).
`dropout` mode: per (epochs, class dropout), the own-cell fraction, the null class used
unconditionally (inside, TV of 10,000 samples, seeds 1 and 2) and guidance W = 2, 4 in t <= 0.4.
Run: .venv/bin/python bench/diffusion_recipes.py [cond|uncond|guidance|dropout]   (2 torch threads, CPU;
run nothing else meanwhile: two torch processes on 2 cores slow each other several times over)
"""

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from gencli.core.config import ConfigSources
from gencli.diffusion import analyses
from gencli.diffusion.model.store import load_trained
from gencli.diffusion.training.fit import fit, prepare

torch.set_num_threads(2)
ROOT = Path(tempfile.mkdtemp(prefix="gencli-recipes-"))

COND = {
    "3000 epochs, width 128 (old default)": ["train.epochs=3000"],
    "6000 epochs, width 128 (old config file)": ["train.epochs=6000"],
    "3000 epochs, class_dim 32": ["train.epochs=3000", "model.class_dim=32"],
    "3000 epochs, lr 5e-3": ["train.epochs=3000", "train.lr=5e-3"],
    "3000 epochs, 4 layers": ["train.epochs=3000", "model.n_layers=4"],
    "6000 epochs, class dropout 0.15": ["train.epochs=6000", "train.class_dropout=0.15"],
    "8000 epochs, class dropout 0.15": ["train.epochs=8000", "train.class_dropout=0.15"],
}
UNCOND = {"width 128": ["model.hidden=128"], "width 64": ["model.hidden=64"], "width 96": ["model.hidden=96"]}


def train(name: str, sets: list[str]):
    path = ROOT / name.replace(" ", "_").replace(",", "").replace("(", "").replace(")", "")
    trainer = prepare(path, False, ConfigSources(sets=tuple(sets)))
    fit(trainer, path)
    return load_trained(path), trainer.wall_s


def cond_row(name: str, sets: list[str]) -> tuple:
    model, wall = train(name, ["model.conditional=true", *sets])
    res = analyses.sample_quality(model, model.cfg.sample, 9000, seed=1)
    even = analyses.guidance_sweep(model, model.cfg.sample, 9000, 1, [0.0]).rows[0].within_cell_tv
    return name, wall, res.own_mean, res.own_worst[1], even


def main() -> None:
    what = sys.argv[1] if len(sys.argv) > 1 else "cond"
    if what == "cond":
        rows = [cond_row(k, v) for k, v in COND.items()]
        print(f"{'conditional recipe':<42} {'train s':>8} {'own mean':>9} {'own worst':>10} {'within-cell TV':>15}")
        for r in rows:
            print(f"{r[0]:<42} {r[1]:8.1f} {r[2]:9.4f} {r[3]:10.4f} {r[4]:15.4f}")
    elif what == "uncond":
        print(f"{'unconditional':<12} {'train s':>8} {'inside':>8} {'TV':>8}   (10,000 samples, seeds 1 and 2)")
        for name, sets in UNCOND.items():
            model, wall = train(name, sets)
            q = [analyses.sample_quality(model, model.cfg.sample, 10000, seed=s) for s in (1, 2)]
            print(
                f"{name:<12} {wall:8.1f} {np.mean([r.inside_fraction for r in q]):8.4f} "
                f"{np.mean([r.tv_distance for r in q]):8.4f}"
            )
    elif what == "dropout":
        for epochs, dropout in ((6000, 0.15), (8000, 0.15), (6000, 0.2), (6000, 0.25), (8000, 0.2)):
            model, _ = train(
                f"cd{dropout}-{epochs}",
                ["model.conditional=true", f"train.epochs={epochs}", f"train.class_dropout={dropout}"],
            )
            own = analyses.sample_quality(model, model.cfg.sample, 9000, seed=1)
            null = [analyses.sample_quality(model, model.cfg.sample, 10000, seed=s, klass="none") for s in (1, 2)]
            sweep = analyses.guidance_sweep(model, model.cfg.sample, 9000, 1, [0.0, 2.0, 4.0], [(0.0, 0.4)])
            print(
                f"{epochs} epochs, dropout {dropout}: own {own.own_mean:.4f} / {own.own_worst[1]:.4f}; null inside "
                f"{np.mean([r.inside_fraction for r in null]):.4f} TV {np.mean([r.tv_distance for r in null]):.4f}; "
                + ", ".join(
                    f"W={r.guidance:g}: {r.own_region_mean:.4f} (TV {r.within_cell_tv:.4f})" for r in sweep.rows
                ),
                flush=True,
            )
    else:  # guidance: one model with class dropout, a grid of weights and intervals
        sets = sys.argv[2:] or ["train.class_dropout=0.15"]
        model, _ = train("guided", ["model.conditional=true", *sets])
        sc = model.cfg.sample
        intervals = [(0.0, 0.3), (0.0, 0.4), (0.0, 0.5), (0.0, 1.0)]
        t0 = time.perf_counter()
        sweep = analyses.guidance_sweep(model, sc, 9000, 1, [0.0, 1.0, 2.0, 4.0], intervals)
        print(f"config: {' '.join(sets)}  ({time.perf_counter() - t0:.0f} s of sampling)")
        print(f"{'interval':<18} {'W':>4} {'own mean':>9} {'own worst':>10} {'within-cell TV':>15}")
        for r in sweep.rows:
            print(
                f"{r.where:<18} {r.guidance:4.1f} {r.own_region_mean:9.4f} {r.own_region_worst:10.4f} "
                f"{r.within_cell_tv:15.4f}"
            )
    print(f"(checkpoints in {ROOT})")


if __name__ == "__main__":
    main()
