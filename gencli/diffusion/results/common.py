"""What several diffusion results share: the TV noise floor, the sampler settings as text, points as CSV rows, and
the words that compare two numbers."""

from __future__ import annotations

import numpy as np

HIST_BINS = 100  # the 10x10 histogram of the TV distance


def tv_noise_floor(n: int, bins: int = HIST_BINS) -> float:
    """Expected TV distance from uniform of the histogram of n truly uniform points (sampling noise alone):
    (1/2) sum_b E|p_b - 1/B| with p_b ~ Binomial(n, 1/B) / n, ~ sqrt((B - 1) / (2 pi n)) (0.040 at 10,000 points,
    0.126 at 1,000)."""
    return float(np.sqrt((bins - 1) / (2 * np.pi * n)))


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
