"""Likelihoods of chosen points (C6): the lower bound and the exact value, and the exact density over a grid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from gencli.core.results import DataFile, Result, Table
from gencli.diffusion.results.common import (
    sentence,
)


@dataclass
class ProbabilityTable(Result):
    """C6: the lower bound on log p(x) (or log p(x | c)) at chosen points."""

    FIGURE: ClassVar[str] = "prob_figure"  # the key of its figure in what `gencli.plots.draw` returns

    rows: list[dict]
    steps: int
    samples: int
    conditional: bool
    background: np.ndarray
    grid: tuple[int, int]
    truth_inside: float  # log density of the data at an inside point (log p(x|c) in its own cell)
    start: str = "matched"  # the start distribution p_1 of the bound's prior term and of the exact likelihood
    tolerance: tuple[float, float] | None = (
        None  # (rtol, atol) of the exact likelihood's ODE solver; None: not computed
    )

    def to_dict(self) -> dict:
        return {"points": self.rows, "steps": self.steps, "samples": self.samples}

    def tables(self) -> list[Table]:
        plain = "unconditional_elbo" in self.rows[0]
        exact = "exact_logp" in self.rows[0]
        key_cols = [("#", "d"), ("x", ".2f"), ("y", ".2f")] + ([("class", "d")] if self.conditional else [])
        keys = [(i + 1, r["x"], r["y"], *((r["class"],) if self.conditional else ())) for i, r in enumerate(self.rows)]
        cols = (
            key_cols
            + [
                ("where", ""),
                ("bound", ".2f"),
                ("stderr", ".2f"),
                ("= reconstruction", ".2f"),
                ("- prior KL", ".2f"),
                ("- L_T", ".2f"),
            ]
            + ([("unconditional bound", ".2f")] if plain else [])
        )
        rows = [
            (
                *k,
                r["where"],
                r["elbo"],
                r["stderr"],
                r["reconstruction"],
                r["prior_kl"],
                -r["neg_diffusion_loss"],
                *((r["unconditional_elbo"],) if plain else ()),
            )
            for k, r in zip(keys, self.rows)
        ]
        p = "p(x | c)" if self.conditional else "p(x)"
        out = [
            Table(
                f"lower bound on log {p} in nats (T={self.steps}, {self.samples} Monte Carlo samples): "
                "bound = reconstruction - prior KL - L_T",
                cols,
                rows,
            )
        ]
        if exact:
            rtol, atol = self.tolerance or (float("nan"), float("nan"))
            out.append(
                Table(
                    f"exact log {p} in nats (probability-flow ODE, rtol {rtol:g}, atol {atol:g}): with the "
                    f"{self.start} "
                    "Gaussian prior at t = 1, with the training data's own p_1, and the truth smoothed by sigma_min",
                    key_cols
                    + [
                        ("bound", ".2f"),
                        ("exact log p", ".3f"),
                        ("exact, data's p_1", ".3f"),
                        ("truth at sigma_min", ".3f"),
                    ],
                    [
                        (*k, r["elbo"], r["exact_logp"], r["exact_logp_data_prior"], r["smoothed_truth"])
                        for k, r in zip(keys, self.rows)
                    ],
                )
            )
        return out

    def data_files(self) -> list[DataFile]:
        return [DataFile("prob", "prob.csv", list(self.rows[0].keys()), [tuple(r.values()) for r in self.rows])]

    def finding(self) -> str:
        inside = [r for r in self.rows if r["where"] in ("inside", "inside, own cell")]
        outside = [r for r in self.rows if r["where"].startswith("outside")]
        parts = []
        if inside:
            lo, hi = min(r["elbo"] for r in inside), max(r["elbo"] for r in inside)
            gap = self.truth_inside - hi
            parts.append(
                f"points inside{' their own cell' if self.conditional else ''} score {lo:.2f} to {hi:.2f} nats, "
                + (f"{gap:.2f} or more below" if gap > 0 else "at or above")
                + f" the true log density {self.truth_inside:.3f} there"
                + (" (a lower bound may not exceed it but for Monte Carlo noise)" if gap <= 0 else "")
            )
        if outside:
            worst = min(outside, key=lambda r: r["elbo"])
            nearest = min(outside, key=lambda r: max(abs(r["x"]), abs(r["y"])))
            parts.append(
                f"points outside score from {nearest['elbo']:.1f} nats at ({nearest['x']:g}, {nearest['y']:g}), the "
                f"nearest to the square, down to {worst['elbo']:.1f} at ({worst['x']:g}, {worst['y']:g})"
                + (" (each under the class of its nearest cell)" if self.conditional else "")
            )
        text = sentence("; ".join(parts)) if parts else ""
        if outside and inside:
            kl_share = np.mean([r["prior_kl"] / max(r["reconstruction"] - r["elbo"], 1e-9) for r in outside])
            text += (
                (
                    f" Outside, the prior KL is {kl_share:.0%} of what separates the bound from the reconstruction "
                    "term: "
                    f"the start distribution, not the denoiser, does most of the rejecting."
                )
                if kl_share > 0.5
                else (
                    f" Outside, L_T carries {1 - kl_share:.0%} of the drop below the reconstruction term: the denoiser "
                    "cannot explain the point."
                )
            )
        by_place: dict = {}
        for r in self.rows:
            by_place.setdefault((r["x"], r["y"]), []).append(r)
        for (x, y), rs in by_place.items():
            own = [r for r in rs if "own cell" in r["where"]]
            wrong = [r for r in rs if r["where"].startswith("inside, cell")]
            if own and wrong:
                gap = own[0]["elbo"] - wrong[0]["elbo"]
                noise = float(np.hypot(own[0]["stderr"], wrong[0]["stderr"]))
                verb = "above" if gap > 0 else "below"
                text += (
                    f" At ({x:g}, {y:g}) the matching class {own[0]['class']} scores {abs(gap):.1f} nats {verb} the "
                    "wrong "
                    f"class {wrong[0]['class']}"
                    + (" (within the Monte Carlo noise)." if abs(gap) <= 2 * noise else ".")
                )
        if "exact_logp" in self.rows[0]:
            text += " " + self.exact_finding(inside, outside)
        if "unconditional_elbo" in self.rows[0] and inside:
            d = np.mean([r["elbo"] - r["unconditional_elbo"] for r in inside])
            text += (
                f" Inside, the conditional bound log p(x | c) is {d:.2f} nats {'above' if d > 0 else 'below'} the "
                f"unconditional bound on log p(x) on average (the truth: log 9 = {np.log(9):.2f} above, since p(x | c) "
                f"= 9 p(x) in x's own cell)."
            )
        return text

    def exact_finding(self, inside: list[dict], outside: list[dict]) -> str:
        """What the exact likelihood adds: its distance from the truth inside, and from the bound."""
        parts = []
        if inside:
            err = max(abs(r["exact_logp"] - self.truth_inside) for r in inside)
            slack = float(np.mean([r["exact_logp"] - r["elbo"] for r in inside]))
            parts.append(
                f"The exact log p (probability-flow ODE, exact divergence, {inside[0]['exact_nfe']} evaluations) of "
                f"the points inside is within {err:.3f} nats of the truth {self.truth_inside:.3f}, and "
                f"{abs(slack):.2f} nats {'above' if slack > 0 else 'below'} the bound on average"
            )
        if outside:
            gap = float(np.mean([r["exact_logp"] - r["elbo"] for r in outside]))
            parts.append(
                f"outside, the bound lies {abs(gap):.1f} nats {'below' if gap > 0 else 'above'} the exact value on "
                "average: it is loosest exactly where C6 compares points"
            )
        if not parts:
            return ""
        return sentence("; ".join(parts)) + " " + self.bias_finding(inside, outside)

    def bias_finding(self, inside: list[dict], outside: list[dict]) -> str:
        """The exact value's two biases, each measured: the Gaussian prior at t = 1 against the training data's own
        p_1, and the end of the path at sigma_min against the truth."""

        def spread(rows: list[dict]) -> str:
            cost = [r["exact_logp"] - r["exact_logp_data_prior"] for r in rows]
            return f"{min(cost):+.3f} to {max(cost):+.3f} nats"

        text = (
            f"Two biases remain, both measured. The prior at t = 1 is the {self.start} start's Gaussian, not the "
            "training "
            "points blurred by sigma_max; against that exact p_1 it moves the values "
            + ", ".join(
                f"{name} by {spread(rows)}" for name, rows in (("inside", inside), ("outside", outside)) if rows
            )
        )
        if inside:
            gauss = max(abs(r["exact_logp"] - self.truth_inside) for r in inside)
            data = max(abs(r["exact_logp_data_prior"] - self.truth_inside) for r in inside)
            how = (
                "closer than"
                if round(data, 3) < round(gauss, 3)
                else "as close as"
                if round(data, 3) == round(gauss, 3)
                else "farther than"
            )
            text += (
                f" (with the data's p_1 the worst distance from the truth inside is {data:.3f} nats, {how} the "
                f"Gaussian's {gauss:.3f})"
            )
        text += ". The path ends at sigma_min = exp(-5), so its target is the data smoothed by that much"
        if inside:
            shift = max(abs(r["smoothed_truth"] - self.truth_inside) for r in inside)
            text += ": at the points inside it differs from the truth by " + (
                "less than 0.001 nats" if shift < 1e-3 else f"up to {shift:.3f} nats"
            )
        if outside:
            r = max(outside, key=lambda r: r["smoothed_truth"])
            gap = r["exact_logp"] - r["smoothed_truth"]
            text += (
                f"; outside it is finite but steep ({r['smoothed_truth']:.1f} at ({r['x']:g}, {r['y']:g})), and the "
                f"model's exact value there is {abs(gap):.1f} nats "
                + (
                    "above it: the learned density falls off far more gently than the data smoothed by sigma_min"
                    if gap > 0
                    else "below it"
                )
            )
        return text + "."


@dataclass
class DensityGrid(Result):
    """C6: the exact log p(x) of the trained model on a grid, beside the data's true log density."""

    FIGURE: ClassVar[str] = "density_figure"  # the key of its figure in what `gencli.plots.draw` returns

    axis: np.ndarray  # (S,) grid coordinates along x and y
    logp: np.ndarray  # (S, S), row = y
    truth: np.ndarray  # (S, S), -inf where the data has no mass
    truth_value: float
    klass: int | None
    nfe: int
    start: str

    def to_dict(self) -> dict:
        inside = np.isfinite(self.truth)
        return {
            "density_grid": {
                "size": len(self.axis),
                "class": self.klass,
                "nfe": self.nfe,
                "inside_mean": float(self.logp[inside].mean()),
                "inside_std": float(self.logp[inside].std()),
                "outside_max": float(self.logp[~inside].max()) if (~inside).any() else None,
                "truth_inside": self.truth_value,
            }
        }

    def tables(self) -> list[Table]:
        d = self.to_dict()["density_grid"]
        return [
            Table(
                f"exact log p on a {len(self.axis)}x{len(self.axis)} grid"
                + (f" (class {self.klass})" if self.klass is not None else ""),
                [("inside: mean", ".3f"), ("inside: std", ".3f"), ("truth inside", ".3f"), ("outside: highest", ".2f")],
                [(d["inside_mean"], d["inside_std"], d["truth_inside"], d["outside_max"])],
            )
        ]

    def data_files(self) -> list[DataFile]:
        rows = [
            (
                float(x),
                float(y),
                float(self.logp[j, i]),
                float(self.truth[j, i]) if np.isfinite(self.truth[j, i]) else "",
            )
            for j, y in enumerate(self.axis)
            for i, x in enumerate(self.axis)
        ]
        return [DataFile("density_grid", "density_grid.csv", ["x", "y", "exact_logp", "true_logp"], rows)]

    def finding(self) -> str:
        d = self.to_dict()["density_grid"]
        where = f"class {self.klass}'s cell" if self.klass is not None else "the square"
        text = (
            f"Over {where} the model's exact log density averages {d['inside_mean']:.3f} (spread "
            f"{d['inside_std']:.3f}) "
            f"against the true {d['truth_inside']:.3f}"
        )
        if d["outside_max"] is not None:
            text += (
                f"; outside it falls, to at most {d['outside_max']:.2f} on the grid, where the truth is minus infinity"
            )
        return text + "."
