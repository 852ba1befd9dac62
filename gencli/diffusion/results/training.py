"""Training results: the loss curve (U2) and the training data (C1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from gencli.core.results import DataFile, Result, Table
from gencli.diffusion.results.common import DataView, xy_rows


@dataclass
class TrainingCurve(Result):
    """U2: the denoiser's training loss per full-batch epoch."""

    FIGURE: ClassVar[str] = "loss_figure"  # the key of its figure in what `gencli.plots.draw` returns

    losses: np.ndarray
    wall_s: float
    conditional: bool

    @property
    def epochs(self) -> int:
        return len(self.losses)

    @property
    def final_loss_avg100(self) -> float:
        return float(np.mean(self.losses[-100:]))

    def to_dict(self) -> dict:
        return {
            "final_loss": float(self.losses[-1]),
            "final_loss_avg100": self.final_loss_avg100,
            "epochs": self.epochs,
            "wall_s": self.wall_s,
            "conditional": self.conditional,
        }

    def tables(self) -> list[Table]:
        kind = "conditional" if self.conditional else "unconditional"
        return [
            Table(
                f"diffusion training ({kind})",
                [("epochs", "d"), ("first 100 (mean loss)", ".4f"), ("last 100 (mean loss)", ".4f"), ("wall s", ".1f")],
                [(self.epochs, float(np.mean(self.losses[:100])), self.final_loss_avg100, self.wall_s)],
            )
        ]

    def data_files(self) -> list[DataFile]:
        return [
            DataFile(
                "metrics", "metrics.csv", ["epoch", "loss"], [(i + 1, float(v)) for i, v in enumerate(self.losses)]
            )
        ]

    def finding(self) -> str:
        head, tail = self.losses[:100], self.losses[-100:]
        first, last = float(np.mean(head)), float(np.mean(tail))
        # the standard error of the difference of the two means: each epoch draws new t and eps
        noise = float(np.sqrt(np.var(head) / len(head) + np.var(tail) / len(tail)))
        if last < first - 2 * noise:
            verb = "falls"
        elif last > first + 2 * noise:
            verb = "rises"
        else:
            verb = "stays within its noise"
        return (
            f"The eps-prediction loss {verb} from {first:.3f} (mean of the first 100 epochs) to {last:.3f} (mean of "
            f"the last 100) over {self.epochs} epochs; the two means differ by {abs(first - last):.3f} against a "
            f"standard error of {noise:.3f}. Single epochs scatter around the trend because each draws new t and eps."
        )


@dataclass
class TrainingData(Result):
    """C1: the training points, coloured by class for the conditional model."""

    FIGURE: ClassVar[str] = "data_figure"  # the key of its figure in what `gencli.plots.draw` returns

    points: np.ndarray
    labels: np.ndarray | None
    n_classes: int
    view: DataView
    description: str  # what the points are, in a sentence
    frame: tuple[tuple[float, float], float] | None = None  # (shift, scale) the model's input is standardised by

    def counts(self) -> list[int]:
        return np.bincount(self.labels, minlength=self.n_classes).tolist() if self.labels is not None else []

    def to_dict(self) -> dict:
        d = {
            "data": self.view.name,
            "n_points": len(self.points),
            "n_classes": self.n_classes,
            "class_counts": self.counts(),
        }
        if self.frame is not None:
            d["standardized"] = {"shift": list(self.frame[0]), "scale": self.frame[1]}
        return d

    def tables(self) -> list[Table]:
        if self.labels is None:
            return [Table("training data", [("set", ""), ("points", "d")], [(self.view.name, len(self.points))])]
        return [Table("training points per class", [("class", "d"), ("points", "d")], list(enumerate(self.counts())))]

    def data_files(self) -> list[DataFile]:
        header = ["x", "y"] + (["label"] if self.labels is not None else [])
        return [DataFile("data", "data.csv", header, xy_rows(self.points, self.labels))]

    def frame_text(self) -> str:
        """What the standardisation did, in a sentence ("" when the model sees the data as it is)."""
        if self.frame is None:
            return ""
        (sx, sy), scale = self.frame
        return (
            f" The model sees them standardised: centred at ({sx:.3g}, {sy:.3g}) and divided by {scale:.3g}, the "
            "spread of the exercise's square, with the noise schedule scaled by the same factor."
        )

    def finding(self) -> str:
        text = self.description
        if self.labels is not None:
            c = self.counts()
            text += f", {min(c)} to {max(c)} points per class"
        return text + "." + self.frame_text()
