"""Samples and their quality (C4, C5), and the same sampler with nine seeds (U3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from gencli.core.results import DataFile, Result, Table
from gencli.diffusion.results.common import (
    settings_text,
    tv_noise_floor,
    xy_rows,
)


@dataclass
class Samples(Result):
    """Samples with their quality figures (U3 panel, C4, C5)."""

    FIGURE: ClassVar[str] = "samples_figure"  # the key of its figure in what `gencli.plots.draw` returns
    CLASS_FIGURE: ClassVar[str] = "class_numbers_figure"

    points: np.ndarray
    labels: np.ndarray | None
    n_classes: int
    grid: tuple[int, int]
    settings: dict
    seed: int
    wall_s: float
    inside_fraction: float
    tv_distance: float
    own_region: list[float] | None = None
    spread: list[list[float]] | None = None
    data_spread: list[list[float]] | None = None

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
        d = {
            "n": len(self.points),
            "seed": self.seed,
            **self.settings,
            "inside_fraction": self.inside_fraction,
            "tv_distance": self.tv_distance,
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
        out = [
            Table(
                f"{len(self.points)} samples ({settings_text(self.settings)}, seed {self.seed})",
                [("points", "d"), ("inside square", ".3f"), ("TV from uniform (10x10)", ".3f"), ("wall s", ".2f")],
                [(len(self.points), self.inside_fraction, self.tv_distance, self.wall_s)],
            )
        ]
        if self.own_region is not None:
            rows = [(c, f, *self.spread[c], *self.data_spread[c]) for c, f in enumerate(self.own_region)]
            out.append(
                Table(
                    f"own-cell fraction per class (mean {self.own_mean:.3f}, worst {self.own_worst[1]:.3f})",
                    [
                        ("class", "d"),
                        ("in own cell", ".3f"),
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
        return [
            DataFile(
                "samples",
                "samples.csv",
                ["x", "y"] + (["label"] if self.labels is not None else []),
                xy_rows(self.points, self.labels),
            )
        ]

    def quality_finding(self) -> str:
        """What the inside fraction and the TV distance say."""
        n = len(self.points)
        floor = tv_noise_floor(n)
        return (
            f"{self.inside_fraction:.1%} of {n:,} samples land inside the square; the 10x10 histogram is "
            f"{self.tv_distance:.3f} from uniform in total variation, {self.tv_distance / floor:.1f}x the "
            f"{floor:.3f} that sampling noise alone gives at {n:,} points."
        )

    def class_finding(self) -> str:
        """What the own-cell fractions and the spreads say (conditional model)."""
        if self.own_region is None:
            return ""
        c, worst = self.own_worst
        ratio = np.nanmean(np.asarray(self.spread) / np.asarray(self.data_spread))
        return (
            f"On average {self.own_mean:.3f} of a class's samples land in its own cell (worst: class {c}, "
            f"{worst:.3f}); "
            f"the samples' spread within a class is {ratio:.2f}x the training data's."
        )

    def finding(self) -> str:
        return " ".join(filter(None, (self.quality_finding(), self.class_finding())))


@dataclass
class SeedPanel:
    seed: int
    points: np.ndarray
    inside_fraction: float
    tv_distance: float


@dataclass
class SeedsGrid(Result):
    """U3: the same sampler with 9 different seeds."""

    FIGURE: ClassVar[str] = "seeds_grid_figure"  # the key of its figure in what `gencli.plots.draw` returns

    panels: list[SeedPanel]
    labels: np.ndarray | None
    n_classes: int
    settings: dict

    def to_dict(self) -> dict:
        return {
            "seeds_grid": [
                {"seed": p.seed, "inside_fraction": p.inside_fraction, "tv_distance": p.tv_distance}
                for p in self.panels
            ]
        }

    def tables(self) -> list[Table]:
        return [
            Table(
                f"{len(self.panels)} seeds ({settings_text(self.settings)})",
                [("seed", "d"), ("inside square", ".3f"), ("TV from uniform", ".3f")],
                [(p.seed, p.inside_fraction, p.tv_distance) for p in self.panels],
            )
        ]

    def data_files(self) -> list[DataFile]:
        rows = [(p.seed, *r) for p in self.panels for r in xy_rows(p.points, self.labels)]
        return [
            DataFile(
                "seeds_grid",
                "seeds_grid.csv",
                ["seed", "x", "y"] + (["label"] if self.labels is not None else []),
                rows,
            )
        ]

    def finding(self) -> str:
        tv = [p.tv_distance for p in self.panels]
        ins = [p.inside_fraction for p in self.panels]
        n = len(self.panels[0].points)
        floor = tv_noise_floor(n)
        text = (
            f"Across {len(self.panels)} seeds the inside fraction ranges {min(ins):.3f} to {max(ins):.3f} and the TV "
            f"{min(tv):.3f} to {max(tv):.3f}; {n:,} truly uniform points would give a TV of about {floor:.3f} from "
            f"sampling noise alone."
        )
        if max(tv) - min(tv) <= floor:
            text += (
                " The seeds differ by less than that noise floor: every seed gives the same picture up to sampling "
                "noise."
            )
        else:
            text += (
                f" The seeds differ by {max(tv) - min(tv):.3f}, more than the noise floor: the pictures differ beyond "
                "sampling noise."
            )
        mean = float(np.mean(tv))
        text += f" Their mean TV is {mean / floor:.1f}x the floor" + (
            ", so the model's own error shows through the noise."
            if mean > 1.5 * floor
            else ", so at this sample size the samples cannot be told from uniform ones."
        )
        return text
