"""Shared figure plumbing: the headless backend and an atomic PNG save."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from gencli.core.atomic import replacing  # noqa: E402


def save(fig, path: Path) -> Path:
    """Write the figure to `path` (via a temporary file and rename) and close it."""
    path = Path(path)
    try:
        with replacing(path) as tmp:
            fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    finally:
        plt.close(fig)
    return path


def wrap(title: str, width: int = 70) -> str:
    """A title broken into lines of at most `width` characters."""
    lines = []
    for line in title.split("\n"):  # explicit line breaks stay; each line is wrapped on its own
        printable = "".join(c if c.isprintable() else " " for c in line)  # control bytes a model wrote have no glyph
        lines.extend(textwrap.wrap(" ".join(printable.split()), width) or [""])
    return "\n".join(lines)


def excerpt(text: str, limit: int) -> str:
    """`text` with its whitespace collapsed, cut at a word boundary to at most `limit` characters (with "…")."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = textwrap.shorten(flat, limit, placeholder=" …")
    return cut if cut != "…" else flat[: limit - 1] + "…"  # a first word longer than the limit is cut inside


def loss_curves(
    curves: dict[str, tuple],
    path: Path,
    title: str,
    ylabel: str = "loss",
    logy: bool = True,
    xlabel: str = "training step",
    marks: dict[str, tuple[float, float]] | None = None,
    from_zero: bool = False,
    integer_x: bool = False,
) -> Path:
    """Line plot of named (steps, values) curves; `marks` labels single points (e.g. the best validation).
    `from_zero`: the y axis starts at 0 (a small drop does not look large); `integer_x`: whole-number x ticks."""
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for name, (xs, ys) in curves.items():
        ax.plot(xs, ys, label=name, lw=1, marker="." if len(xs) < 60 else None)
    for name, (x, y) in (marks or {}).items():
        ax.scatter([x], [y], s=60, marker="*", color="k", zorder=3, label=name)
    if logy:
        ax.set_yscale("log")
    elif from_zero:  # zero stays in view with a margin below it, so a curve that reaches 0 is not hidden by the frame
        finite = [v for _, ys in curves.values() for v in np.asarray(ys, dtype=float).ravel() if np.isfinite(v)]
        top = max(max(finite, default=1.0), 1e-9)
        ax.set_ylim(bottom=-0.04 * top, top=1.06 * top)
        ax.axhline(0, color="0.6", lw=0.6, zorder=0)
    if integer_x:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(wrap(title), fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)
