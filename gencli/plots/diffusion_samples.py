"""Figures of the diffusion model's training and samples: loss (U2), data (C1), samples (C4, C5), nine seeds
(U3), sweeps (U4, U5), sigma schedules (U5), guidance (C7)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gencli.diffusion.results import (
    GuidanceSweep,
    Samples,
    SamplingSweep,
    SeedsGrid,
    SigmaSchedules,
    TrainingCurve,
    TrainingData,
)
from gencli.diffusion.results.common import settings_text
from gencli.plots.common import loss_curves, plt, save, wrap
from gencli.plots.figures import draw
from gencli.plots.scatter import CMAP, LIM, panels, points


def schedules(series: dict[str, tuple[np.ndarray, np.ndarray]], path: Path, title: str) -> Path:
    """sigma at each sampling step (left) and the time t_i of each step (right) for named time grids."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for name, (ts, sig) in series.items():
        a.plot(np.arange(len(sig)), sig, marker=".", ms=3, label=name)
        b.plot(np.arange(len(ts)), ts, marker=".", ms=3, label=name)
    a.set_yscale("log")
    a.set_ylabel("sigma (log scale)")
    a.set_title("sigma at each step")
    b.set_ylabel("t")
    b.set_title("time t_i of each step")
    for ax in (a, b):
        ax.set_xlabel("sampling step i")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(wrap(title, 110))
    fig.tight_layout()
    return save(fig, path)


@draw.register
def _(r: TrainingCurve, folder: Path) -> dict[str, Path]:
    steps = np.arange(1, r.epochs + 1)
    window = min(50, r.epochs)
    smooth = np.convolve(r.losses, np.ones(window) / window, mode="valid")
    kind = "conditional" if r.conditional else "unconditional"
    return {
        r.FIGURE: loss_curves(
            {"loss": (steps, r.losses), f"moving average ({window})": (steps[window - 1 :], smooth)},
            folder / "loss.png",
            f"denoiser training loss ({kind}, {r.epochs} full-batch epochs)",
            ylabel="MSE of the eps prediction",
            xlabel="epoch",
            logy=False,
            from_zero=True,
        )
    }


@draw.register
def _(r: TrainingData, folder: Path) -> dict[str, Path]:
    if r.labels is None:  # uniform points in a square need no figure (and a training run saves the time)
        return {}
    title = f"training data by class ({len(r.points)} points, K = {r.n_classes})"
    return {r.FIGURE: points(r.points, folder / "data.png", title, labels=r.labels, n_classes=r.n_classes, grid=r.grid)}


def class_numbers(own: list[float], spread: np.ndarray, data_spread: np.ndarray, path: Path, title: str) -> Path:
    """Per class: the fraction landing in its own cell (left) and the spread of samples vs data (right)."""
    k = len(own)
    classes = np.arange(k)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    bars = a.bar(classes, own, color=[plt.get_cmap(CMAP)(c / max(k - 1, 1)) for c in classes])
    a.bar_label(bars, labels=[f"{v:.2f}" for v in own], fontsize=8, padding=2)
    mean = float(np.nanmean(own))
    a.axhline(mean, color="k", ls="--", lw=0.8, label=f"mean over classes {mean:.3f}")
    a.set_ylim(0, 1.25)
    a.set_xticks(classes)
    a.set_xlabel("class")
    a.set_ylabel("fraction in its own cell")
    a.set_title("samples landing in their class's cell")
    a.legend(loc="upper left", fontsize=8, ncols=2, frameon=False)
    w = 0.2
    for j, (name, vals) in enumerate(
        (
            ("samples std x", spread[:, 0]),
            ("samples std y", spread[:, 1]),
            ("data std x", data_spread[:, 0]),
            ("data std y", data_spread[:, 1]),
        )
    ):
        b.bar(classes + (j - 1.5) * w, vals, w, label=name, color=["tab:blue", "tab:cyan", "0.35", "0.7"][j])
    b.set_xticks(classes)
    b.set_xlabel("class")
    b.set_ylabel("standard deviation")
    b.set_title("spread within each class: samples vs training data")
    b.set_ylim(0, 1.45 * float(max(np.nanmax(spread), np.nanmax(data_spread))))
    b.legend(fontsize=8, ncols=2, loc="upper left", frameon=False)
    fig.suptitle(wrap(title, 110))
    fig.tight_layout()
    return save(fig, path)


@draw.register
def _(r: Samples, folder: Path) -> dict[str, Path]:
    title = (
        f"{len(r.points)} samples ({settings_text(r.settings)}, seed {r.seed}): inside {r.inside_fraction:.3f}, TV "
        f"{r.tv_distance:.3f}"
    )
    files = {
        r.FIGURE: points(r.points, folder / "samples.png", title, labels=r.labels, n_classes=r.n_classes, grid=r.grid)
    }
    if r.own_region is not None:
        files[r.CLASS_FIGURE] = class_numbers(
            r.own_region,
            np.asarray(r.spread),
            np.asarray(r.data_spread),
            folder / "class_numbers.png",
            f"per class, {len(r.points)} samples: own-cell fraction mean {r.own_mean:.3f}, worst {r.own_worst[1]:.3f}",
        )
    return files


@draw.register
def _(r: SeedsGrid, folder: Path) -> dict[str, Path]:
    items = [(f"seed {p.seed}: inside {p.inside_fraction:.3f}, TV {p.tv_distance:.3f}", p.points) for p in r.panels]
    n = len(r.panels[0].points)
    return {
        r.FIGURE: panels(
            items,
            folder / "seeds_grid.png",
            f"{len(items)} seeds x {n} points ({settings_text(r.settings)})",
            labels=r.labels,
            n_classes=r.n_classes,
        )
    }


@draw.register
def _(r: SamplingSweep, folder: Path) -> dict[str, Path]:
    items = [(f"{row.name}\ninside {row.inside_fraction:.3f}, TV {row.tv_distance:.3f}", row.points) for row in r.rows]
    pairs = len({(row.sampler, row.schedule) for row in r.rows})
    ncols = pairs if r.key == "compare" and pairs <= 4 else (len(items) if len(items) <= 4 else 3)
    title = f"{len(r.rows[0].points)} samples by {r.what} (seed {r.seed}, {r.start} start)"
    # one shared limit for every panel, wide enough for 99% of all points (a T = 1 overshoot lands far out)
    reach = float(np.quantile(np.abs(np.concatenate([row.points for row in r.rows])), 0.99))
    half = min(max(LIM[1], 1.05 * reach), 8.0)
    return {
        r.figure: panels(
            items,
            folder / f"{r.key}.png",
            title,
            ncols=ncols,
            labels=r.labels,
            n_classes=r.n_classes,
            lim=(-half, half),
        )
    }


@draw.register
def _(r: SigmaSchedules, folder: Path) -> dict[str, Path]:
    series = {(f"{k} (rho={r.rho:g})" if k == "karras" else f"{k} (exercise)"): v for k, v in r.series.items()}
    c = np.log(r.sigma_max / r.sigma_min)
    formula = (
        f"sigma(t) = exp({c:.3g} (t - 1))"
        if r.sigma_max == 1
        else f"sigma(t) = {r.sigma_min:.4g}^(1-t) {r.sigma_max:g}^t"
    )
    title = f"{formula} on two time grids, T={r.steps}"
    return {r.FIGURE: schedules(series, folder / "schedule.png", title)}


@draw.register
def _(r: GuidanceSweep, folder: Path) -> dict[str, Path]:
    weights = list(dict.fromkeys(row.guidance for row in r.rows))
    items = [
        (
            f"W={row.guidance:g}, {row.where}\nown cell {row.own_region_mean:.3f}, within-cell TV "
            f"{row.within_cell_tv:.3f}",
            row.points,
        )
        for row in r.rows
    ]
    n = len(r.rows[0].points)
    title = (
        f"classifier-free guidance: {n} samples per panel ({settings_text(r.settings)}, seed {r.seed}); "
        "rows: where guidance applies"
    )
    return {
        r.FIGURE: panels(
            items,
            folder / "guidance_sweep.png",
            title,
            ncols=len(weights),
            labels=r.labels,
            n_classes=r.n_classes,
            lim=(-1.3, 1.3),
            grid=r.grid,
        )
    }
