"""The bonus: the sampler's inputs optimised so that the frozen model outputs a chosen point."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from gencli.core.results import DataFile, Result, Table
from gencli.diffusion.results.common import DataView
from gencli.diffusion.sampling.steps import is_stochastic

REACHED = 0.05  # an inversion output within this distance of its target counts as reaching it, whatever the tolerance


@dataclass
class SamplerInversion(Result):
    """Bonus: the sampler's inputs optimised so that it outputs a point far outside the data."""

    FIGURE: ClassVar[str] = "invert_figure"  # the key of its figure in what `gencli.plots.draw` returns
    LOSS_FIGURE: ClassVar[str] = "invert_loss_figure"

    target: tuple[float, float]
    final: np.ndarray
    distance: float
    iterations: int
    tolerance: float
    losses: np.ndarray
    trajectory: np.ndarray  # (K, 2)
    ts: np.ndarray
    sampler: str
    steps: int
    z1: np.ndarray
    background: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    noise_numbers: int = 0  # how many numbers were optimised (z(1), and every step's noise for sde)
    noise_log_density: float = 0.0  # their log-density under the sampler's own noise distribution (standardised)
    view: DataView | None = None

    @property
    def typical_log_density(self) -> tuple[float, float]:
        """Mean and standard deviation of that log-density for noise drawn as the sampler draws it: -d/2 (log 2 pi + 1)
        and sqrt(d/2) (a chi-square with d degrees of freedom, halved)."""
        d = self.noise_numbers
        return -0.5 * d * (np.log(2 * np.pi) + 1), float(np.sqrt(d / 2))

    @property
    def success(self) -> bool:
        return self.distance <= max(self.tolerance, REACHED)

    def to_dict(self) -> dict:
        mean, sd = self.typical_log_density
        return {
            "target": list(self.target),
            "final": self.final.tolist(),
            "distance": self.distance,
            "iterations": self.iterations,
            "success": self.success,
            "z1": self.z1.tolist(),
            "sampler": self.sampler,
            "steps": self.steps,
            "tolerance": self.tolerance,
            "noise_numbers": self.noise_numbers,
            "noise_log_density": self.noise_log_density,
            "typical_log_density": mean,
            "typical_log_density_sd": sd,
        }

    def tables(self) -> list[Table]:
        return [
            Table(
                f"inverting the sampler ({self.sampler}, T={self.steps})",
                [
                    ("target x", ".2f"),
                    ("target y", ".2f"),
                    ("final x", ".4f"),
                    ("final y", ".4f"),
                    ("distance", ".4f"),
                    ("Adam steps", "d"),
                ],
                [(*self.target, *self.final, self.distance, self.iterations)],
            )
        ]

    def data_files(self) -> list[DataFile]:
        return [
            DataFile(
                "invert",
                "invert.csv",
                ["step", "t", "x", "y"],
                [(i, float(t), float(x), float(y)) for i, (t, (x, y)) in enumerate(zip(self.ts, self.trajectory))],
            )
        ]

    def finding(self) -> str:
        verb = "reaches" if self.success else "gets only as close as"
        noise = "the initial noise and every step's noise" if is_stochastic(self.sampler) else "the initial noise"
        text = (
            f"Optimising {noise} ({self.noise_numbers} free numbers), the frozen model's sampler {verb} "
            f"({self.final[0]:.3f}, {self.final[1]:.3f}), {self.distance:.4f} from ({self.target[0]:g}, "
            f"{self.target[1]:g}), after {self.iterations} Adam steps (it stops within {self.tolerance:g})."
        )
        if self.noise_numbers:
            mean, sd = self.typical_log_density
            z = (self.noise_log_density - mean) / sd
            verdict = (
                "an unusually unlikely draw: the model reaches the target only through noise it would almost never "
                "sample"
                if z < -3
                else "about as likely as a typical draw: the sampler could have drawn such noise"
            )
            text += (
                f" That noise has log-density {self.noise_log_density:.1f} under the sampler's own noise distribution, "
                f"against {mean:.1f} +- {sd:.1f} for typical draws ({z:+.1f} standard deviations): {verdict}."
            )
        return text
