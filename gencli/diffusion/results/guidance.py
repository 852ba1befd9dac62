"""Classifier-free guidance at several weights (C7): class fidelity against diversity within each class."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from gencli.core.results import DataFile, Result, Table
from gencli.diffusion.results.common import (
    change,
    moves,
    settings_text,
)


@dataclass
class GuidanceRow:
    guidance: float
    interval: tuple[float, float]
    own_region_mean: float
    own_region_worst: float
    within_cell_tv: float
    inside_fraction: float
    wall_s: float
    points: np.ndarray

    @property
    def where(self) -> str:
        lo, hi = self.interval
        return "every step" if (lo, hi) == (0.0, 1.0) else f"t in [{lo:g}, {hi:g}]"


@dataclass
class GuidanceSweep(Result):
    """Classifier-free guidance: class fidelity (own cell) against diversity (within-cell evenness) per weight W."""

    FIGURE: ClassVar[str] = "guidance_sweep_figure"  # the key of its figure in what `gencli.plots.draw` returns

    rows: list[GuidanceRow]
    labels: np.ndarray
    n_classes: int
    grid: tuple[int, int]
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
                    "within_cell_tv": r.within_cell_tv,
                    "inside_fraction": r.inside_fraction,
                    "wall_s": r.wall_s,
                }
                for r in self.rows
            ]
        }

    def _values(self) -> list[tuple]:
        return [
            (r.where, r.guidance, r.own_region_mean, r.own_region_worst, r.within_cell_tv, r.inside_fraction)
            for r in self.rows
        ]

    def tables(self) -> list[Table]:
        return [
            Table(
                f"classifier-free guidance, {len(self.rows[0].points)} samples ({settings_text(self.settings)}, seed "
                f"{self.seed})",
                [
                    ("guidance applied", ""),
                    ("W", ".1f"),
                    ("own cell (mean)", ".3f"),
                    ("own cell (worst)", ".3f"),
                    ("within-cell TV (4x4)", ".3f"),
                    ("inside square", ".3f"),
                ],
                self._values(),
            )
        ]

    def data_files(self) -> list[DataFile]:
        return [
            DataFile(
                "guidance_sweep",
                "guidance_sweep.csv",
                [
                    "guidance_applied",
                    "guidance",
                    "own_region_mean",
                    "own_region_worst",
                    "within_cell_tv",
                    "inside_fraction",
                ],
                self._values(),
            )
        ]

    def best(self, evenness_factor: float = 1.5) -> GuidanceRow | None:
        """The row with the highest own-cell fraction whose evenness stays within `evenness_factor` of W = 0's."""
        base = next((r for r in self.rows if r.guidance == 0), None)
        if base is None:
            return None
        ok = [r for r in self.rows if r.within_cell_tv <= evenness_factor * base.within_cell_tv]
        return max(ok, key=lambda r: (r.own_region_mean, -r.guidance)) if ok else None

    def finding(self) -> str:
        base = next((r for r in self.rows if r.guidance == 0), None)
        if base is None:
            return ""
        text = (
            f"Without guidance {base.own_region_mean:.3f} of the samples land in their own cell (within-cell TV "
            f"{base.within_cell_tv:.3f})."
        )
        best = self.best()
        if best is not None and best.guidance:
            text += (
                f" Guidance W = {best.guidance:g} ({best.where}) {moves(base.own_region_mean, best.own_region_mean)} "
                f"the own-cell fraction to {best.own_region_mean:.3f}, and the within-cell TV "
                f"{change(base.within_cell_tv, best.within_cell_tv)}."
            )
        every = [r for r in self.rows if r.where == "every step" and r.guidance > 0]
        if every and every[-1].interval != (best.interval if best else None):
            r = every[-1]
            if r.within_cell_tv > 1.5 * base.within_cell_tv:
                what = (
                    "pulls each class's samples toward the centre of its cell: the within-cell TV "
                    f"{change(base.within_cell_tv, r.within_cell_tv)}"
                )
            else:
                what = (
                    "keeps the spread within the cells: the within-cell TV "
                    f"{change(base.within_cell_tv, r.within_cell_tv)}"
                )
            text += (
                f" Guidance at every step with W = {r.guidance:g} gives {r.own_region_mean:.3f} in the own cell and "
                f"{what}."
            )
        return text
