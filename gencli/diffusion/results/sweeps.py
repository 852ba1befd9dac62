"""The same noise through several samplers, time grids and numbers of steps (U4, U5), and the grids' sigmas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from gencli.core.results import DataFile, Result, Table
from gencli.diffusion.results.common import (
    tv_noise_floor,
)


@dataclass
class SweepRow:
    sampler: str
    schedule: str
    steps: int
    inside_fraction: float
    tv_distance: float
    wall_s: float
    points: np.ndarray
    own_region_mean: float | None = None

    @property
    def name(self) -> str:
        return f"{self.sampler}/{self.schedule} T={self.steps}"


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

    @property
    def figure(self) -> str:
        """The key of its figure in what `gencli.plots.draw` returns."""
        return f"{self.key}_figure"

    def to_dict(self) -> dict:
        return {
            self.key: [
                {
                    "sampler": r.sampler,
                    "schedule": r.schedule,
                    "steps": r.steps,
                    "inside_fraction": r.inside_fraction,
                    "tv_distance": r.tv_distance,
                    "wall_s": r.wall_s,
                    **({"own_region_mean": r.own_region_mean} if r.own_region_mean is not None else {}),
                }
                for r in self.rows
            ]
        }

    def _columns(self) -> list[tuple[str, str]]:
        cols = [("sampler", ""), ("schedule", ""), ("steps", "d"), ("inside square", ".3f"), ("TV from uniform", ".3f")]
        if self.labels is not None:
            cols.append(("own cell", ".3f"))
        return cols + [("wall s", ".3f")]

    def _values(self, r: SweepRow) -> tuple:
        own = (r.own_region_mean,) if self.labels is not None else ()
        return (r.sampler, r.schedule, r.steps, r.inside_fraction, r.tv_distance, *own, r.wall_s)

    def tables(self) -> list[Table]:
        return [
            Table(
                f"{len(self.rows[0].points)} samples by {self.what} (seed {self.seed}, {self.start} start)",
                self._columns(),
                [self._values(r) for r in self.rows],
            )
        ]

    def data_files(self) -> list[DataFile]:
        return [
            DataFile(
                self.key,
                f"{self.key}.csv",
                [name.replace(" ", "_") for name, _ in self._columns()],
                [self._values(r) for r in self.rows],
            )
        ]

    def finding(self) -> str:
        n = len(self.rows[0].points)
        floor = tv_noise_floor(n)
        if self.key != "steps_sweep":
            return self._compare_finding(floor)
        best = min(self.rows, key=lambda r: r.tv_distance)
        worst = max(self.rows, key=lambda r: r.tv_distance)
        text = (
            f"Closest to uniform: {best.name} (TV {best.tv_distance:.3f}, {best.wall_s:.2f} s); farthest: {worst.name} "
            f"(TV {worst.tv_distance:.3f}); sampling noise alone gives about {floor:.3f} at {n:,} points."
        )
        if len(self.rows) > 1:
            last = self.rows[-1]
            enough = next((r for r in self.rows if r.tv_distance <= last.tv_distance + floor / 4), last)
            if enough is not last:
                text += (
                    f" From T={enough.steps} on, the TV is within {floor / 4:.3f} of T={last.steps}'s "
                    f"{last.tv_distance:.3f}, at {enough.steps / last.steps:.0%} of its cost."
                )
        euler = [r for r in self.rows if r.sampler == "euler" and r.schedule == "uniform"]
        if euler:
            # the exercise's step: z <- z + (5 / T) (x0_hat - z), since dz = -5 (x0_hat - z) dt and dt = -1/T
            parts = []
            for r in euler:
                f = 5 / r.steps
                if f > 1:
                    parts.append(f"at T={r.steps} each step moves z {f:g}x the way to x0_hat, past it (an overshoot)")
                elif f == 1:
                    parts.append(
                        f"at T={r.steps} the first step lands exactly on x0_hat(z, 1) = E[x_0 | z], near the data's "
                        "mean, and later steps cannot spread the samples out again"
                    )
            if parts:
                text += (
                    " Why: the exercise's Euler step is z <- z + (5/T)(x0_hat - z) (dz = -5 (x0_hat - z) dt, dt = "
                    "-1/T); " + "; ".join(parts) + "."
                )
        crowded = [r for r in self.rows if r.inside_fraction >= 0.99 and r.tv_distance > 2 * best.tv_distance + floor]
        if crowded:
            text += (
                f" An inside fraction near 1 with a high TV ({', '.join(f'T={r.steps}' for r in crowded)}) means the "
                "samples crowd inside the square, not that they are right."
            )
        return text

    def _compare_finding(self, floor: float) -> str:
        """Per number of steps: which sampler is closest to uniform, and whether the samplers differ beyond the
        noise."""
        parts = []
        for steps in sorted({r.steps for r in self.rows}):
            rows = [r for r in self.rows if r.steps == steps]
            best = min(rows, key=lambda r: r.tv_distance)
            spread = max(r.tv_distance for r in rows) - best.tv_distance
            verdict = "beyond" if spread > floor else "within"
            parts.append(
                f"at T={steps} {best.sampler}/{best.schedule} is closest (TV {best.tv_distance:.3f}) and the "
                f"samplers span {spread:.3f}, {verdict} the noise floor of {floor:.3f}"
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
            f"{nk}: {who}. Here sigma(t) = exp(5 (t - 1)) is geometric in t, so a uniform grid in t already spaces the "
            f"sigmas geometrically, from {u['sigma_first']:.3g} down to {u['sigma_last']:.3g}; the Karras grid spaces "
            f"sigma^(1/rho) evenly instead."
        )
