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
from gencli.plots.scatter import class_colour, panels, points, reach_limits, square_limits


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
    what = f"by class, K = {r.n_classes}" if r.labels is not None else r.view.name
    title = f"training data ({what}; {len(r.points):,} points)"
    return {r.FIGURE: points(r.points, folder / "data.png", title, r.view, labels=r.labels, n_classes=r.n_classes)}


def class_numbers(
    own: list[float], spread: np.ndarray, data_spread: np.ndarray, path: Path, title: str, region: str = "region"
) -> Path:
    """Per class: the fraction landing in its own region (left) and the spread of samples vs data (right)."""
    k = len(own)
    classes = np.arange(k)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    bars = a.bar(classes, own, color=[class_colour(c, k) for c in classes])
    # in the middle of the bars: the dashed mean line, near their tops, never crosses a label
    a.bar_label(
        bars, labels=[f"{v:.2f}" for v in own], label_type="center", fontsize=8, color="white", fontweight="bold"
    )
    mean = float(np.nanmean(own))
    a.axhline(mean, color="k", ls="--", lw=0.8)
    a.text(
        1.0, 1.02, f"dashed: mean over classes {mean:.3f}", transform=a.transAxes, ha="right", va="bottom", fontsize=8
    )
    a.set_ylim(0, 1.18)
    a.set_xticks(classes)
    a.set_xlabel("class")
    a.set_ylabel(f"fraction in its own {region}")
    a.set_title(f"samples landing in their class's {region}", loc="left", fontsize=10)
    w = 0.2
    series = (
        ("samples std x", spread[:, 0]),
        ("samples std y", spread[:, 1]),
        ("data std x", data_spread[:, 0]),
        ("data std y", data_spread[:, 1]),
    )
    for j, (name, vals) in enumerate(series):
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


def quality_label(q) -> str:
    return f"TV {q.ratio:.2f}x floor, P {q.precision:.2f}, R {q.recall:.2f}"


@draw.register
def _(r: Samples, folder: Path) -> dict[str, Path]:
    title = f"{len(r.points)} samples ({settings_text(r.settings)}, seed {r.seed}): {quality_label(r.quality)}"
    limits = reach_limits(r.view, r.points, quantile=0.995)
    files = {
        r.FIGURE: points(
            r.points, folder / "samples.png", title, r.view, labels=r.labels, n_classes=r.n_classes, limits=limits
        )
    }
    if r.own_region is not None:
        files[r.CLASS_FIGURE] = class_numbers(
            r.own_region,
            np.asarray(r.spread),
            np.asarray(r.data_spread),
            folder / "class_numbers.png",
            f"per class, {len(r.points)} samples: own-{r.view.region} fraction mean {r.own_mean:.3f}, worst "
            f"{r.own_worst[1]:.3f}",
            r.view.region,
        )
    return files


@draw.register
def _(r: SeedsGrid, folder: Path) -> dict[str, Path]:
    items = [(f"seed {p.seed}: {quality_label(p.quality)}", p.points) for p in r.panels]
    n = len(r.panels[0].points)
    limits = reach_limits(r.view, *[p.points for p in r.panels], quantile=0.995)
    return {
        r.FIGURE: panels(
            items,
            folder / "seeds_grid.png",
            f"{len(items)} seeds x {n} points ({settings_text(r.settings)})",
            r.view,
            labels=r.labels,
            n_classes=r.n_classes,
            limits=limits,
        )
    }


def sweep_limits(r: SamplingSweep) -> tuple[list, list[bool]]:
    """Per panel: the limits it is drawn on, and whether they are its own. The panels share a view that holds 99%
    of their points, except a panel whose points reach more than twice as far (a T = 1 overshoot), which gets its
    own scale so that the others stay readable."""
    shared = reach_limits(r.view, quantile=0.99)
    half = (shared[1] - shared[0]) / 2
    own = []
    for row in r.rows:
        mine = reach_limits(r.view, row.points, quantile=0.99)
        own.append((mine[1] - mine[0]) / 2 > 2 * half)
    rest = [row.points for row, o in zip(r.rows, own) if not o]
    common = reach_limits(r.view, *rest, quantile=0.99) if rest else shared
    limits = [reach_limits(r.view, row.points, quantile=0.99) if o else common for row, o in zip(r.rows, own)]
    return limits, own


@draw.register
def _(r: SamplingSweep, folder: Path) -> dict[str, Path]:
    limits, own = sweep_limits(r)
    items = [
        (f"{row.name}{' (own scale)' if o else ''}\n{quality_label(row.quality)}", row.points)
        for row, o in zip(r.rows, own)
    ]
    pairs = len({(row.sampler, row.schedule) for row in r.rows})
    ncols = pairs if r.key == "compare" and pairs <= 4 else (len(items) if len(items) <= 4 else 3)
    title = f"{len(r.rows[0].points)} samples by {r.what} (seed {r.seed}, {r.start} start)"
    return {
        r.figure: panels(
            items,
            folder / f"{r.key}.png",
            title,
            r.view,
            ncols=ncols,
            labels=r.labels,
            n_classes=r.n_classes,
            limits=limits,
        )
    }


@draw.register
def _(r: SigmaSchedules, folder: Path) -> dict[str, Path]:
    series = {(f"{k} (rho={r.rho:g})" if k == "karras" else f"{k} (exercise)"): v for k, v in r.series.items()}
    c = np.log(r.sigma_max / r.sigma_min)
    formula = (
        f"sigma(t) = exp({c:.3g} (t - 1))"
        if r.sigma_max == 1
        else f"sigma(t) = {r.sigma_min:.4g}^(1-t) {r.sigma_max:.4g}^t"
    )
    title = f"{formula} on two time grids, T={r.steps}"
    return {r.FIGURE: schedules(series, folder / "schedule.png", title)}


@draw.register
def _(r: GuidanceSweep, folder: Path) -> dict[str, Path]:
    weights = list(dict.fromkeys(row.guidance for row in r.rows))
    region = r.view.region
    items = [
        (
            f"W={row.guidance:g}, {row.where}\nown {region} {row.own_region_mean:.3f}, within-{region} TV "
            f"{row.within_region_tv:.3f}",
            row.points,
        )
        for row in r.rows
    ]
    n = len(r.rows[0].points)
    title = (
        f"classifier-free guidance: {n} samples per panel ({settings_text(r.settings)}, seed {r.seed}); "
        "rows: where guidance applies"
    )
    x0, x1, y0, y1 = r.view.limits
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    limits = reach_limits(r.view, *[row.points for row in r.rows], quantile=0.99)
    half = min((limits[1] - limits[0]) / 2, 0.55 * (x1 - x0) / 2)  # zoomed on the data: guidance keeps samples near
    return {
        r.FIGURE: panels(
            items,
            folder / "guidance_sweep.png",
            title,
            r.view,
            ncols=len(weights),
            labels=r.labels,
            n_classes=r.n_classes,
            limits=square_limits(half, (cx, cy)),
        )
    }
