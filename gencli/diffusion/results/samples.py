"""Samples and their quality (C4, C5), and the same sampler with nine seeds (U3)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from gencli.core.results import DataFile, Result, Table
from gencli.diffusion.results.common import DataView, settings_text, xy_rows
from gencli.diffusion.results.quality import SampleQuality

Z = 2.0  # a difference counts when it exceeds this many standard errors


def quality_columns(view: DataView) -> list[tuple[str, str]]:
    return [(f"inside {view.support}", ".3f"), *SampleQuality.COLUMNS]


def quality_values(q: SampleQuality) -> tuple:
    return (q.inside_fraction, *q.row())


@dataclass
class Samples(Result):
    """Samples with their quality figures (U3 panel, C4, C5)."""

    FIGURE: ClassVar[str] = "samples_figure"  # the key of its figure in what `gencli.plots.draw` returns
    CLASS_FIGURE: ClassVar[str] = "class_numbers_figure"

    points: np.ndarray
    labels: np.ndarray | None
    n_classes: int
    view: DataView
    settings: dict
    seed: int
    wall_s: float
    quality: SampleQuality
    own_region: list[float] | None = None
    spread: list[list[float]] | None = None
    data_spread: list[list[float]] | None = None

    @property
    def inside_fraction(self) -> float:
        return self.quality.inside_fraction

    @property
    def tv_distance(self) -> float:
        """The set's own TV: the square's from uniform (the exercise's figure), any other's against fresh data."""
        q = self.quality
        return q.square_tv if q.square_tv is not None else q.tv

    @property
    def own_mean(self) -> float:
        valid = [f for f in self.own_region or [] if f == f]
        return float(np.mean(valid)) if valid else float("nan")

    @property
    def own_worst(self) -> tuple[int, float]:
        valid = [(f, c) for c, f in enumerate(self.own_region or []) if f == f]
        f, c = min(valid) if valid else (float("nan"), -1)
        return c, f

    def to_dict(self) -> dict:
        q = self.quality
        d = {
            "n": len(self.points),
            "seed": self.seed,
            "data": self.view.name,
            **self.settings,
            "inside_fraction": self.inside_fraction,
            "tv_distance": self.tv_distance,
            "tv_data": q.tv,
            "tv_floor": q.floor,
            "tv_ratio": q.ratio,
            "precision": q.precision,
            "recall": q.recall,
            "quality": q.to_dict(),
            "wall_s": self.wall_s,
        }
        if self.own_region is not None:
            d.update(
                {
                    "own_region_fraction": self.own_region,
                    "own_region_mean": self.own_mean,
                    "own_region_worst": self.own_worst[1],
                    "spread": self.spread,
                    "data_spread": self.data_spread,
                }
            )
        return d

    def tables(self) -> list[Table]:
        q = self.quality
        cols, values = [("points", "d"), *quality_columns(self.view)], [len(self.points), *quality_values(q)]
        if q.square_tv is not None:
            cols.append(("TV from uniform (10x10)", ".3f"))
            values.append(q.square_tv)
        out = [
            Table(
                f"{len(self.points)} samples ({settings_text(self.settings)}, seed {self.seed})",
                [*cols, ("wall s", ".2f")],
                [(*values, self.wall_s)],
            )
        ]
        if self.own_region is not None:
            rows = [(c, f, *self.spread[c], *self.data_spread[c]) for c, f in enumerate(self.own_region)]
            out.append(
                Table(
                    f"own-{self.view.region} fraction per class (mean {self.own_mean:.3f}, worst "
                    f"{self.own_worst[1]:.3f})",
                    [
                        ("class", "d"),
                        (f"in own {self.view.region}", ".3f"),
                        ("std x", ".3f"),
                        ("std y", ".3f"),
                        ("data std x", ".3f"),
                        ("data std y", ".3f"),
                    ],
                    rows,
                )
            )
        return out

    def data_files(self) -> list[DataFile]:
        header = ["x", "y"] + (["label"] if self.labels is not None else [])
        return [DataFile("samples", "samples.csv", header, xy_rows(self.points, self.labels))]

    def quality_finding(self) -> str:
        """What the quality numbers say."""
        q, n = self.quality, len(self.points)
        text = f"{q.inside_fraction:.1%} of {n:,} samples land inside {self.view.support}. " + q.text()
        if q.square_tv is not None:
            text += (
                f" The exercise's figure: the 10x10 histogram is {q.square_tv:.3f} from uniform in total variation, "
                f"{q.square_tv / q.square_floor:.2f}x the {q.square_floor:.3f} that sampling noise alone gives at "
                f"{n:,} points."
            )
        return text

    def class_finding(self) -> str:
        """What the own-region fractions and the spreads say (conditional model)."""
        if self.own_region is None:
            return ""
        c, worst = self.own_worst
        ratio = np.nanmean(np.asarray(self.spread) / np.asarray(self.data_spread))
        return (
            f"On average {self.own_mean:.3f} of a class's samples {self.view.own_rule} (worst: class {c}, "
            f"{worst:.3f}); the samples' spread within a class is {ratio:.2f}x the training data's."
        )

    def finding(self) -> str:
        return " ".join(filter(None, (self.quality_finding(), self.class_finding())))


@dataclass
class SeedPanel:
    seed: int
    points: np.ndarray
    quality: SampleQuality

    @property
    def inside_fraction(self) -> float:
        return self.quality.inside_fraction

    @property
    def tv_distance(self) -> float:
        q = self.quality
        return q.square_tv if q.square_tv is not None else q.tv


@dataclass
class SeedsGrid(Result):
    """U3: the same sampler with 9 different seeds."""

    FIGURE: ClassVar[str] = "seeds_grid_figure"  # the key of its figure in what `gencli.plots.draw` returns

    panels: list[SeedPanel]
    labels: np.ndarray | None
    n_classes: int
    settings: dict
    view: DataView

    def to_dict(self) -> dict:
        return {
            "seeds_grid": [
                {
                    "seed": p.seed,
                    "inside_fraction": p.inside_fraction,
                    "tv_distance": p.tv_distance,
                    "tv_ratio": p.quality.ratio,
                    "precision": p.quality.precision,
                    "recall": p.quality.recall,
                }
                for p in self.panels
            ]
        }

    def tables(self) -> list[Table]:
        return [
            Table(
                f"{len(self.panels)} seeds ({settings_text(self.settings)})",
                [("seed", "d"), *quality_columns(self.view)],
                [(p.seed, *quality_values(p.quality)) for p in self.panels],
            )
        ]

    def data_files(self) -> list[DataFile]:
        rows = [(p.seed, *r) for p in self.panels for r in xy_rows(p.points, self.labels)]
        header = ["seed", "x", "y"] + (["label"] if self.labels is not None else [])
        return [DataFile("seeds_grid", "seeds_grid.csv", header, rows)]

    def finding(self) -> str:
        """The seeds' TVs against the data's noise floor: their mean against the floor by the standard error of that
        difference, and their spread against the spread two data draws show."""
        qs = [p.quality for p in self.panels]
        tv = np.array([q.tv for q in qs])
        floor, floor_sd, repeats = qs[0].floor, qs[0].floor_sd, qs[0].floor_repeats
        k = len(tv)
        mean, sd = float(tv.mean()), float(tv.std(ddof=1)) if k > 1 else 0.0
        se = math.hypot(sd / math.sqrt(k), floor_sd / math.sqrt(repeats))
        above = int((tv > floor).sum())
        text = (
            f"Across {k} seeds of {len(self.panels[0].points):,} points the TV against fresh data ranges "
            f"{tv.min():.3f} to {tv.max():.3f} (mean {mean:.3f}); two data draws of these sizes differ by "
            f"{floor:.3f} on average (sd {floor_sd:.3f}) from sampling noise alone, and {above} of the {k} seeds lie "
            "above that."
        )
        if mean - floor > Z * se:
            text += (
                f" The mean is {mean / floor:.2f}x the floor, {(mean - floor) / se:.1f} standard errors above it: the "
                "model's own error shows through the sampling noise."
            )
        else:
            text += (
                f" The mean is within {Z:g} standard errors ({se:.3f}) of the floor: at this sample size the "
                "samples cannot be told from the data."
            )
        if k > 1 and floor_sd > 0:
            spread = sd / floor_sd
            text += f" The seeds scatter {spread:.1f}x as much as data draws do" + (
                ": about what sampling noise gives." if spread <= 1.5 else ": more than sampling noise alone."
            )
        return text
