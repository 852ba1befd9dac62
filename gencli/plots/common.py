"""Shared figure plumbing: the headless backend and an atomic PNG save."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def save(fig, path: Path) -> Path:
    """Write the figure to `path` (via a temporary file and rename) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)
    os.replace(tmp, path)
    return path


def loss_curves(curves: dict[str, tuple], path: Path, title: str, ylabel: str = "loss", logy: bool = True) -> Path:
    """Line plot of named (steps, values) curves."""
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for name, (xs, ys) in curves.items():
        ax.plot(xs, ys, label=name, lw=1)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save(fig, path)
