"""What several diffusion results share: how a data set looks in a figure and reads in a sentence, the square's
TV noise floor, the sampler settings as text, points as CSV rows, and the words that compare two numbers."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

HIST_BINS = 100  # the square's 10x10 histogram of the TV distance from uniform


@dataclass(frozen=True)
class DataView:
    """A data set as the figures draw it and the findings name it (no torch: results carry it)."""

    name: str  # "square", "moons", "points", ...
    title: str  # "uniform in the square [-1, 1]^2"
    limits: tuple[float, float, float, float]  # x0, x1, y0, y1 of a view that shows it with room around it
    outline: tuple = field(default=(), compare=False)  # polylines (K, 2) of its support
    boundaries: tuple = field(default=(), compare=False)  # polylines between its classes
    support: str = "the data"  # "the square": where points count as inside
    region: str = "region"  # what one class's points are: "cell", "moon", ...
    own_rule: str = "land in their own region"
    bounded: bool = False


@functools.cache
def tv_noise_floor(n: int, cells: int = HIST_BINS) -> float:
    """The expected TV from uniform of the histogram of n truly uniform points (sampling noise alone), exactly:
    (cells / 2) E|K/n - 1/cells| with K ~ Binomial(n, 1/cells). About sqrt((cells - 1) / (2 pi n)) for large n (0.040
    at 10,000 points), and never above 1 at small n (0.99 at one point)."""
    from scipy.stats import binom

    k = np.arange(n + 1)
    return float(cells / 2 * np.sum(np.abs(k / n - 1 / cells) * binom.pmf(k, n, 1 / cells)))


def settings_text(s: dict) -> str:
    """'euler, uniform grid, T=1000, matched start' from a settings dict."""
    text = f"{s['sampler']}, {s['schedule']} grid, T={s['steps']}, {s['start']} start"
    if s.get("guidance"):
        text += f", guidance {s['guidance']:g}"
    return text


def xy_rows(points: np.ndarray, labels: np.ndarray | None) -> list[tuple]:
    if labels is None:
        return [(float(x), float(y)) for x, y in points]
    return [(float(x), float(y), int(c)) for (x, y), c in zip(points, labels)]


def sentence(text: str) -> str:
    """`text` with its first letter in capitals and a full stop (str.capitalize would lower the rest)."""
    return text[:1].upper() + text[1:] + "."


def moves(before: float, after: float) -> str:
    return "raises" if after > before else ("lowers" if after < before else "keeps")


def change(before: float, after: float) -> str:
    """'rises 21% (0.100 -> 0.121)' and the like, computed."""
    if before == 0 or abs(after - before) <= 0.02 * abs(before):
        return f"stays within 2% ({before:.3f} -> {after:.3f})"
    verb = "rises" if after > before else "falls"
    return f"{verb} {abs(after / before - 1):.0%} ({before:.3f} -> {after:.3f})"
