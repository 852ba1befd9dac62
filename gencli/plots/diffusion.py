"""Figures of the diffusion half: data, samples, trajectories, schedules, likelihoods."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.colors import SymLogNorm

from gencli.diffusion.results import (
    DensityGrid,
    Determinism,
    ForwardPath,
    GuidanceSweep,
    ProbabilityTable,
    ReversePaths,
    Samples,
    SamplingSweep,
    SeedsGrid,
    SigmaSchedules,
    SteeredSample,
    TrainingCurve,
    TrainingData,
)
from gencli.diffusion.results.common import settings_text
from gencli.plots.common import loss_curves, plt, save, wrap
from gencli.plots.figures import draw

LIM = (-2.5, 2.5)
CMAP = "tab10"


def _square(ax, half_width: float = 1.0, rows: int = 0, cols: int = 0) -> None:
    h = half_width
    ax.plot([-h, h, h, -h, -h], [-h, -h, h, h, -h], "k-", lw=0.8)
    for r in range(1, rows):
        y = -h + 2 * h * r / rows
        ax.plot([-h, h], [y, y], "k:", lw=0.6)
    for c in range(1, cols):
        x = -h + 2 * h * c / cols
        ax.plot([x, x], [-h, h], "k:", lw=0.6)


def _axes(ax, lim=LIM, title: str = "") -> None:
    ax.set_xlim(*lim)
    ax.set_ylim(*lim)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if title:
        ax.set_title(wrap(title, 48), fontsize=9)


def _scatter(ax, pts: np.ndarray, labels: np.ndarray | None, n_classes: int) -> None:
    size = float(np.clip(8000 / max(len(pts), 1), 1.0, 4.0))  # dense clouds need small markers to show density
    if labels is None:
        ax.scatter(pts[:, 0], pts[:, 1], s=size, alpha=0.6, linewidths=0)
    else:
        ax.scatter(pts[:, 0], pts[:, 1], s=size, linewidths=0, c=labels, cmap=CMAP, vmin=0, vmax=max(n_classes - 1, 1), alpha=0.7)


def points(
    pts: np.ndarray,
    path: Path,
    title: str,
    labels: np.ndarray | None = None,
    n_classes: int = 0,
    grid: tuple[int, int] = (0, 0),
    lim=LIM,
) -> Path:
    """One scatter of points, coloured by class when labels are given, square drawn."""
    fig, ax = plt.subplots(figsize=(5.2, 5))
    _scatter(ax, pts, labels, n_classes)
    _square(ax, 1.0, *grid)
    _axes(ax, lim, title)
    if labels is not None:
        handles = [
            plt.Line2D([], [], marker="o", ls="", color=plt.get_cmap(CMAP)(c / max(n_classes - 1, 1)), label=f"class {c}")
            for c in range(n_classes)
        ]
        ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return save(fig, path)


def panels(
    items: Sequence[tuple[str, np.ndarray]],
    path: Path,
    title: str,
    ncols: int = 3,
    labels: np.ndarray | None = None,
    n_classes: int = 0,
    lim=LIM,
    grid: tuple[int, int] = (0, 0),
) -> Path:
    """Side-by-side scatters with fixed, shared axis limits (for comparisons)."""
    n = len(items)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 3.3 * nrows), squeeze=False)
    for ax, (name, pts) in zip(axes.flat, items):
        _scatter(ax, pts, labels, n_classes)
        _square(ax, 1.0, *grid)
        _axes(ax, lim, name)
    for ax in axes.flat[n:]:
        ax.axis("off")
    fig.suptitle(wrap(title, 40 * ncols))
    fig.tight_layout()
    return save(fig, path)


def forward_path(path_pts: np.ndarray, ts: np.ndarray, path: Path, title: str) -> Path:
    """A forward-process trajectory (K, 2), points coloured by t."""
    fig, ax = plt.subplots(figsize=(5.6, 5))
    ax.plot(path_pts[:, 0], path_pts[:, 1], "-", color="0.7", lw=0.6, zorder=1)
    sc = ax.scatter(path_pts[:, 0], path_pts[:, 1], c=ts, cmap="viridis", s=10, zorder=2)
    ax.scatter(*path_pts[0], marker="*", s=150, facecolor="none", edgecolor="red", label="x_0", zorder=3)
    _square(ax)
    lim = max(2.5, float(np.abs(path_pts).max()) * 1.05)
    _axes(ax, (-lim, lim), title)
    fig.colorbar(sc, ax=ax, label="t")
    # the first half of the path stays within a few hundredths of x_0: an inset, in the corner away from x_0, shows it
    # at its own scale; the legend takes another free corner
    right, top = path_pts[0][0] < 0, path_pts[0][1] < 0
    ax.legend(loc=f"{'lower' if top else 'upper'} {'right' if right else 'left'}")
    early = path_pts[ts <= 0.5]
    reach = float(np.abs(early - path_pts[0]).max()) * 1.3 or 0.01
    ins = ax.inset_axes([0.64 if right else 0.14, 0.56 if top else 0.1, 0.32, 0.32])
    ins.plot(early[:, 0], early[:, 1], "-", color="0.7", lw=0.6)
    ins.scatter(early[:, 0], early[:, 1], c=ts[ts <= 0.5], cmap="viridis", s=6, vmin=0, vmax=1)
    ins.scatter(*path_pts[0], marker="*", s=90, facecolor="none", edgecolor="red")
    ins.set_xlim(path_pts[0][0] - reach, path_pts[0][0] + reach)
    ins.set_ylim(path_pts[0][1] - reach, path_pts[0][1] + reach)
    ins.set_title(f"t <= 0.5, zoomed ({2 * reach:.2g} wide)", fontsize=7)
    ins.tick_params(labelsize=6)
    return save(fig, path)


def trajectories(
    traj: np.ndarray,
    path: Path,
    title: str,
    labels: np.ndarray | None = None,
    n_classes: int = 0,
    grid: tuple[int, int] = (0, 0),
    background: np.ndarray | None = None,
    label_name: str = "class",
) -> Path:
    """Reverse trajectories (K, N, 2): one line per point from its start (o) to its end (*).

    Lines with the same label share a colour and one legend entry ("{label_name} {label}").
    """
    fig, ax = plt.subplots(figsize=(5.6, 5))
    if background is not None:
        ax.scatter(background[:, 0], background[:, 1], s=1, c="0.85", zorder=0)
    cmap = plt.get_cmap(CMAP)
    named = set()
    for j in range(traj.shape[1]):
        color = cmap(labels[j] / max(n_classes - 1, 1)) if labels is not None else cmap(j % 10)
        name = f"{label_name} {labels[j]}" if labels is not None else f"point {j}"
        ax.plot(traj[:, j, 0], traj[:, j, 1], "-", color=color, lw=1, label=None if name in named else name)
        named.add(name)
        ax.scatter(*traj[0, j], marker="o", color=color, s=25)
        ax.scatter(*traj[-1, j], marker="*", color=color, s=120, edgecolor="k", zorder=3)
    _square(ax, 1.0, *grid)
    lim = max(2.5, float(np.abs(traj).max()) * 1.05)
    _axes(ax, (-lim, lim), title)
    ax.scatter([], [], marker="o", color="0.4", s=25, label="start, z(1)")
    ax.scatter([], [], marker="*", color="0.4", s=120, edgecolor="k", label="end, z(0)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return save(fig, path)


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


def bound_overlay(
    data: np.ndarray, pts: np.ndarray, names: list[str], values: np.ndarray, errors: np.ndarray, path: Path, title: str,
    grid: tuple[int, int] = (0, 0),
) -> Path:
    """Query points over the training data, numbered; the values are listed beside the plot.

    Points at the same place (one location with two classes) share one marker label
    ("2, 7"), so no two labels overlap; every value is readable in the list.
    """
    fig, (ax, side) = plt.subplots(1, 2, figsize=(9.5, 5), gridspec_kw={"width_ratios": [1.25, 1]})
    ax.scatter(data[:, 0], data[:, 1], s=1, c="0.8", zorder=0)
    lo, hi = float(np.min(values)), float(np.max(values))
    # one-sided (higher is brighter), symmetric-log: bounds near 0 and hundreds of nats below both stay readable
    norm = SymLogNorm(linthresh=1.0, vmin=lo, vmax=max(hi, lo + 1e-9))
    sc = ax.scatter(pts[:, 0], pts[:, 1], c=values, cmap="viridis", norm=norm, s=70, edgecolor="k", zorder=2)
    places: dict[tuple[float, float], list[int]] = {}
    for i, (x, y) in enumerate(pts):
        places.setdefault((round(float(x), 6), round(float(y), 6)), []).append(i + 1)
    for (x, y), idx in places.items():
        ax.annotate(", ".join(map(str, idx)), (x, y), textcoords="offset points", xytext=(7, 5), fontsize=9, weight="bold")
    _square(ax, 1.0, *grid)
    lim = max(2.0, float(np.abs(pts).max()) + 0.5)
    _axes(ax, (-lim, lim), "")
    fig.colorbar(sc, ax=ax, label="lower bound on log p (nats, symmetric-log scale)", fraction=0.046)
    side.axis("off")
    lines = [f"{i + 1:>2}  {name:<18} {v:>9.2f} ± {e:.2f}" for i, (name, v, e) in enumerate(zip(names, values, errors))]
    side.text(0.0, 1.0, "#   point              bound (nats)\n" + "\n".join(lines), family="monospace", fontsize=9,
              va="top", transform=side.transAxes)
    fig.suptitle(wrap(title, 100), fontsize=11)
    fig.tight_layout()
    return save(fig, path)


@draw.register
def _(r: TrainingCurve, folder: Path) -> dict[str, Path]:
    steps = np.arange(1, r.epochs + 1)
    window = min(50, r.epochs)
    smooth = np.convolve(r.losses, np.ones(window) / window, mode="valid")
    kind = "conditional" if r.conditional else "unconditional"
    return {"loss_figure": loss_curves(
        {"loss": (steps, r.losses), f"moving average ({window})": (steps[window - 1:], smooth)}, folder / "loss.png",
        f"denoiser training loss ({kind}, {r.epochs} full-batch epochs)", ylabel="MSE of the eps prediction", xlabel="epoch",
        logy=False, from_zero=True)}


@draw.register
def _(r: TrainingData, folder: Path) -> dict[str, Path]:
    if r.labels is None:  # uniform points in a square need no figure (and a training run saves the time)
        return {}
    title = f"training data by class ({len(r.points)} points, K = {r.n_classes})"
    return {"data_figure": points(r.points, folder / "data.png", title, labels=r.labels, n_classes=r.n_classes, grid=r.grid)}


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
    for j, (name, vals) in enumerate((("samples std x", spread[:, 0]), ("samples std y", spread[:, 1]),
                                      ("data std x", data_spread[:, 0]), ("data std y", data_spread[:, 1]))):
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
    title = f"{len(r.points)} samples ({settings_text(r.settings)}, seed {r.seed}): inside {r.inside_fraction:.3f}, TV {r.tv_distance:.3f}"
    files = {"samples_figure": points(r.points, folder / "samples.png", title, labels=r.labels, n_classes=r.n_classes, grid=r.grid)}
    if r.own_region is not None:
        files["class_numbers_figure"] = class_numbers(
            r.own_region, np.asarray(r.spread), np.asarray(r.data_spread), folder / "class_numbers.png",
            f"per class, {len(r.points)} samples: own-cell fraction mean {r.own_mean:.3f}, worst {r.own_worst[1]:.3f}")
    return files


@draw.register
def _(r: SeedsGrid, folder: Path) -> dict[str, Path]:
    items = [(f"seed {p.seed}: inside {p.inside_fraction:.3f}, TV {p.tv_distance:.3f}", p.points) for p in r.panels]
    n = len(r.panels[0].points)
    return {"seeds_grid_figure": panels(items, folder / "seeds_grid.png", f"{len(items)} seeds x {n} points ({settings_text(r.settings)})",
                                        labels=r.labels, n_classes=r.n_classes)}


@draw.register
def _(r: SamplingSweep, folder: Path) -> dict[str, Path]:
    items = [(f"{row.name}\ninside {row.inside_fraction:.3f}, TV {row.tv_distance:.3f}", row.points) for row in r.rows]
    pairs = len({(row.sampler, row.schedule) for row in r.rows})
    ncols = pairs if r.key == "compare" and pairs <= 4 else (len(items) if len(items) <= 4 else 3)
    title = f"{len(r.rows[0].points)} samples by {r.what} (seed {r.seed}, {r.start} start)"
    # one shared limit for every panel, wide enough for 99% of all points (a T = 1 overshoot lands far out)
    reach = float(np.quantile(np.abs(np.concatenate([row.points for row in r.rows])), 0.99))
    half = min(max(LIM[1], 1.05 * reach), 8.0)
    return {f"{r.key}_figure": panels(items, folder / f"{r.key}.png", title, ncols=ncols, labels=r.labels, n_classes=r.n_classes,
                                      lim=(-half, half))}


@draw.register
def _(r: SigmaSchedules, folder: Path) -> dict[str, Path]:
    series = {(f"{k} (rho={r.rho:g})" if k == "karras" else f"{k} (exercise)"): v for k, v in r.series.items()}
    c = np.log(r.sigma_max / r.sigma_min)
    formula = (f"sigma(t) = exp({c:.3g} (t - 1))" if r.sigma_max == 1 else f"sigma(t) = {r.sigma_min:.4g}^(1-t) {r.sigma_max:g}^t")
    title = f"{formula} on two time grids, T={r.steps}"
    return {"schedule_figure": schedules(series, folder / "schedule.png", title)}


@draw.register
def _(r: ForwardPath, folder: Path) -> dict[str, Path]:
    title = f"forward process from ({r.start[0]:g}, {r.start[1]:g}): x_t = x_0 + sigma(t) eps, {len(r.ts) - 1} steps"
    return {"trajectory_figure": forward_path(r.path, r.ts, folder / "forward.png", title)}


@draw.register
def _(r: ReversePaths, folder: Path) -> dict[str, Path]:
    what = "one point per class" if r.labels is not None else f"{r.traj.shape[1]} reverse trajectories"
    return {"trajectory_figure": trajectories(
        r.traj, folder / "reverse.png", f"{what} ({settings_text(r.settings)}, seed {r.seed})", labels=r.labels,
        n_classes=r.n_classes, grid=r.grid, background=r.background)}


@draw.register
def _(r: Determinism, folder: Path) -> dict[str, Path]:
    reps, k, p, _ = r.paths.shape
    traj = np.concatenate([r.paths[i] for i in range(reps)], axis=1)  # (K, R*P, 2)
    verdict = f"all {reps} identical" if r.identical else f"{r.n_identical} of {reps - 1} repeats equal the first run"
    return {"determinism_figure": trajectories(
        traj, folder / "determinism.png",
        f"{p} points, same initial noise, {reps} runs of {r.sampler} (T={r.steps}): {verdict}, max |diff| {r.max_abs_diff:.3g}",
        labels=np.tile(np.arange(p), reps), n_classes=10, label_name="point")}


@draw.register
def _(r: ProbabilityTable, folder: Path) -> dict[str, Path]:
    pts = np.array([[row["x"], row["y"]] for row in r.rows])
    names = [f"({row['x']:g}, {row['y']:g})" + (f" c={row['class']}" if r.conditional else "") for row in r.rows]
    values = np.array([row["elbo"] for row in r.rows])
    errors = np.array([row["stderr"] for row in r.rows])
    title = f"lower bound on log p(x{' | c' if r.conditional else ''}), T={r.steps}, {r.samples} Monte Carlo samples per point"
    return {"prob_figure": bound_overlay(r.background, pts, names, values, errors, folder / "prob.png", title, grid=r.grid)}


@draw.register
def _(r: DensityGrid, folder: Path) -> dict[str, Path]:
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.6))
    lo, hi = r.truth_value - 8.0, max(r.truth_value + 1.0, float(np.nanmax(r.logp)))
    extent = (r.axis[0], r.axis[-1], r.axis[0], r.axis[-1])
    truth = np.where(np.isfinite(r.truth), r.truth, lo)  # minus infinity drawn at the bottom of the scale
    for ax, values, name in ((axes[0], r.logp, "the model: exact log p (probability-flow ODE)"),
                             (axes[1], truth, "the data: true log p (minus infinity outside)")):
        im = ax.imshow(np.clip(values, lo, hi), origin="lower", extent=extent, cmap="viridis", vmin=lo, vmax=hi)
        _square(ax, 1.0)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title(name, fontsize=10)
    fig.colorbar(im, ax=axes, fraction=0.03, label=f"log p (nats; clipped below at {lo:.1f})")
    what = f"log p(x | class {r.klass})" if r.klass is not None else "log p(x)"
    fig.suptitle(wrap(f"{what} on a {len(r.axis)}x{len(r.axis)} grid ({r.start} start as the prior, {r.nfe} ODE "
                      "evaluations)", 110), fontsize=11)
    return {"density_figure": save(fig, folder / "density_grid.png")}


@draw.register
def _(r: SteeredSample, folder: Path) -> dict[str, Path]:
    fig, ax = plt.subplots(figsize=(5.8, 5.2))
    if len(r.background):
        ax.scatter(r.background[:, 0], r.background[:, 1], s=1, c="0.85", zorder=0)
    sc = ax.scatter(r.trajectory[:, 0], r.trajectory[:, 1], c=r.ts, cmap="viridis", s=8, zorder=2)
    ax.plot(r.trajectory[:, 0], r.trajectory[:, 1], "-", color="0.6", lw=0.6, zorder=1)
    ax.scatter(*r.trajectory[0], marker="o", s=40, color="tab:blue", zorder=3, label="start z(1)")
    ax.scatter(*r.target, marker="x", s=120, color="red", zorder=4, label=f"target ({r.target[0]:g}, {r.target[1]:g})")
    ax.scatter(*r.final, marker="*", s=120, color="gold", edgecolor="k", zorder=5, label="output")
    _square(ax)
    lim = max(2.5, float(np.abs(r.trajectory).max()) * 1.1, float(np.abs(r.target).max()) * 1.1)
    _axes(ax, (-lim, lim), f"steered {r.sampler} trajectory (T={r.steps}): distance {r.distance:.4f} after {r.iterations} steps")
    fig.colorbar(sc, ax=ax, label="t", fraction=0.046)
    ax.legend(fontsize=7, loc="lower right")
    files = {"invert_figure": save(fig, folder / "invert.png")}
    files["invert_loss_figure"] = loss_curves(
        {"distance to target": (np.arange(1, len(r.losses) + 1), r.losses)}, folder / "invert_loss.png",
        "steering: distance of the sampler's output to the target", ylabel="distance", xlabel="Adam step")
    return files


@draw.register
def _(r: GuidanceSweep, folder: Path) -> dict[str, Path]:
    weights = list(dict.fromkeys(row.guidance for row in r.rows))
    items = [(f"W={row.guidance:g}, {row.where}\nown cell {row.own_region_mean:.3f}, within-cell TV {row.within_cell_tv:.3f}",
              row.points) for row in r.rows]
    n = len(r.rows[0].points)
    title = (f"classifier-free guidance: {n} samples per panel ({settings_text(r.settings)}, seed {r.seed}); "
             "rows: where guidance applies")
    return {"guidance_sweep_figure": panels(items, folder / "guidance_sweep.png", title, ncols=len(weights),
                                            labels=r.labels, n_classes=r.n_classes, lim=(-1.3, 1.3), grid=r.grid)}
