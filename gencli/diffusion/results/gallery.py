"""Other distributions: every built-in set, each with a model trained on it, measured the same way."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from gencli.core.results import DataFile, Result, Table
from gencli.diffusion.results.common import DataView
from gencli.diffusion.results.quality import SampleQuality

Z = 2.0


@dataclass
class GalleryRow:
    view: DataView
    data: np.ndarray  # (m, 2) training points shown
    samples: np.ndarray  # (n, 2)
    quality: SampleQuality
    train_s: float
    steps: int
    model_ll: float | None = None  # the model's exact log p, mean over fresh data points
    truth_ll: float | None = None  # the true log density's mean over the same points (None: unknown)
    ll_se: float | None = None  # the standard error of the difference of the two means
    ll_points: int = 0

    @property
    def ll_gap(self) -> float | None:
        """truth - model: an estimate of KL(data || model), >= 0 up to noise."""
        if self.model_ll is None or self.truth_ll is None:
            return None
        return self.truth_ll - self.model_ll


@dataclass
class Gallery(Result):
    """One model per built-in set: data beside samples, and one table of the same measures for all."""

    FIGURE: ClassVar[str] = "gallery_figure"  # the key of its figure in what `gencli.plots.draw` returns

    rows: list[GalleryRow]
    settings: dict

    def to_dict(self) -> dict:
        return {
            "gallery": [
                {
                    "data": r.view.name,
                    "tv_ratio": r.quality.ratio,
                    "tv": r.quality.tv,
                    "tv_floor": r.quality.floor,
                    "precision": r.quality.precision,
                    "recall": r.quality.recall,
                    "model_ll": r.model_ll,
                    "truth_ll": r.truth_ll,
                    "ll_gap": r.ll_gap,
                    "ll_se": r.ll_se,
                    "train_s": r.train_s,
                    "train_steps": r.steps,
                }
                for r in self.rows
            ]
        }

    def _values(self) -> list[tuple]:
        return [
            (
                r.view.name,
                r.quality.tv,
                r.quality.floor,
                r.quality.ratio,
                r.quality.precision,
                r.quality.recall,
                r.model_ll,
                r.truth_ll if r.truth_ll is not None else "unknown",
                r.train_s,
            )
            for r in self.rows
        ]

    COLUMNS = [
        ("set", ""),
        ("TV vs data", ".3f"),
        ("floor", ".3f"),
        ("x floor", ".2f"),
        ("precision", ".3f"),
        ("recall", ".3f"),
        ("exact mean log p", ".3f"),
        ("truth", ".3f"),
        ("train s", ".1f"),
    ]

    def tables(self) -> list[Table]:
        n = len(self.rows[0].samples) if self.rows else 0
        k = self.rows[0].quality.k if self.rows else 5
        return [
            Table(
                f"each set's model, {n:,} samples against as many fresh data points (k-NN with k = {k}); exact "
                "log p averaged over fresh data points",
                self.COLUMNS,
                self._values(),
            )
        ]

    def data_files(self) -> list[DataFile]:
        return [DataFile("gallery", "gallery.csv", [c.replace(" ", "_") for c, _ in self.COLUMNS], self._values())]

    def finding(self) -> str:
        if not self.rows:
            return "No set was trained."
        best = min(self.rows, key=lambda r: r.quality.ratio)
        worst = max(self.rows, key=lambda r: r.quality.ratio)
        low_p = [r for r in self.rows if r.quality.precision < r.quality.data_precision - 0.02]
        text = (
            f"Across {len(self.rows)} sets the samples' TV ranges from {best.quality.ratio:.2f}x its noise floor "
            f"({best.view.name}) to {worst.quality.ratio:.2f}x ({worst.view.name}); precision "
            f"{min(r.quality.precision for r in self.rows):.3f} to {max(r.quality.precision for r in self.rows):.3f}, "
            f"recall {min(r.quality.recall for r in self.rows):.3f} to {max(r.quality.recall for r in self.rows):.3f}."
        )
        if low_p:
            text += (
                " Precision falls more than 0.02 below what data against data gives for "
                + ", ".join(
                    f"{r.view.name} ({r.quality.precision:.3f} against {r.quality.data_precision:.3f})" for r in low_p
                )
                + ": samples off the data's edges."
            )
        known = [r for r in self.rows if r.ll_gap is not None]
        if known:
            parts = []
            for r in known:
                noisy = r.ll_se is not None and abs(r.ll_gap) <= Z * r.ll_se
                parts.append(f"{r.view.name} {r.ll_gap:+.3f}" + (" (within the noise)" if noisy else ""))
            text += (
                " Where the density is known, the truth's mean log density exceeds the model's exact one by "
                + ", ".join(parts)
                + " nats (an estimate of KL(data || model))."
            )
        unknown = [r.view.name for r in self.rows if r.ll_gap is None]
        if unknown:
            text += f" The density of {', '.join(unknown)} is unknown, so no truth stands beside its likelihood."
        return text


def _finite(v) -> bool:
    return v is not None and math.isfinite(v)
