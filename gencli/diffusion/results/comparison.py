"""Diffusion or flow? Models of one set sampled at equal network evaluations, with each sampler that applies."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

from gencli.core.results import DataFile, Result, Table
from gencli.diffusion.results.common import DataView
from gencli.diffusion.results.quality import SampleQuality

TARGET_SLACK = (
    1.1  # the common target: this times the worst of the models' best TV ratios, so that every model meets it
)


@dataclass
class ComparisonRow:
    """One model, one sampler, one budget of network evaluations."""

    model: str
    sampler: str
    evaluations: int
    steps: int
    quality: SampleQuality
    own: float | None = None  # conditional: the mean share of samples in their own class's region


@dataclass
class ModelSummary:
    """What a model costs and how straight its sampling paths are, with its exact likelihood where measured."""

    label: str
    objective: str
    path: str
    train_s: float
    epochs: int
    straightness: float  # mean of path length / end-to-end distance along the deterministic sampler's path
    straight_steps: int
    ll_model: float | None = None  # mean exact log p over fresh data points
    ll_truth: float | None = None  # the truth's mean over the same points (None: unknown)
    ll_se: float | None = None
    ll_points: int = 0

    @property
    def ll_gap(self) -> float | None:
        """truth - model: an estimate of KL(data || model) >= 0 (None where the density is unknown)."""
        if self.ll_model is None or self.ll_truth is None:
            return None
        return self.ll_truth - self.ll_model


@dataclass
class ObjectiveComparison(Result):
    """Quality against network evaluations, per model and sampler, and each model's summary."""

    FIGURE: ClassVar[str] = "compare_figure"

    rows: list[ComparisonRow]
    models: list[ModelSummary]
    view: DataView
    n: int
    seed: int
    evaluations: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "set": self.view.name,
            "n": self.n,
            "seed": self.seed,
            "rows": [
                {
                    "model": r.model,
                    "sampler": r.sampler,
                    "evaluations": r.evaluations,
                    "steps": r.steps,
                    "tv_ratio": r.quality.ratio,
                    "precision": r.quality.precision,
                    "recall": r.quality.recall,
                    "own": r.own,
                }
                for r in self.rows
            ],
            "models": [
                {
                    "label": m.label,
                    "objective": m.objective,
                    "data": self.view.name,
                    "epochs": m.epochs,
                    "train_s": m.train_s,
                    "straightness": m.straightness,
                    "ll_gap": m.ll_gap,
                    "ll_se": m.ll_se,
                    "best": self.best(m.label)[1],
                    "evaluations_to_target": self.fewest(m.label, self.target())[0],
                }
                for m in self.models
            ],
            "target": self.target(),
        }

    def tables(self) -> list[Table]:
        own = any(r.own is not None for r in self.rows)
        cols = [("model", ""), ("sampler", ""), ("evaluations", "d"), ("steps", "d"), ("TV x floor", ".2f")]
        cols += [("precision", ".3f"), ("recall", ".3f")] + ([("own region", ".3f")] if own else [])
        rows = [
            (r.model, r.sampler, r.evaluations, r.steps, r.quality.ratio, r.quality.precision, r.quality.recall)
            + ((r.own,) if own else ())
            for r in self.rows
        ]
        target = self.target()
        summary = []
        for m in self.models:
            best_row, best = self.best(m.label)
            need, how = self.fewest(m.label, target)
            summary.append(
                (
                    m.label,
                    m.train_s,
                    m.epochs,
                    m.straightness,
                    best,
                    f"{best_row.sampler} @{best_row.evaluations}" if best_row else None,
                    need,
                    how,
                    m.ll_gap,
                    m.ll_se,
                )
            )
        return [
            Table(
                f"{self.view.name}: {self.n:,} samples per row against as many fresh data points (seed {self.seed}), "
                "quality at equal network evaluations (a step of heun or midpoint costs 2)",
                cols,
                rows,
            ),
            Table(
                f"{self.view.name}: each model's cost, the straightness of its paths (length / end-to-end distance, "
                f"1 is straight), its best TV ratio, the fewest evaluations to {target:.2f}x the floor, and "
                "KL(data || model) estimated by the exact likelihood (truth - model over fresh points)",
                [
                    ("model", ""),
                    ("train s", ".1f"),
                    ("steps", "d"),
                    ("straightness", ".3f"),
                    ("best TV x floor", ".2f"),
                    ("at", ""),
                    (f"evals to {target:.2f}x", "d"),
                    ("with", ""),
                    ("KL est. (nats)", ".3f"),
                    ("± se", ".3f"),
                ],
                summary,
            ),
        ]

    def data_files(self) -> list[DataFile]:
        return [
            DataFile(
                "compare",
                "compare.csv",
                ["model", "sampler", "evaluations", "steps", "tv", "floor", "tv_ratio", "precision", "recall", "own"],
                [
                    (
                        r.model,
                        r.sampler,
                        r.evaluations,
                        r.steps,
                        r.quality.tv,
                        r.quality.floor,
                        r.quality.ratio,
                        r.quality.precision,
                        r.quality.recall,
                        r.own,
                    )
                    for r in self.rows
                ],
            )
        ]

    def of(self, label: str) -> list[ComparisonRow]:
        return [r for r in self.rows if r.model == label]

    def best(self, label: str) -> tuple[ComparisonRow | None, float]:
        """The model's row with the lowest TV ratio, and that ratio."""
        rows = self.of(label)
        if not rows:
            return None, math.inf
        row = min(rows, key=lambda r: (r.quality.ratio, r.evaluations))
        return row, row.quality.ratio

    def target(self) -> float:
        """A quality every model reaches: TARGET_SLACK times the worst of their best TV ratios."""
        bests = [self.best(m.label)[1] for m in self.models]
        finite = [b for b in bests if math.isfinite(b)]
        return TARGET_SLACK * max(finite) if finite else math.inf

    def fewest(self, label: str, target: float) -> tuple[int | None, str | None]:
        """The fewest evaluations at which some sampler of the model is within `target` x the floor, and which."""
        ok = [r for r in self.of(label) if r.quality.ratio <= target]
        if not ok:
            return None, None
        r = min(ok, key=lambda r: (r.evaluations, r.quality.ratio))
        return r.evaluations, r.sampler

    def finding(self) -> str:
        if not self.rows or not self.models:
            return "No model was sampled."
        target = self.target()
        needs = sorted(
            ((self.fewest(m.label, target), m.label) for m in self.models), key=lambda x: x[0][0] or math.inf
        )
        parts = [f"{label} needs {e} evaluation{'s' if e != 1 else ''} ({how})" for (e, how), label in needs]
        (first_e, _), first = needs[0]
        text = (
            f"On {self.view.name}, to come within {target:.2f}x the TV noise floor ({TARGET_SLACK:g}x the worst "
            f"model's best), " + ", ".join(parts) + "."
        )
        others = [(e, label) for (e, _), label in needs[1:] if e and first_e]
        fewer = [f"{e / first_e:.0f}x fewer than {label}" for e, label in others if e > first_e]
        if fewer:
            text += f" {first} needs " + ", ".join(fewer) + "."
        elif others:
            text += " They need the same number of evaluations."
        straight = sorted(self.models, key=lambda m: m.straightness)
        if len(straight) > 1:
            a, b = straight[0], straight[-1]
            text += (
                f" {a.label}'s sampling paths are the straightest (length {a.straightness:.3f}x the end-to-end "
                f"distance, against {b.label}'s {b.straightness:.3f})."
            )
        for m in self.models:
            best_row, best = self.best(m.label)
            one = [r for r in self.of(m.label) if r.evaluations == min(self.evaluations or [1])]
            if one and best_row is not None:
                low = min(one, key=lambda r: r.quality.ratio)
                text += (
                    f" {m.label}: best {best:.2f}x at {best_row.evaluations} ({best_row.sampler}); at "
                    f"{low.evaluations} evaluation{'s' if low.evaluations != 1 else ''} {low.quality.ratio:.2f}x, "
                    f"{low.quality.ratio / best:.1f}x its best."
                )
        timed = [m for m in self.models if m.train_s > 0]
        if len(timed) > 1:
            text += " Training took " + ", ".join(f"{m.train_s:.0f} s ({m.label})" for m in timed) + "."
        known = [m for m in self.models if m.ll_gap is not None]
        if known:
            order = sorted(known, key=lambda m: m.ll_gap)
            text += (
                f" By the exact likelihood over {known[0].ll_points:,} fresh points, KL(data || model) is "
                + ", ".join(f"{m.ll_gap:.3f} ± {m.ll_se:.3f} nats for {m.label}" for m in order)
            )
            if len(order) > 1:
                a, b = order[0], order[-1]
                noise = 2 * math.hypot(a.ll_se or 0.0, b.ll_se or 0.0)
                text += (
                    f": {a.label} fits the density closer, beyond the noise"
                    if b.ll_gap - a.ll_gap > noise
                    else ": the gap is within the noise"
                )
            text += "."
        return text
