"""Figures of the likelihoods (C6): the bound at chosen points over the data, and the exact density on a grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.colors import SymLogNorm

from gencli.diffusion.results import (
    DensityGrid,
    FlowProbabilityTable,
    ProbabilityTable,
)
from gencli.diffusion.results.common import DataView
from gencli.plots.common import plt, save, wrap
from gencli.plots.figures import draw
from gencli.plots.scatter import outline, reach_limits, set_axes


def bound_overlay(
    data: np.ndarray,
    pts: np.ndarray,
    names: list[str],
    values: np.ndarray,
    errors: np.ndarray,
    path: Path,
    title: str,
    view: DataView,
    classes: bool = False,
    what: str = "lower bound on log p",
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
    places: dict[tuple[float, float], list[int]] = {}
    for i, (x, y) in enumerate(pts):
        places.setdefault((round(float(x), 6), round(float(y), 6)), []).append(i + 1)
    # points at one place (one location under two classes) are drawn side by side, so that no marker hides another
    x0, x1, _, _ = view.limits
    shown = pts.astype(float).copy()
    for (x, _y), idx in places.items():
        for j, i in enumerate(idx):
            shown[i - 1, 0] = x + (j - (len(idx) - 1) / 2) * 0.035 * (x1 - x0)
    sc = ax.scatter(shown[:, 0], shown[:, 1], c=values, cmap="viridis", norm=norm, s=70, edgecolor="k", zorder=2)
    for (x, y), idx in places.items():
        ax.annotate(
            ", ".join(map(str, idx)), (x, y), textcoords="offset points", xytext=(7, 5), fontsize=9, weight="bold"
        )
    outline(ax, view, classes)
    set_axes(ax, reach_limits(view, pts, quantile=1.0), "")
    fig.colorbar(sc, ax=ax, label=f"{what} (nats, symmetric-log scale)", fraction=0.046)
    side.axis("off")
    if errors is None:
        lines = [f"{i + 1:>2}  {name:<18} {v:>9.2f}" for i, (name, v) in enumerate(zip(names, values))]
    else:
        lines = [
            f"{i + 1:>2}  {name:<18} {v:>9.2f} ± {e:.2f}" for i, (name, v, e) in enumerate(zip(names, values, errors))
        ]
    head = "bound (nats)" if errors is not None else "log p (nats)"
    side.text(
        0.0,
        1.0,
        f"#   point              {head}\n" + "\n".join(lines),
        family="monospace",
        fontsize=9,
        va="top",
        transform=side.transAxes,
    )
    fig.suptitle(wrap(title, 100), fontsize=11)
    fig.tight_layout()
    return save(fig, path)


@draw.register
def _(r: ProbabilityTable, folder: Path) -> dict[str, Path]:
    pts = np.array([[row["x"], row["y"]] for row in r.rows])
    names = [f"({row['x']:g}, {row['y']:g})" + (f" c={row['class']}" if r.conditional else "") for row in r.rows]
    values = np.array([row["elbo"] for row in r.rows])
    errors = np.array([row["stderr"] for row in r.rows])
    title = (
        f"lower bound on log p(x{' | c' if r.conditional else ''}), T={r.steps}, {r.samples} Monte Carlo samples per "
        "point"
    )
    figure = bound_overlay(r.background, pts, names, values, errors, folder / "prob.png", title, r.view, r.conditional)
    return {r.FIGURE: figure}


@draw.register
def _(r: FlowProbabilityTable, folder: Path) -> dict[str, Path]:
    pts = np.array([[row["x"], row["y"]] for row in r.rows])
    names = [f"({row['x']:g}, {row['y']:g})" + (f" c={row['class']}" if r.conditional else "") for row in r.rows]
    values = np.array([row["exact_logp"] for row in r.rows])
    title = f"exact log p(x{' | c' if r.conditional else ''}) of the {r.objective} model (its ODE, exact divergence)"
    what = "exact log p"
    figure = bound_overlay(
        r.background, pts, names, values, None, folder / "prob.png", title, r.view, r.conditional, what
    )
    return {r.FIGURE: figure}


@draw.register
def _(r: DensityGrid, folder: Path) -> dict[str, Path]:
    known = r.truth is not None
    fig, axes = plt.subplots(1, 2 if known else 1, figsize=(10.5 if known else 6.0, 4.6), squeeze=False)
    axes = axes[0]
    finite = r.truth[np.isfinite(r.truth)] if known else np.zeros(0)
    model_top = float(np.nanmax(r.logp))
    lo = (float(finite.min()) if len(finite) else model_top) - 8.0
    hi = max(float(finite.max()) + 1.0, model_top) if len(finite) else model_top + 1.0
    extent = (r.xs[0], r.xs[-1], r.ys[0], r.ys[-1])
    panes = [(axes[0], r.logp, "the model: exact log p (probability-flow ODE)")]
    if known:
        truth = np.where(np.isfinite(r.truth), r.truth, lo)  # minus infinity drawn at the bottom of the scale
        panes.append((axes[1], truth, "the data: true log p (minus infinity outside)"))
    for ax, values, name in panes:
        im = ax.imshow(np.clip(values, lo, hi), origin="lower", extent=extent, cmap="viridis", vmin=lo, vmax=hi)
        outline(ax, r.view, classes=r.klass is not None)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title(name, fontsize=10)
    fig.colorbar(im, ax=list(axes), fraction=0.03, label=f"log p (nats; clipped below at {lo:.1f})")
    what = f"log p(x | class {r.klass})" if r.klass is not None else "log p(x)"
    unknown = "" if known else "; the set's true density is unknown"
    fig.suptitle(
        wrap(
            f"{what} on a {len(r.xs)}x{len(r.ys)} grid ({r.start} start as the prior, {r.nfe} ODE "
            f"evaluations){unknown}",
            110,
        ),
        fontsize=11,
    )
    return {r.FIGURE: save(fig, folder / "density_grid.png")}
