"""How close is the exact log p (probability-flow ODE) of an unconditional model to the truth inside the square?

Trains each recipe through the library (the given --set values on the built-in defaults) and measures the exact
log p (`diffusion prob --exact`: scipy RK45, rtol = atol = 1e-6) at the five inside points of the docs' table and
on a 9 x 9 grid over [-0.9, 0.9]^2, with the model's own matched Gaussian prior at t = 1 and with the training data's
own p_1 (the column "exact, data's p_1"); truth log(1/4) = -1.386. Then the floor that the sample itself sets: the
training points blurred by N(0, h^2 I), which is what the ideal denoiser of those points gives at sigma = h (a kernel
density estimate); a model that learns its 3,000 points shares their unevenness unless it smooths it away.
Run: .venv/bin/python bench/diffusion_exact.py [RECIPE ...]   (2 torch threads, CPU; run nothing else meanwhile)
"""

import math
import sys
import tempfile
import time
from pathlib import Path

import torch
from cpu_info import cpu_line  # bench/ is on sys.path when a script there runs

from gencli.core.config import ConfigSources
from gencli.diffusion.analyses import training_data_prior
from gencli.diffusion.analyses.common import training_points
from gencli.diffusion.config import resolve_diffusion
from gencli.diffusion.datasets import dataset_for
from gencli.diffusion.likelihood.exact import exact_log_prob, forward_marginal_log_prob
from gencli.diffusion.model.store import load_trained
from gencli.diffusion.training.fit import fit, prepare
from gencli.diffusion.training.trainer import training_set


def training_set_of(cfg):
    return training_set(cfg, dataset_for(cfg.data))


torch.set_num_threads(2)
ROOT = Path(tempfile.mkdtemp(prefix="gencli-exact-"))
TRUTH = math.log(1 / 4)
POINTS = torch.tensor([[0.0, 0.0], [0.5, -0.5], [-0.9, 0.9], [0.3, 0.7], [-0.6, -0.2]], dtype=torch.float64)
AXIS = torch.linspace(-0.9, 0.9, 9, dtype=torch.float64)
GRID = torch.stack(torch.meshgrid(AXIS, AXIS, indexing="xy"), -1).reshape(-1, 2)
RECIPES = {
    "default": [],
    "default, data seed 1": ["data.seed=1"],
    "1,500 epochs": ["train.epochs=1500"],
    "width 32": ["model.hidden=32"],
    "width 128": ["model.hidden=128"],
    "width 128, 10,000 points": ["model.hidden=128", "data.n_points=10000"],
}


def errors(values: torch.Tensor) -> tuple[float, float]:
    """Worst and mean |log p - log(1/4)|."""
    err = (values - TRUTH).abs()
    return err.max().item(), err.mean().item()


def recipe_row(name: str, sets: list[str]) -> str:
    path = ROOT / f"recipe{list(RECIPES).index(name)}"
    trainer = prepare(path, False, ConfigSources(sets=tuple(sets)))
    fit(trainer, path)
    m = load_trained(path)
    points, _ = training_points(m)
    cells = []
    for pts in (POINTS, GRID):
        ode = exact_log_prob(m.model, pts, m.sde, None, "matched", 1e-6, 1e-6)
        data = ode.divergence + training_data_prior(points, None, ode.ends, None, m.sde.sigma_max)
        cells.append((ode.logp, data))
    (five, five_data), (grid, grid_data) = cells
    w5, _ = errors(five)
    w5d, _ = errors(five_data)
    wg, mg = errors(grid)
    wgd, mgd = errors(grid_data)
    return (
        f"{name:<28} {trainer.wall_s:6.1f}  "
        + " ".join(f"{v:6.3f}" for v in five.tolist())
        + f"  {w5:5.3f} {w5d:5.3f}   {wg:5.3f} {mg:5.3f}   {wgd:5.3f} {mgd:5.3f}"
    )


def blurred_sample_rows(n_points: int = 3000) -> list[str]:
    rows = []
    for seed in (0, 1):
        x, _ = training_set_of(
            resolve_diffusion(
                ConfigSources(
                    sets=(
                        f"data.n_points={n_points}",
                        f"data.seed={seed}",
                    )
                )
            )
        )
        for h in (0.03, 0.05, 0.07, 0.1, 0.15):
            w5, _ = errors(forward_marginal_log_prob(POINTS, x, h))
            wg, mg = errors(forward_marginal_log_prob(GRID, x, h))
            rows.append(
                f"{n_points:>6} points, seed {seed}, h = {h:<4}         {w5:5.3f}            {wg:5.3f} {mg:5.3f}"
            )
    return rows


def main() -> None:
    names = sys.argv[1:] or list(RECIPES)
    print(f"CPU: {cpu_line()}; torch {torch.__version__}; {time.strftime('%Y-%m-%d')}; truth log(1/4) = {TRUTH:.3f}")
    print(
        f"{'recipe':<28} {'train s':>6}  {'(0,0)':>6} {'(.5,-.5)':>6} {'(-.9,.9)':>6} {'(.3,.7)':>6} {'(-.6,-.2)':>6}"
        f"  worst5 (data p_1)   grid81 worst / mean   (data p_1)"
    )
    for name in names:
        print(recipe_row(name, RECIPES[name]), flush=True)
    print("\nthe training points blurred by N(0, h^2 I) (the ideal denoiser of the sample, at sigma = h):")
    print(f"{'sample':<44} worst5   grid81 worst / mean")
    for row in blurred_sample_rows(3000) + blurred_sample_rows(10000):
        print(row)


if __name__ == "__main__":
    main()
