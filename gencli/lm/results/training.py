"""The language model's training (L1): train and validation curves, the best step, bits per byte."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from gencli.core.results import DataFile, Result, Table


@dataclass
class LMTrainingSummary(Result):
    """L1: train and validation loss over training, the best validation and its bits per byte."""

    FIGURE: ClassVar[str] = "loss_figure"  # the key of its figure in what `gencli.plots.draw` returns

    steps: np.ndarray
    train: np.ndarray
    eval_steps: np.ndarray
    eval_train: np.ndarray
    eval_val: np.ndarray
    metrics: dict
    model: str
    corpus: str
    wall_s: float | None = None

    def to_dict(self) -> dict:
        d = {**self.metrics, "steps": int(self.steps[-1]) if len(self.steps) else 0}
        if self.wall_s is not None:
            d["wall_s"] = self.wall_s
        return d

    def tables(self) -> list[Table]:
        m = self.metrics
        return [
            Table(
                f"{self.model} on {self.corpus}, {self.to_dict()['steps']} steps",
                [
                    ("train loss", ".3f"),
                    ("val loss", ".3f"),
                    ("best val", ".3f"),
                    ("at step", "d"),
                    ("val bits/byte", ".3f"),
                    ("best val bits/byte", ".3f"),
                    ("tokens/s", ",.0f"),
                    ("TFLOP/s", ".3f"),
                    ("MFU", ".1%"),
                ],
                [
                    (
                        m.get("train_loss"),
                        m.get("val_loss"),
                        m.get("best_val_loss"),
                        m.get("best_step"),
                        m.get("val_bpb"),
                        m.get("best_val_bpb"),
                        m.get("tokens_per_s"),
                        m.get("achieved_tflops"),
                        m.get("mfu"),
                    )
                ],
            )
        ]

    def data_files(self) -> list[DataFile]:
        at_train = dict(zip(self.eval_steps.tolist(), self.eval_train.tolist()))
        at_val = dict(zip(self.eval_steps.tolist(), self.eval_val.tolist()))
        return [
            DataFile(
                "metrics",
                "metrics.csv",
                ["step", "train_loss", "train_estimate", "val_loss"],
                [
                    (int(s), float(v), at_train.get(int(s), ""), at_val.get(int(s), ""))
                    for s, v in zip(self.steps, self.train)
                ],
            )
        ]

    def finding(self) -> str:
        m = self.metrics
        best, last = m.get("best_val_loss"), m.get("val_loss")
        if best is None or last is None:
            return ""
        train = m["train_loss"]
        steps = int(self.steps[-1]) if len(self.steps) else 0
        text = (
            f"Validation loss is lowest at step {m['best_step']} ({best:.3f} nats/token, {m['best_val_bpb']:.3f} bits "
            "per byte); "
            f"it ends at {last:.3f} while the training estimate ends at {train:.3f}"
        )
        gap = last - train
        if gap > 0.1 * last:
            text += (
                f": a gap of {gap:.2f} nats/token, {gap / last:.0%} of the validation loss. The model fits the "
                "training "
                "text much better than held-out text (overfitting)."
            )
        else:
            text += f" (a gap of {gap:.2f} nats/token): no sign of overfitting yet."
        if last > 1.05 * best:
            text += " Validation rose after its best step."
        text += f" L2-L5 use the best weights (step {m['best_step']}, model.safetensors)" + (
            f", not the last (step {steps})." if m["best_step"] != steps else ", which are also the last."
        )
        if m.get("stopped_early"):
            text += (
                f" Training stopped early at step {int(self.steps[-1])}: validation had stopped improving "
                "(train.patience)."
            )
        return text + self.utilisation_finding()

    def utilisation_finding(self) -> str:
        """The model FLOP/s achieved and, where the device's peak is known, the share of it (MFU)."""
        m = self.metrics
        achieved = m.get("achieved_tflops")
        if not achieved:
            return ""
        per_token = m["model_flops_per_token"] / 1e6
        text = f" Training ran {achieved:.3f} TFLOP/s of model FLOPs ({per_token:.1f} MFLOP a token)"
        if m.get("mfu") is not None:
            return text + f", {m['mfu']:.1%} of the device's peak of {m['peak_tflops']:.2f} TFLOP/s ({m['peak']})."
        return text + "; the device's peak is not in gencli's table, so no utilisation is given."
