"""The 2D point figures' shared parts: axes fixed to the data's view, its outline, point clouds coloured by class,
and panels side by side."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gencli.diffusion.results.common import DataView
from gencli.plots.common import plt, save, wrap

Limits = tuple[float, float, float, float]


def class_cmap(n_classes: int) -> str:
    return "tab10" if n_classes <= 10 else "tab20"


def class_colour(c: int, n_classes: int):
    return plt.get_cmap(class_cmap(n_classes))(c / max(n_classes - 1, 1))


def outline(ax, view: DataView | None, classes: bool = False) -> None:
    """The data's support (solid) and, with `classes`, the boundaries between its classes (dotted)."""
    if view is None:
        return
    for line in view.outline:
        ax.plot(line[:, 0], line[:, 1], "k-", lw=0.8)
    for line in view.boundaries if classes else ():
        ax.plot(line[:, 0], line[:, 1], "k:", lw=0.6)


def set_axes(ax, limits: Limits, title: str = "") -> None:
    x0, x1, y0, y1 = limits
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if title:
        ax.set_title(wrap(title, 48), fontsize=9)


def square_limits(half: float, centre=(0.0, 0.0)) -> Limits:
    return centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half


def reach_limits(view: DataView, *arrays: np.ndarray, quantile: float = 1.0, cap: float = 8.0) -> Limits:
    """The view widened, about its centre, to hold the points (their `quantile` of distances), at most `cap` times
    it."""
    x0, x1, y0, y1 = view.limits
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) / 2
    pts = np.concatenate([np.asarray(a).reshape(-1, 2) for a in arrays]) if arrays else np.zeros((0, 2))
    if len(pts):
        d = np.abs(pts - np.array([cx, cy])).max(axis=1)
        half = min(max(half, 1.05 * float(np.quantile(d, quantile))), cap * half)
    return square_limits(half, (cx, cy))


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
            cmap=class_cmap(n_classes),
            vmin=0,
            vmax=max(n_classes - 1, 1),
            alpha=0.7,
        )


def class_legend(ax, n_classes: int, name: str = "class") -> None:
    handles = [
        plt.Line2D([], [], marker="o", ls="", color=class_colour(c, n_classes), label=f"{name} {c}")
        for c in range(n_classes)
    ]
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), ncols=1 + n_classes // 16)


def points(
    pts: np.ndarray,
    path: Path,
    title: str,
    view: DataView,
    labels: np.ndarray | None = None,
    n_classes: int = 0,
    limits: Limits | None = None,
) -> Path:
    """One scatter of points over the data's outline, coloured by class when labels are given."""
    fig, ax = plt.subplots(figsize=(5.2, 5))
    scatter_points(ax, pts, labels, n_classes)
    outline(ax, view, classes=labels is not None)
    set_axes(ax, limits or view.limits, title)
    if labels is not None:
        class_legend(ax, n_classes)
    return save(fig, path)


def panels(
    items: Sequence[tuple[str, np.ndarray]],
    path: Path,
    title: str,
    view: DataView,
    ncols: int = 3,
    labels: np.ndarray | None = None,
    n_classes: int = 0,
    limits: Limits | Sequence[Limits] | None = None,
) -> Path:
    """Side-by-side scatters, on one shared set of axis limits (for comparisons) or one per panel."""
    n = len(items)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    per = limits if (limits is not None and isinstance(limits[0], (tuple, list))) else [limits or view.limits] * n
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 3.3 * nrows), squeeze=False)
    for ax, (name, pts), lim in zip(axes.flat, items, per):
        scatter_points(ax, pts, labels, n_classes)
        outline(ax, view, classes=labels is not None)
        set_axes(ax, lim, name)
    for ax in axes.flat[n:]:
        ax.axis("off")
    fig.suptitle(wrap(title, 40 * ncols))
    fig.tight_layout()
    return save(fig, path)
