"""Likelihoods of chosen points (C6): the lower bound and the exact value beside the truth where the set knows it, and
the exact density over a grid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from gencli.core.results import DataFile, Result, Table
from gencli.diffusion.results.common import DataView, sentence

Z = 2.0  # a difference counts when it exceeds this many standard errors


def _known(v) -> bool:
    return v is not None and np.isfinite(v)


@dataclass
class ProbabilityTable(Result):
    """C6: the lower bound on log p(x) (or log p(x | c)) at chosen points, and the truth there where it is known."""

    FIGURE: ClassVar[str] = "prob_figure"  # the key of its figure in what `gencli.plots.draw` returns

    rows: list[dict]  # x, y, class, where, inside, own, elbo, stderr, its three parts, truth; exact_* with --exact
    steps: int
    samples: int
    conditional: bool
    background: np.ndarray
    view: DataView
    start: str = "matched"  # the start distribution p_1 of the bound's prior term and of the exact likelihood
    tolerance: tuple[float, float] | None = None  # (rtol, atol) of the exact likelihood's ODE; None: not computed
    sigma_min: float = 0.0  # where the probability-flow path ends: the exact value's target is the truth smoothed so

    def to_dict(self) -> dict:
        return {"points": self.rows, "steps": self.steps, "samples": self.samples}

    def _keys(self) -> tuple[list[tuple[str, str]], list[tuple]]:
        cols = [("#", "d"), ("x", ".2f"), ("y", ".2f")] + ([("class", "d")] if self.conditional else [])
        keys = [(i + 1, r["x"], r["y"], *((r["class"],) if self.conditional else ())) for i, r in enumerate(self.rows)]
        return cols, keys

    def tables(self) -> list[Table]:
        plain = "unconditional_elbo" in self.rows[0]
        exact = "exact_logp" in self.rows[0]
        key_cols, keys = self._keys()
        cols = key_cols + [
            ("where", ""),
            ("bound", ".2f"),
            ("stderr", ".2f"),
            ("truth", ".3f"),
            ("= reconstruction", ".2f"),
            ("- prior KL", ".2f"),
            ("- L_T", ".2f"),
        ]
        cols += [("unconditional bound", ".2f")] if plain else []
        rows = [
            (
                *k,
                r["where"],
                r["elbo"],
                r["stderr"],
                r["truth"],
                r["reconstruction"],
                -r["prior_kl"],
                r["neg_diffusion_loss"],
                *((r["unconditional_elbo"],) if plain else ()),
            )
            for k, r in zip(keys, self.rows)
        ]
        p = "p(x | c)" if self.conditional else "p(x)"
        out = [
            Table(
                f"lower bound on log {p} in nats (T={self.steps}, {self.samples} Monte Carlo samples): bound = "
                "reconstruction - prior KL - L_T; truth: the data's own log density (a dash where unknown)",
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
                        ("truth", ".3f"),
                    ],
                    [
                        (*k, r["elbo"], r["exact_logp"], r["exact_logp_data_prior"], r["smoothed_truth"], r["truth"])
                        for k, r in zip(keys, self.rows)
                    ],
                )
            )
        return out

    def data_files(self) -> list[DataFile]:
        return [DataFile("prob", "prob.csv", list(self.rows[0].keys()), [tuple(r.values()) for r in self.rows])]

    def inside_rows(self) -> list[dict]:
        """Points inside the data (and, conditional, in their own class's region)."""
        return [r for r in self.rows if r["inside"] and r.get("own") in (None, True)]

    def outside_rows(self) -> list[dict]:
        return [r for r in self.rows if not r["inside"]]

    def bound_finding(self, inside: list[dict]) -> str:
        """Each inside point's bound against its truth: below beyond the noise, within it, or above it (a lower bound
        above the truth beyond its Monte Carlo noise is a warning, not a success)."""
        known = [r for r in inside if _known(r["truth"])]
        where = f"inside {self.view.support}" + (f", each in its own {self.view.region}" if self.conditional else "")
        lo, hi = min(r["elbo"] for r in inside), max(r["elbo"] for r in inside)
        many = len(inside) != 1
        scores = f"score {lo:.2f} to {hi:.2f} nats" if many else f"scores {lo:.2f} nats"
        text = f"the {len(inside)} point{'s' if many else ''} {where} {scores}"
        if not known:
            return text + " (the set's true density is unknown)"
        below = [r for r in known if r["elbo"] < r["truth"] - Z * r["stderr"]]
        above = [r for r in known if r["elbo"] > r["truth"] + Z * r["stderr"]]
        near = len(known) - len(below) - len(above)
        truths = sorted({round(r["truth"], 3) for r in known})
        truth = f"the true log density {truths[0]:.3f}" if len(truths) == 1 else "their true log densities"
        parts: list[str] = []

        def name() -> str:  # the truth is named in the first clause, "it" afterwards
            return truth if not parts else ("it" if len(truths) == 1 else "theirs")

        if below:
            gap = np.mean([r["truth"] - r["elbo"] for r in below])
            parts.append(f"{len(below)} below {name()} by more than {Z:g} standard errors ({gap:.2f} nats on average)")
        if near:
            parts.append(f"{near} within {Z:g} standard errors of {name()}")
        if above:
            parts.append(f"{len(above)} above {name()} beyond the Monte Carlo noise, which a lower bound may not be")
        return text + ": " + ", ".join(parts)

    def finding(self) -> str:
        inside, outside = self.inside_rows(), self.outside_rows()
        parts = []
        if inside:
            parts.append(self.bound_finding(inside))
        if outside:
            worst = min(outside, key=lambda r: r["elbo"])
            best = max(outside, key=lambda r: r["elbo"])
            parts.append(
                f"points outside score from {best['elbo']:.1f} nats at ({best['x']:g}, {best['y']:g}) down to "
                f"{worst['elbo']:.1f} at ({worst['x']:g}, {worst['y']:g})"
                + (f" (each under the class of its nearest {self.view.region})" if self.conditional else "")
            )
        text = sentence("; ".join(parts)) if parts else ""
        if outside and inside:
            kl_share = np.mean([r["prior_kl"] / max(r["reconstruction"] - r["elbo"], 1e-9) for r in outside])
            text += (
                f" Outside, the prior KL is {kl_share:.0%} of what separates the bound from the reconstruction term: "
                "the start distribution, not the denoiser, does most of the rejecting."
                if kl_share > 0.5
                else f" Outside, L_T carries {1 - kl_share:.0%} of the drop below the reconstruction term: the "
                "denoiser cannot explain the point."
            )
        text += self.class_gap_finding()
        if "exact_logp" in self.rows[0]:
            text += " " + self.exact_finding(inside, outside)
        if "unconditional_elbo" in self.rows[0] and inside:
            d = float(np.mean([r["elbo"] - r["unconditional_elbo"] for r in inside]))
            text += (
                f" Inside, the conditional bound log p(x | c) is {abs(d):.2f} nats {'above' if d > 0 else 'below'} "
                "the unconditional bound on log p(x) on average"
            )
            truth = [
                r["truth"] - r["truth_unconditional"]
                for r in inside
                if _known(r["truth"]) and _known(r.get("truth_unconditional"))
            ]
            text += f" (the truth: {np.mean(truth):.2f} above, -log p(c) of each point's class)." if truth else "."
        return text

    def class_gap_finding(self) -> str:
        """At a place given twice, the matching class against a wrong one: the bound's gap, and the exact one."""
        text = ""
        by_place: dict = {}
        for r in self.rows:
            by_place.setdefault((r["x"], r["y"]), []).append(r)
        for (x, y), rs in by_place.items():
            own = [r for r in rs if r["inside"] and r.get("own")]
            wrong = [r for r in rs if r["inside"] and r.get("own") is False]
            if own and wrong:
                a, b = own[0], wrong[0]
                gap, noise = a["elbo"] - b["elbo"], float(np.hypot(a["stderr"], b["stderr"]))
                text += (
                    f" At ({x:g}, {y:g}) the matching class {a['class']} scores {abs(gap):.1f} nats "
                    f"{'above' if gap > 0 else 'below'} the wrong class {b['class']} by the bound"
                    + (" (within the Monte Carlo noise)" if abs(gap) <= Z * noise else "")
                )
                if "exact_logp" in a:
                    exact = a["exact_logp"] - b["exact_logp"]
                    text += f", {abs(exact):.1f} nats {'above' if exact > 0 else 'below'} it by the exact value"
                text += "."
        return text

    def exact_finding(self, inside: list[dict], outside: list[dict]) -> str:
        """What the exact likelihood adds: its distance from the truth inside, and where the bound exceeds it."""
        parts = []
        known = [r for r in inside if _known(r["truth"])]
        if known:
            err = max(abs(r["exact_logp"] - r["truth"]) for r in known)
            parts.append(
                f"the exact log p (probability-flow ODE, exact divergence, {known[0]['exact_nfe']} evaluations) "
                f"of the points inside is within {err:.3f} nats of the truth"
            )
        over = [r for r in self.rows if r["elbo"] - r["exact_logp"] > Z * r["stderr"]]
        slack = [r["exact_logp"] - r["elbo"] for r in self.rows]
        if over:
            r = max(over, key=lambda r: (r["elbo"] - r["exact_logp"]) / max(r["stderr"], 1e-12))
            parts.append(
                f"the bound lies above the exact value beyond its Monte Carlo noise at {len(over)} of "
                f"{len(self.rows)} points (by {r['elbo'] - r['exact_logp']:.2f} nats, "
                f"{(r['elbo'] - r['exact_logp']) / r['stderr']:.1f} standard errors, at ({r['x']:g}, "
                f"{r['y']:g})): a lower bound cannot exceed the exact value, so the two disagree there by more "
                "than the model's error of either"
            )
        if outside:
            gap = float(np.mean([r["exact_logp"] - r["elbo"] for r in outside]))
            parts.append(
                f"outside, the bound lies {abs(gap):.1f} nats {'below' if gap > 0 else 'above'} the exact value "
                "on average: it is loosest exactly where C6 compares points"
            )
        elif slack and not over:
            parts.append(f"the bound lies {float(np.mean(slack)):.2f} nats below the exact value on average")
        if not parts:
            return ""
        return sentence("; ".join(parts)) + " " + self.bias_finding(inside, outside)

    def bias_finding(self, inside: list[dict], outside: list[dict]) -> str:
        """The exact value's two biases, each measured: the Gaussian prior at t = 1 against the training data's own
        p_1, and the end of the path at sigma_min against the truth."""

        def spread(rows: list[dict]) -> str:
            cost = [r["exact_logp"] - r["exact_logp_data_prior"] for r in rows]
            return f"{min(cost):+.3f} to {max(cost):+.3f} nats"

        groups = [(name, rows) for name, rows in (("inside", inside), ("outside", outside)) if rows]
        text = (
            f"Two biases remain, both measured. The prior at t = 1 is the {self.start} start's Gaussian, not the "
            "training points blurred by sigma_max; against that exact p_1 it moves the values "
            + ", ".join(f"{name} by {spread(rows)}" for name, rows in groups)
        )
        known = [r for r in inside if _known(r["truth"])]
        if known:
            gauss = max(abs(r["exact_logp"] - r["truth"]) for r in known)
            data = max(abs(r["exact_logp_data_prior"] - r["truth"]) for r in known)
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
        text += f". The path ends at sigma_min = {self.sigma_min:.3g}, so its target is the data smoothed by that much"
        smooth = [r for r in known if _known(r["smoothed_truth"])]
        if smooth:
            shift = max(abs(r["smoothed_truth"] - r["truth"]) for r in smooth)
            text += ": at the points inside it differs from the truth by " + (
                "less than 0.001 nats" if shift < 1e-3 else f"up to {shift:.3f} nats"
            )
        far = [r for r in outside if _known(r["smoothed_truth"])]
        if far:
            r = max(far, key=lambda r: r["smoothed_truth"])
            gap = r["exact_logp"] - r["smoothed_truth"]
            text += (
                f"; outside it is {r['smoothed_truth']:.1f} at ({r['x']:g}, {r['y']:g}), and the model's exact value "
                f"there is {abs(gap):.1f} nats "
                + (
                    "above it: the learned density falls off far more gently than the data smoothed by sigma_min"
                    if gap > 0
                    else "below it"
                )
            )
        return text + "."


@dataclass
class DensityGrid(Result):
    """C6: the exact log p(x) of the trained model on a grid, beside the data's true log density where known."""

    FIGURE: ClassVar[str] = "density_figure"  # the key of its figure in what `gencli.plots.draw` returns

    xs: np.ndarray  # (S,) grid coordinates along x
    ys: np.ndarray  # (S,) along y
    logp: np.ndarray  # (S, S), row = y
    truth: np.ndarray | None  # (S, S), -inf where the data has no mass; None: the set's density is unknown
    klass: int | None
    nfe: int
    start: str
    view: DataView

    def _inside(self) -> np.ndarray | None:
        return np.isfinite(self.truth) if self.truth is not None else None

    def to_dict(self) -> dict:
        d = {"size": len(self.xs), "class": self.klass, "nfe": self.nfe, "model_mean": float(self.logp.mean())}
        inside = self._inside()
        if inside is not None and inside.any():
            err = self.logp[inside] - self.truth[inside]
            d.update(
                {
                    "inside_mean": float(self.logp[inside].mean()),
                    "inside_std": float(self.logp[inside].std()),
                    "truth_inside_mean": float(self.truth[inside].mean()),
                    "inside_mean_error": float(err.mean()),
                    "inside_worst_error": float(np.abs(err).max()),
                    "outside_max": float(self.logp[~inside].max()) if (~inside).any() else None,
                }
            )
        return {"density_grid": d}

    def tables(self) -> list[Table]:
        d = self.to_dict()["density_grid"]
        title = f"exact log p on a {len(self.xs)}x{len(self.ys)} grid" + (
            f" (class {self.klass})" if self.klass is not None else ""
        )
        if "inside_mean" not in d:
            return [Table(title, [("mean over the grid", ".3f"), ("truth", "")], [(d["model_mean"], "unknown")])]
        return [
            Table(
                title,
                [
                    ("inside: mean", ".3f"),
                    ("inside: std", ".3f"),
                    ("truth inside: mean", ".3f"),
                    ("mean error", ".3f"),
                    ("outside: highest", ".2f"),
                ],
                [(d["inside_mean"], d["inside_std"], d["truth_inside_mean"], d["inside_mean_error"], d["outside_max"])],
            )
        ]

    def data_files(self) -> list[DataFile]:
        rows = [
            (
                float(x),
                float(y),
                float(self.logp[j, i]),
                float(self.truth[j, i]) if self.truth is not None and np.isfinite(self.truth[j, i]) else "",
            )
            for j, y in enumerate(self.ys)
            for i, x in enumerate(self.xs)
        ]
        return [DataFile("density_grid", "density_grid.csv", ["x", "y", "exact_logp", "true_logp"], rows)]

    def finding(self) -> str:
        d = self.to_dict()["density_grid"]
        where = f"class {self.klass}'s {self.view.region}" if self.klass is not None else self.view.support
        if "inside_mean" not in d:
            return (
                f"The model's exact log density averages {d['model_mean']:.3f} over the grid; the set's true density "
                "is unknown, so there is no truth to set beside it."
            )
        err = d["inside_mean_error"]
        text = (
            f"Over {where} the model's exact log density averages {d['inside_mean']:.3f} (spread "
            f"{d['inside_std']:.3f}) against the true {d['truth_inside_mean']:.3f}, {abs(err):.3f} nats "
            f"{'above' if err > 0 else 'below'} it on average"
        )
        if d["outside_max"] is not None:
            text += (
                f"; outside it falls, to at most {d['outside_max']:.2f} on the grid, where the truth is minus infinity"
            )
        return text + "."
