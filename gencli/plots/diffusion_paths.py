"""Figures of trajectories: the forward process (U1), reverse paths (U6, C3), determinism (U6), the bonus."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gencli.diffusion.results import (
    Determinism,
    ForwardPath,
    ReversePaths,
    SamplerInversion,
)
from gencli.diffusion.results.common import DataView, settings_text
from gencli.plots.common import loss_curves, plt, save
from gencli.plots.figures import draw
from gencli.plots.scatter import class_colour, outline, reach_limits, set_axes


def forward_path(path_pts: np.ndarray, ts: np.ndarray, path: Path, title: str, view: DataView) -> Path:
    """A forward-process trajectory (K, 2), points coloured by t."""
    fig, ax = plt.subplots(figsize=(5.6, 5))
    ax.plot(path_pts[:, 0], path_pts[:, 1], "-", color="0.7", lw=0.6, zorder=1)
    sc = ax.scatter(path_pts[:, 0], path_pts[:, 1], c=ts, cmap="viridis", s=10, zorder=2)
    ax.scatter(*path_pts[0], marker="*", s=150, facecolor="none", edgecolor="red", label="x_0", zorder=3)
    outline(ax, view)
    set_axes(ax, reach_limits(view, path_pts), title)
    fig.colorbar(sc, ax=ax, label="t")
    # the first half of the path stays within a few hundredths of x_0: an inset, in the corner away from x_0, shows it
    # at its own scale; the legend takes another free corner
    x0, x1, y0, y1 = view.limits
    right, top = path_pts[0][0] < (x0 + x1) / 2, path_pts[0][1] < (y0 + y1) / 2
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
    view: DataView | None,
    labels: np.ndarray | None = None,
    n_classes: int = 0,
    background: np.ndarray | None = None,
    label_name: str = "class",
) -> Path:
    """Reverse trajectories (K, N, 2): one line per point from its start (o) to its end (*).

    Lines with the same label share a colour and one legend entry ("{label_name} {label}").
    """
    fig, ax = plt.subplots(figsize=(5.6, 5))
    if background is not None:
        ax.scatter(background[:, 0], background[:, 1], s=1, c="0.85", zorder=0)
    named = set()
    for j in range(traj.shape[1]):
        color = class_colour(int(labels[j]), n_classes) if labels is not None else plt.get_cmap("tab10")(j % 10)
        name = f"{label_name} {labels[j]}" if labels is not None else f"point {j}"
        ax.plot(traj[:, j, 0], traj[:, j, 1], "-", color=color, lw=1, label=None if name in named else name)
        named.add(name)
        ax.scatter(*traj[0, j], marker="o", color=color, s=25)
        ax.scatter(*traj[-1, j], marker="*", color=color, s=120, edgecolor="k", zorder=3)
    outline(ax, view, classes=labels is not None and label_name == "class")
    set_axes(ax, reach_limits(view, traj) if view is not None else _bounding(traj), title)
    ax.scatter([], [], marker="o", color="0.4", s=25, label="start, z(1)")
    ax.scatter([], [], marker="*", color="0.4", s=120, edgecolor="k", label="end, z(0)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return save(fig, path)


def _bounding(traj: np.ndarray):
    lim = max(2.5, float(np.abs(traj).max()) * 1.05)
    return -lim, lim, -lim, lim


@draw.register
def _(r: ForwardPath, folder: Path) -> dict[str, Path]:
    title = f"forward process from ({r.start[0]:g}, {r.start[1]:g}): {r.formula}, {len(r.ts) - 1} steps"
    return {r.FIGURE: forward_path(r.path, r.ts, folder / "forward.png", title, r.view)}


@draw.register
def _(r: ReversePaths, folder: Path) -> dict[str, Path]:
    what = "one point per class" if r.labels is not None else f"{r.traj.shape[1]} reverse trajectories"
    return {
        r.FIGURE: trajectories(
            r.traj,
            folder / "reverse.png",
            f"{what} ({settings_text(r.settings)}, seed {r.seed})",
            r.view,
            labels=r.labels,
            n_classes=r.n_classes,
            background=r.background,
        )
    }


@draw.register
def _(r: Determinism, folder: Path) -> dict[str, Path]:
    reps, k, p, _ = r.paths.shape
    traj = np.concatenate([r.paths[i] for i in range(reps)], axis=1)  # (K, R*P, 2)
    verdict = f"all {reps} identical" if r.identical else f"{r.n_identical} of {reps - 1} repeats equal the first run"
    return {
        r.FIGURE: trajectories(
            traj,
            folder / "determinism.png",
            f"{p} points, same initial noise, {reps} runs of {r.sampler} (T={r.steps}): {verdict}, max |diff| "
            f"{r.max_abs_diff:.3g}",
            r.view,
            labels=np.tile(np.arange(p), reps),
            n_classes=10,
            label_name="point",
        )
    }


@draw.register
def _(r: SamplerInversion, folder: Path) -> dict[str, Path]:
    fig, ax = plt.subplots(figsize=(5.8, 5.2))
    if len(r.background):
        ax.scatter(r.background[:, 0], r.background[:, 1], s=1, c="0.85", zorder=0)
    sc = ax.scatter(r.trajectory[:, 0], r.trajectory[:, 1], c=r.ts, cmap="viridis", s=8, zorder=2)
    ax.plot(r.trajectory[:, 0], r.trajectory[:, 1], "-", color="0.6", lw=0.6, zorder=1)
    ax.scatter(*r.trajectory[0], marker="o", s=40, color="tab:blue", zorder=3, label="start z(1)")
    ax.scatter(*r.target, marker="x", s=120, color="red", zorder=4, label=f"target ({r.target[0]:g}, {r.target[1]:g})")
    ax.scatter(*r.final, marker="*", s=120, color="gold", edgecolor="k", zorder=5, label="output")
    outline(ax, r.view)
    set_axes(
        ax,
        reach_limits(r.view, r.trajectory, np.asarray(r.target)[None], np.asarray(r.final)[None]),
        f"inverted {r.sampler} trajectory (T={r.steps}): distance {r.distance:.4f} after {r.iterations} steps",
    )
    fig.colorbar(sc, ax=ax, label="t", fraction=0.046)
    ax.legend(fontsize=7, loc="lower right")
    files = {r.FIGURE: save(fig, folder / "invert.png")}
    files[r.LOSS_FIGURE] = loss_curves(
        {"distance to target": (np.arange(1, len(r.losses) + 1), r.losses)},
        folder / "invert_loss.png",
        "inversion: distance of the sampler's output to the target",
        ylabel="distance",
        xlabel="Adam step",
    )
    return files
