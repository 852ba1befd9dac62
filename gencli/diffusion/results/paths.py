"""Trajectories: the forward process of one point (U1), reverse paths (U6, C3), and determinism (U6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from gencli.core.results import DataFile, Result, Table
from gencli.diffusion.results.common import DataView, settings_text
from gencli.diffusion.sampling.steps import is_stochastic


@dataclass
class ForwardPath(Result):
    """U1: one sample path of the forward process x_t = x_0 + sigma(t) eps, or a flow's straight path to a source
    draw (x_t = t x0 + (1 - t) x_1 in gencli's time, s = 1 - t)."""

    FIGURE: ClassVar[str] = "trajectory_figure"  # the key of its figure in what `gencli.plots.draw` returns

    start: tuple[float, float]
    ts: np.ndarray
    sigmas: np.ndarray
    path: np.ndarray  # (K, 2)
    view: DataView
    start_inside: bool
    log_ratio: float = 5.0  # c in sigma(t) = sigma_min exp(c t)
    objective: str = "vesde"

    @property
    def formula(self) -> str:
        """The path's equation, for titles."""
        if self.objective == "vesde":
            return "x_t = x_0 + sigma(t) eps"
        return "the flow's straight path x_t = t x_src + (1 - t) x_data (s = 1 - t)"

    def shown_rows(self) -> list[int]:
        """The times the table shows (the finding quotes the middle one)."""
        return sorted({0, len(self.ts) // 4, len(self.ts) // 2, 3 * len(self.ts) // 4, len(self.ts) - 1})

    def to_dict(self) -> dict:
        return {"start": list(self.start), "end": self.path[-1].tolist(), "steps": len(self.ts) - 1}

    def tables(self) -> list[Table]:
        idx = self.shown_rows()
        return [
            Table(
                f"forward process at a few times: {self.formula}",
                [("t", ".2f"), ("sigma(t)" if self.objective == "vesde" else "source share", ".4f")]
                + [("x", ".3f"), ("y", ".3f")],
                [(self.ts[i], self.sigmas[i], *self.path[i]) for i in idx],
            )
        ]

    def data_files(self) -> list[DataFile]:
        return [
            DataFile(
                "trajectory",
                "forward.csv",
                ["t", "sigma", "x", "y"],
                [(float(t), float(s), float(x), float(y)) for t, s, (x, y) in zip(self.ts, self.sigmas, self.path)],
            )
        ]

    def finding(self) -> str:
        x0 = np.asarray(self.start)
        where = "inside" if self.start_inside else "outside"
        half = len(self.ts) // 2  # the table's middle row
        d_half = float(np.linalg.norm(self.path[half] - x0))
        d_end = float(np.linalg.norm(self.path[-1] - x0))
        text = (
            f"Starting at ({self.start[0]:g}, {self.start[1]:g}), {where} {self.view.support}, the point has moved "
            f"{d_half:.3f} "
            f"by t = {self.ts[half]:.2f} (sigma {self.sigmas[half]:.3f}) and {d_end:.2f} by t = 1 (sigma "
            f"{self.sigmas[-1]:.2f})."
        )
        if self.objective != "vesde":
            straight = d_end > 0 and abs(d_half - 0.5 * d_end) <= 1e-3 * d_end
            text += (
                " The flow's path is a straight line at constant speed: half the distance at t = 0.5."
                if straight
                else " The path bends: the flow's interpolation should be straight, so check the process."
            )
        elif d_end > 0 and d_half < 0.25 * d_end:
            text += (
                f" Most of the motion comes late: sigma(t) grows by a factor e^{self.log_ratio:.3g} from t = 0 to 1, "
                "so it is small for most of [0, 1] and grows fast near t = 1."
            )
        else:
            text += " The motion is spread over the whole interval."
        return text


@dataclass
class ReversePaths(Result):
    """Reverse trajectories: a few points (unconditional) or one point per class (C3)."""

    FIGURE: ClassVar[str] = "trajectory_figure"  # the key of its figure in what `gencli.plots.draw` returns

    traj: np.ndarray  # (K, N, 2)
    ts: np.ndarray
    labels: np.ndarray | None
    n_classes: int
    view: DataView
    background: np.ndarray
    settings: dict
    seed: int
    ends_inside: np.ndarray  # (N,) bool: each path's end lies inside the data's support
    landed: np.ndarray | None = None

    def to_dict(self) -> dict:
        d = {"ends": self.traj[-1].tolist(), "steps": self.settings["steps"], "sampler": self.settings["sampler"]}
        if self.landed is not None:
            own = self.landed == self.labels
            d.update({"in_own_region": own.tolist(), "all_in_own_region": bool(own.all())})
        return d

    def tables(self) -> list[Table]:
        ends, starts = self.traj[-1], self.traj[0]
        if self.landed is not None:
            return [
                Table(
                    f"one point per class ({settings_text(self.settings)})",
                    [
                        ("class", "d"),
                        ("end x", ".3f"),
                        ("end y", ".3f"),
                        (f"landed in {self.view.region}", "d"),
                        (f"own {self.view.region}", ""),
                    ],
                    [
                        (int(c), *ends[j], int(self.landed[j]), bool(self.landed[j] == c))
                        for j, c in enumerate(self.labels)
                    ],
                )
            ]
        return [
            Table(
                f"reverse trajectories ({settings_text(self.settings)})",
                [("point", "d"), ("start x", ".3f"), ("start y", ".3f"), ("end x", ".3f"), ("end y", ".3f")],
                [(j, *starts[j], *ends[j]) for j in range(len(ends))],
            )
        ]

    def data_files(self) -> list[DataFile]:
        k = self.labels is not None
        rows = [
            (
                i,
                float(self.ts[i]),
                j,
                float(self.traj[i, j, 0]),
                float(self.traj[i, j, 1]),
                *((int(self.labels[j]),) if k else ()),
            )
            for i in range(self.traj.shape[0])
            for j in range(self.traj.shape[1])
        ]
        return [
            DataFile("trajectory", "reverse.csv", ["step", "t", "point", "x", "y"] + (["label"] if k else []), rows)
        ]

    def finding(self) -> str:
        if self.landed is not None:
            own = int((self.landed == self.labels).sum())
            return f"{own} of {len(self.labels)} classes end in their own {self.view.region}."
        inside = int(self.ends_inside.sum())
        return f"{inside} of {self.traj.shape[1]} paths end inside {self.view.support}."


@dataclass
class Determinism(Result):
    """U6: the same initial noise through the sampler R times."""

    FIGURE: ClassVar[str] = "determinism_figure"  # the key of its figure in what `gencli.plots.draw` returns

    sampler: str
    steps: int
    repeats: int
    n: int
    identical: bool
    n_identical: int  # repeats (after the first run) equal to the first run
    max_abs_diff: float
    paths: np.ndarray  # (R, K, P, 2): the first P points' trajectories in each run
    ends: np.ndarray  # (R, P, 2)
    view: DataView | None = None

    def to_dict(self) -> dict:
        return {
            "identical": self.identical,
            "max_abs_diff": self.max_abs_diff,
            "repeats": self.repeats,
            "identical_runs": self.n_identical,
            "sampler": self.sampler,
            "n": self.n,
        }

    def tables(self) -> list[Table]:
        return [
            Table(
                f"determinism ({self.sampler}, T={self.steps})",
                [
                    ("sampler", ""),
                    ("runs", "d"),
                    ("points", "d"),
                    ("repeats equal to the first run", "d"),
                    ("identical", ""),
                    ("max |diff|", ".3g"),
                ],
                [(self.sampler, self.repeats, self.n, self.n_identical, self.identical, self.max_abs_diff)],
            )
        ]

    def data_files(self) -> list[DataFile]:
        return [
            DataFile(
                "determinism",
                "determinism.csv",
                ["repeat", "point", "x", "y"],
                [(r, j, float(x), float(y)) for r in range(self.repeats) for j, (x, y) in enumerate(self.ends[r])],
            )
        ]

    def finding(self) -> str:
        stochastic = is_stochastic(self.sampler)
        how = "injects fresh noise in every step" if stochastic else "draws noise only at the start"
        if self.identical:
            text = (
                f"All {self.repeats} runs of {self.sampler} are bit-for-bit identical (max |diff| "
                f"{self.max_abs_diff:g})"
            )
            return text + (
                f": {self.sampler} {how}, so the same start gives the same end."
                if not stochastic
                else f", although {self.sampler} {how}: its per-step noise came out the same in every run."
            )
        text = (
            f"{self.n_identical} of the {self.repeats - 1} repeats of {self.sampler} equal the first run (max |diff| "
            f"{self.max_abs_diff:.3g})"
        )
        return text + (
            f": {self.sampler} {how}, so each run is a different sample."
            if stochastic
            else f", although {self.sampler} {how}: the difference comes from the arithmetic itself (the order of "
            "floating-point sums can vary between runs)."
        )
