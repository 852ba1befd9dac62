"""The exact likelihood of chosen points under a flow model (C6 for a flow): no bound applies, the value is exact."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from gencli.core.results import DataFile, Result, Table
from gencli.diffusion.results.common import DataView, sentence

NO_BOUND = (
    "No lower bound is computed: the VDM bound belongs to the VE-SDE's noising process, and a flow's change of "
    "variables gives log p itself"
)


def _known(v) -> bool:
    return v is not None and np.isfinite(v)


@dataclass
class FlowProbabilityTable(Result):
    """log p(x) (or log p(x | c)) at chosen points by the flow's ODE with its exact divergence, beside the truth."""

    FIGURE: ClassVar[str] = "prob_figure"

    rows: list[dict]  # x, y, class, where, inside, own, exact_logp, exact_nfe, truth
    conditional: bool
    background: np.ndarray
    view: DataView
    objective: str
    tolerance: tuple[float, float]

    def to_dict(self) -> dict:
        return {"points": self.rows, "objective": self.objective, "bound": None, "tolerance": list(self.tolerance)}

    def tables(self) -> list[Table]:
        p = "p(x | c)" if self.conditional else "p(x)"
        cols = [("#", "d"), ("x", ".2f"), ("y", ".2f")] + ([("class", "d")] if self.conditional else [])
        cols += [("where", ""), ("exact log p", ".3f"), ("truth", ".3f"), ("error", "+.3f"), ("evaluations", "d")]
        rows = []
        for i, r in enumerate(self.rows):
            err = r["exact_logp"] - r["truth"] if _known(r["truth"]) else None
            key = (i + 1, r["x"], r["y"], *((r["class"],) if self.conditional else ()))
            rows.append((*key, r["where"], r["exact_logp"], r["truth"], err, r["exact_nfe"]))
        rtol, atol = self.tolerance
        title = (
            f"exact log {p} in nats under the {self.objective} model (its ODE with the exact divergence, rtol "
            f"{rtol:g}, atol {atol:g}); truth: the data's own log density (a dash where unknown). {NO_BOUND}."
        )
        return [Table(title, cols, rows)]

    def data_files(self) -> list[DataFile]:
        return [DataFile("prob", "prob.csv", list(self.rows[0].keys()), [tuple(r.values()) for r in self.rows])]

    def finding(self) -> str:
        inside = [r for r in self.rows if r["inside"] and r.get("own") in (None, True)]
        outside = [r for r in self.rows if not r["inside"]]
        parts = []
        known = [r for r in inside if _known(r["truth"])]
        if known:
            errs = [r["exact_logp"] - r["truth"] for r in known]
            worst = max(errs, key=abs)
            parts.append(
                f"the {len(known)} point{'s' if len(known) != 1 else ''} inside {self.view.support} score within "
                f"{abs(worst):.3f} nats of the true log density (the worst {'above' if worst > 0 else 'below'} it), "
                f"by {known[0]['exact_nfe']} evaluations of the ODE"
            )
        elif inside:
            lo, hi = min(r["exact_logp"] for r in inside), max(r["exact_logp"] for r in inside)
            parts.append(f"the points inside score {lo:.2f} to {hi:.2f} nats (the set's true density is unknown)")
        if outside:
            best = max(outside, key=lambda r: r["exact_logp"])
            worst = min(outside, key=lambda r: r["exact_logp"])
            parts.append(
                f"points outside score from {best['exact_logp']:.1f} nats at ({best['x']:g}, {best['y']:g}) down to "
                f"{worst['exact_logp']:.1f} at ({worst['x']:g}, {worst['y']:g})"
            )
        if inside and outside:
            gap = min(r["exact_logp"] for r in inside) - max(r["exact_logp"] for r in outside)
            parts.append(
                f"every point inside scores above every point outside (by {gap:.1f} nats at the closest)"
                if gap > 0
                else f"some point outside scores {-gap:.1f} nats above a point inside: the model's density leaks"
            )
        return sentence("; ".join(parts)) + f" {NO_BOUND}." if parts else f"{NO_BOUND}."
