"""Classifier-free guidance at several weights (C7): class fidelity against diversity within each class."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from gencli.core.results import DataFile, Result, Table
from gencli.diffusion.results.common import DataView, change, moves, settings_text
from gencli.diffusion.results.quality import SampleQuality


@dataclass
class GuidanceRow:
    guidance: float
    interval: tuple[float, float]
    own_region_mean: float
    own_region_worst: float
    within_region_tv: float
    quality: SampleQuality
    wall_s: float
    points: np.ndarray
    centre_ratio: float = float("nan")  # own-region samples' distance from their class's centre, over the data's

    @property
    def where(self) -> str:
        lo, hi = self.interval
        return "every step" if (lo, hi) == (0.0, 1.0) else f"t in [{lo:g}, {hi:g}]"

    @property
    def inside_fraction(self) -> float:
        return self.quality.inside_fraction


@dataclass
class GuidanceSweep(Result):
    """Classifier-free guidance: class fidelity (own region) against diversity (within-region evenness) per weight W."""

    FIGURE: ClassVar[str] = "guidance_sweep_figure"  # the key of its figure in what `gencli.plots.draw` returns

    rows: list[GuidanceRow]
    labels: np.ndarray
    n_classes: int
    view: DataView
    settings: dict
    seed: int

    def to_dict(self) -> dict:
        return {
            "guidance_sweep": [
                {
                    "guidance": r.guidance,
                    "interval": list(r.interval),
                    "own_region_mean": r.own_region_mean,
                    "own_region_worst": r.own_region_worst,
                    "within_region_tv": r.within_region_tv,
                    "centre_ratio": r.centre_ratio,
                    "inside_fraction": r.inside_fraction,
                    "tv_ratio": r.quality.ratio,
                    "precision": r.quality.precision,
                    "recall": r.quality.recall,
                    "wall_s": r.wall_s,
                }
                for r in self.rows
            ]
        }

    def _columns(self) -> list[tuple[str, str]]:
        region = self.view.region
        return [
            ("guidance applied", ""),
            ("W", ".1f"),
            (f"own {region} (mean)", ".3f"),
            (f"own {region} (worst)", ".3f"),
            (f"within-{region} TV (4x4)", ".3f"),
            ("from centre", ".2f"),
            ("x floor", ".2f"),
            ("precision", ".3f"),
            ("recall", ".3f"),
        ]

    def _values(self) -> list[tuple]:
        return [
            (
                r.where,
                r.guidance,
                r.own_region_mean,
                r.own_region_worst,
                r.within_region_tv,
                r.centre_ratio,
                r.quality.ratio,
                r.quality.precision,
                r.quality.recall,
            )
            for r in self.rows
        ]

    def tables(self) -> list[Table]:
        n = len(self.rows[0].points)
        return [
            Table(
                f"classifier-free guidance, {n} samples ({settings_text(self.settings)}, seed {self.seed}); from "
                "centre: distance from the class's centre over the data's",
                self._columns(),
                self._values(),
            )
        ]

    def data_files(self) -> list[DataFile]:
        header = [
            "guidance_applied",
            "guidance",
            "own_region_mean",
            "own_region_worst",
            "within_region_tv",
            "centre_ratio",
            "tv_ratio",
            "precision",
            "recall",
        ]
        return [DataFile("guidance_sweep", "guidance_sweep.csv", header, self._values())]

    def best(self, evenness_factor: float = 1.5) -> GuidanceRow | None:
        """The row with the highest own-region fraction whose evenness stays within `evenness_factor` of W = 0's."""
        base = next((r for r in self.rows if r.guidance == 0), None)
        if base is None:
            return None
        ok = [r for r in self.rows if r.within_region_tv <= evenness_factor * base.within_region_tv]
        return max(ok, key=lambda r: (r.own_region_mean, -r.guidance)) if ok else None

    def _where_to(self, r: GuidanceRow, base: GuidanceRow) -> str:
        """Where guidance moves the samples within their regions, from the distance to the class centres."""
        if not (np.isfinite(r.centre_ratio) and np.isfinite(base.centre_ratio)):
            return ""
        d = r.centre_ratio - base.centre_ratio
        if abs(d) <= 0.05 * base.centre_ratio:
            return "leaves their distance from the class centres as it was"
        return (
            f"pulls each class's samples toward the centre of its {self.view.region} (distance from it "
            f"{base.centre_ratio:.2f} -> {r.centre_ratio:.2f} of the data's)"
            if d < 0
            else f"pushes each class's samples out toward the edges of its {self.view.region} (distance from its "
            f"centre {base.centre_ratio:.2f} -> {r.centre_ratio:.2f} of the data's)"
        )

    def finding(self) -> str:
        base = next((r for r in self.rows if r.guidance == 0), None)
        if base is None:
            return ""
        region = self.view.region
        text = (
            f"Without guidance {base.own_region_mean:.3f} of the samples {self.view.own_rule} (worst class "
            f"{base.own_region_worst:.3f}; within-{region} TV {base.within_region_tv:.3f})."
        )
        for where in dict.fromkeys(r.where for r in self.rows):
            group = [r for r in self.rows if r.where == where and r.guidance > 0]
            if not group:
                continue
            peak = max(group, key=lambda r: r.own_region_mean)
            top = max(group, key=lambda r: r.guidance)
            text += (
                f" With guidance {where}, the own-{region} fraction peaks at W = {peak.guidance:g} "
                f"({peak.own_region_mean:.3f}, {moves(base.own_region_mean, peak.own_region_mean)} from W = 0)"
            )
            worse = top.own_region_worst < base.own_region_worst
            text += (
                f"; at W = {top.guidance:g} the worst class has {top.own_region_worst:.3f}, "
                f"{'below' if worse else 'at or above'} its {base.own_region_worst:.3f} without guidance, the "
                f"within-{region} TV {change(base.within_region_tv, top.within_region_tv)}"
            )
            where_to = self._where_to(top, base)
            text += (f", it {where_to}" if where_to else "") + (
                f", and the samples are {top.quality.ratio:.2f}x the noise floor from the data (W = 0: "
                f"{base.quality.ratio:.2f}x)."
            )
        best = self.best()
        if best is not None and best.guidance:
            text += (
                f" The most class fidelity at an evenness within 1.5x of W = 0's: W = {best.guidance:g} "
                f"({best.where}), {best.own_region_mean:.3f}."
            )
        return text
