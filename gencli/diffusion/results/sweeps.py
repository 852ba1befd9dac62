"""The same noise through several samplers, time grids and numbers of steps (U4, U5), and the grids' sigmas."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from gencli.core.results import DataFile, Result, Table
from gencli.diffusion.results.common import DataView
from gencli.diffusion.results.quality import SampleQuality
from gencli.diffusion.results.samples import Z, quality_columns, quality_values


@dataclass
class SweepRow:
    sampler: str
    schedule: str
    steps: int
    quality: SampleQuality
    wall_s: float
    points: np.ndarray
    own_region_mean: float | None = None

    @property
    def name(self) -> str:
        return f"{self.sampler}/{self.schedule} T={self.steps}"

    @property
    def inside_fraction(self) -> float:
        return self.quality.inside_fraction

    @property
    def tv_distance(self) -> float:
        """The set's own TV: the square's from uniform (the exercise's), any other's against fresh data."""
        q = self.quality
        return q.square_tv if q.square_tv is not None else q.tv


def difference_noise(q: SampleQuality) -> float:
    """The standard error of the difference of two TVs measured at these sizes: sqrt(2) times the spread of one TV
    over independent data draws (conservative for samplings that share their noise, whose differences vary less)."""
    return math.sqrt(2) * q.floor_sd


@dataclass
class SamplingSweep(Result):
    """U4 (number of steps) or U5 (samplers and time grids): the same noise through several samplers."""

    key: str  # "steps_sweep" or "compare"
    what: str
    rows: list[SweepRow]
    labels: np.ndarray | None
    n_classes: int
    seed: int
    start: str
    view: DataView
    log_ratio: float = 5.0  # c in sigma'(t) = c sigma(t): the exercise's Euler step moves z (c/T) of the way to x0_hat

    @property
    def figure(self) -> str:
        """The key of its figure in what `gencli.plots.draw` returns."""
        return f"{self.key}_figure"

    def to_dict(self) -> dict:
        out = []
        for r in self.rows:
            q = r.quality
            d = {
                "sampler": r.sampler,
                "schedule": r.schedule,
                "steps": r.steps,
                "inside_fraction": r.inside_fraction,
                "tv_distance": r.tv_distance,
                "tv_data": q.tv,
                "tv_ratio": q.ratio,
                "precision": q.precision,
                "recall": q.recall,
                "wall_s": r.wall_s,
            }
            if r.own_region_mean is not None:
                d["own_region_mean"] = r.own_region_mean
            out.append(d)
        return {self.key: out}

    def _columns(self) -> list[tuple[str, str]]:
        cols = [("sampler", ""), ("schedule", ""), ("steps", "d"), *quality_columns(self.view)]
        if self.rows and self.rows[0].quality.square_tv is not None:
            cols.append(("TV from uniform", ".3f"))
        if self.labels is not None:
            cols.append((f"own {self.view.region}", ".3f"))
        return cols + [("wall s", ".3f")]

    def _values(self, r: SweepRow) -> tuple:
        square = (r.quality.square_tv,) if r.quality.square_tv is not None else ()
        own = (r.own_region_mean,) if self.labels is not None else ()
        return (r.sampler, r.schedule, r.steps, *quality_values(r.quality), *square, *own, r.wall_s)

    def tables(self) -> list[Table]:
        title = f"{len(self.rows[0].points)} samples by {self.what} (seed {self.seed}, {self.start} start)"
        return [Table(title, self._columns(), [self._values(r) for r in self.rows])]

    def data_files(self) -> list[DataFile]:
        header = [name.replace(" ", "_") for name, _ in self._columns()]
        return [DataFile(self.key, f"{self.key}.csv", header, [self._values(r) for r in self.rows])]

    def finding(self) -> str:
        if self.key != "steps_sweep":
            return self._compare_finding()
        n = len(self.rows[0].points)
        q0 = self.rows[0].quality
        noise = difference_noise(q0)
        best = min(self.rows, key=lambda r: r.quality.tv)
        worst = max(self.rows, key=lambda r: r.quality.tv)
        text = (
            f"Closest to the data: {best.name} (TV {best.quality.tv:.3f}, {best.quality.ratio:.2f}x the floor, "
            f"precision {best.quality.precision:.3f}, recall {best.quality.recall:.3f}); farthest: {worst.name} "
            f"(TV {worst.quality.tv:.3f}); two data draws of {n:,} points differ by {q0.floor:.3f} from sampling "
            "noise alone."
        )
        if len(self.rows) > 1 and noise > 0:
            last = self.rows[-1]
            enough = next((r for r in self.rows if r.quality.tv <= last.quality.tv + Z * noise), last)
            if enough is not last:
                text += (
                    f" From T={enough.steps} on, the TV is within {Z:g} standard errors of a difference "
                    f"({Z * noise:.3f}) of T={last.steps}'s {last.quality.tv:.3f}, at "
                    f"{enough.steps / last.steps:.0%} of its network evaluations."
                )
        euler = [r for r in self.rows if r.sampler == "euler" and r.schedule == "uniform"]
        if euler:
            # the exercise's step: z <- z + (c / T) (x0_hat - z), since dz = -c (x0_hat - z) dt and dt = -1/T
            c = self.log_ratio
            parts = []
            for r in euler:
                f = c / r.steps
                if f > 1:
                    parts.append(f"at T={r.steps} each step moves z {f:.3g}x the way to x0_hat, past it (an overshoot)")
                elif f == 1:
                    parts.append(
                        f"at T={r.steps} the first step lands exactly on x0_hat(z, 1) = E(x_0 | z), near the "
                        "data's mean, and later steps cannot spread the samples out again"
                    )
            if parts:
                text += (
                    f" Why: the exercise's Euler step is z <- z + ({c:.3g}/T)(x0_hat - z) (dz = -{c:.3g} (x0_hat - "
                    "z) dt, dt = -1/T); " + "; ".join(parts) + "."
                )
        crowded = [
            r
            for r in self.rows
            if r.inside_fraction >= 0.99 and r.quality.tv > best.quality.tv + 2 * Z * max(noise, 1e-9)
        ]
        if crowded:
            text += (
                f" An inside fraction near 1 with a high TV ({', '.join(f'T={r.steps}' for r in crowded)}) means the "
                f"samples crowd inside {self.view.support}, not that they are right."
            )
        return text

    def _compare_finding(self) -> str:
        """Per number of steps: which sampler is closest to the data, and whether the samplers differ beyond the noise
        of a difference of two TVs."""
        parts = []
        for steps in sorted({r.steps for r in self.rows}):
            rows = [r for r in self.rows if r.steps == steps]
            best = min(rows, key=lambda r: r.quality.tv)
            worst = max(rows, key=lambda r: r.quality.tv)
            spread, noise = worst.quality.tv - best.quality.tv, difference_noise(best.quality)
            verdict = (
                f"beyond the {Z * noise:.3f} ({Z:g} standard errors of a difference) that sampling noise gives"
                if spread > Z * noise
                else f"within the {Z * noise:.3f} that sampling noise gives"
            )
            parts.append(
                f"at T={steps} {best.sampler}/{best.schedule} is closest (TV {best.quality.tv:.3f}) and the "
                f"samplers span {spread:.3f}, {verdict}"
            )
        return "Same noise through each sampler: " + "; ".join(parts) + "."


@dataclass
class SigmaSchedules(Result):
    """U5: sigma at each sampling step for the uniform (exercise) and Karras time grids."""

    FIGURE: ClassVar[str] = "schedule_figure"  # the key of its figure in what `gencli.plots.draw` returns

    steps: int
    rho: float
    sigma_min: float
    sigma_max: float
    series: dict[str, tuple[np.ndarray, np.ndarray]]  # schedule -> (t, sigma) per grid point

    def summary(self) -> dict:
        return {
            name: {
                "sigma_first": float(s[0]),
                "sigma_mid": float(s[len(s) // 2]),
                "sigma_last": float(s[-1]),
                "steps_below_0.1": int((s[:-1] < 0.1).sum()),
            }
            for name, (_, s) in self.series.items()
        }

    def to_dict(self) -> dict:
        return {"steps": self.steps, "rho": self.rho, "schedules": self.summary()}

    def tables(self) -> list[Table]:
        return [
            Table(
                f"sigma at the first, middle and last step (T={self.steps})",
                [
                    ("schedule", ""),
                    ("first", ".4f"),
                    ("middle", ".4f"),
                    ("last", ".4f"),
                    ("steps with sigma < 0.1", "d"),
                ],
                [
                    (k, v["sigma_first"], v["sigma_mid"], v["sigma_last"], v["steps_below_0.1"])
                    for k, v in self.summary().items()
                ],
            )
        ]

    def data_files(self) -> list[DataFile]:
        rows = [
            (name, i, float(t), float(s))
            for name, (ts, ss) in self.series.items()
            for i, (t, s) in enumerate(zip(ts, ss))
        ]
        return [DataFile("schedule", "schedule.csv", ["schedule", "step", "t", "sigma"], rows)]

    def finding(self) -> str:
        s = self.summary()
        u, k = s.get("uniform"), s.get("karras")
        if not (u and k):
            return ""
        nu, nk = u["steps_below_0.1"], k["steps_below_0.1"]
        if nu == nk:
            who = "both grids place the same number of steps near the data"
        else:
            more, less = ("uniform", "Karras") if nu > nk else ("Karras", "uniform")
            who = f"the {more} grid puts more steps near the data than the {less} grid"
        return (
            f"Of {self.steps} steps, the uniform grid spends {nu} at sigma < 0.1 and the Karras grid (rho = "
            f"{self.rho:g}) "
            f"{nk}: {who}. Here sigma(t) = sigma_min^(1 - t) sigma_max^t is geometric in t, so a uniform grid in t "
            "already spaces the "
            f"sigmas geometrically, from {u['sigma_first']:.3g} down to {u['sigma_last']:.3g}; the Karras grid spaces "
            f"sigma^(1/rho) evenly instead."
        )
