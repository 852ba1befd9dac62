"""Figures of the diffusion half: data, samples, trajectories, schedules, likelihoods."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gencli.plots.common import plt, save

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
        ax.set_title(title, fontsize=9)


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
) -> Path:
    """Side-by-side scatters with fixed, shared axis limits (for comparisons)."""
    n = len(items)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 3.3 * nrows), squeeze=False)
    for ax, (name, pts) in zip(axes.flat, items):
        _scatter(ax, pts, labels, n_classes)
        _square(ax)
        _axes(ax, lim, name)
    for ax in axes.flat[n:]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)


def forward_path(path_pts: np.ndarray, ts: np.ndarray, path: Path, title: str) -> Path:
    """A forward-process trajectory (K, 2), points coloured by t."""
    fig, ax = plt.subplots(figsize=(5.6, 5))
    ax.plot(path_pts[:, 0], path_pts[:, 1], "-", color="0.7", lw=0.6, zorder=1)
    sc = ax.scatter(path_pts[:, 0], path_pts[:, 1], c=ts, cmap="viridis", s=10, zorder=2)
    ax.scatter(*path_pts[0], marker="*", s=150, c="red", label="x_0", zorder=3)
    _square(ax)
    _axes(ax, LIM, title)
    fig.colorbar(sc, ax=ax, label="t")
    ax.legend(loc="upper left")
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
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return save(fig, path)


def schedules(series: dict[str, tuple[np.ndarray, np.ndarray]], path: Path, title: str) -> Path:
    """sigma at each sampling step (left) and sigma over t (right) for named time grids."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for name, (ts, sig) in series.items():
        a.plot(np.arange(len(sig)), sig, marker=".", ms=3, label=name)
        b.plot(ts, sig, marker=".", ms=3, label=name)
    a.set_xlabel("sampling step i")
    b.set_xlabel("t")
    for ax in (a, b):
        ax.set_yscale("log")
        ax.set_ylabel("sigma")
        ax.grid(alpha=0.3)
        ax.legend()
    a.set_title("sigma per step")
    b.set_title("sigma(t) at the grid's times")
    fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)


def bound_overlay(
    data: np.ndarray, pts: np.ndarray, names: list[str], values: np.ndarray, path: Path, title: str,
    grid: tuple[int, int] = (0, 0),
) -> Path:
    """Query points over the training data, annotated with their bound on log p."""
    fig, ax = plt.subplots(figsize=(6, 5.4))
    ax.scatter(data[:, 0], data[:, 1], s=1, c="0.8", zorder=0)
    sc = ax.scatter(pts[:, 0], pts[:, 1], c=values, cmap="coolwarm_r", s=80, edgecolor="k", zorder=2)
    for (x, y), name, v in zip(pts, names, values):
        ax.annotate(f"{name}: {v:.2f}", (x, y), textcoords="offset points", xytext=(6, 6), fontsize=7)
    _square(ax, 1.0, *grid)
    lim = max(2.0, float(np.abs(pts).max()) + 0.5)
    _axes(ax, (-lim, lim), title)
    fig.colorbar(sc, ax=ax, label="lower bound on log p (nats)")
    return save(fig, path)
