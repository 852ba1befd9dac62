"""The 2D point figures' shared parts: fixed axes, the data's outline, point clouds coloured by class, panels."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gencli.plots.common import plt, save, wrap

LIM = (-2.5, 2.5)
CMAP = "tab10"


def outline(ax, half_width: float = 1.0, rows: int = 0, cols: int = 0) -> None:
    h = half_width
    ax.plot([-h, h, h, -h, -h], [-h, -h, h, h, -h], "k-", lw=0.8)
    for r in range(1, rows):
        y = -h + 2 * h * r / rows
        ax.plot([-h, h], [y, y], "k:", lw=0.6)
    for c in range(1, cols):
        x = -h + 2 * h * c / cols
        ax.plot([x, x], [-h, h], "k:", lw=0.6)


def set_axes(ax, lim=LIM, title: str = "") -> None:
    ax.set_xlim(*lim)
    ax.set_ylim(*lim)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if title:
        ax.set_title(wrap(title, 48), fontsize=9)


def scatter_points(ax, pts: np.ndarray, labels: np.ndarray | None, n_classes: int) -> None:
    size = float(np.clip(8000 / max(len(pts), 1), 1.0, 4.0))  # dense clouds need small markers to show density
    if labels is None:
        ax.scatter(pts[:, 0], pts[:, 1], s=size, alpha=0.6, linewidths=0)
    else:
        ax.scatter(
            pts[:, 0],
            pts[:, 1],
            s=size,
            linewidths=0,
            c=labels,
            cmap=CMAP,
            vmin=0,
            vmax=max(n_classes - 1, 1),
            alpha=0.7,
        )


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
    scatter_points(ax, pts, labels, n_classes)
    outline(ax, 1.0, *grid)
    set_axes(ax, lim, title)
    if labels is not None:
        handles = [
            plt.Line2D(
                [], [], marker="o", ls="", color=plt.get_cmap(CMAP)(c / max(n_classes - 1, 1)), label=f"class {c}"
            )
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
        scatter_points(ax, pts, labels, n_classes)
        outline(ax, 1.0, *grid)
        set_axes(ax, lim, name)
    for ax in axes.flat[n:]:
        ax.axis("off")
    fig.suptitle(wrap(title, 40 * ncols))
    fig.tight_layout()
    return save(fig, path)
