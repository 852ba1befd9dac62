"""The quality of a set of samples against the data, for any 2D set: numbers, a table row, and the words for them."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass


@dataclass
class SampleQuality:
    """Samples against fresh data (a file's held-out points): histogram TV with its noise floor, k-NN precision and
    recall beside the same two numbers for data against data, and where the set knows its density, the samples' mean
    true log-density beside the data's own (minus the entropy). The square's exercise figures ride along."""

    n: int
    reference: int  # points of fresh data the samples are measured against
    reference_kind: str  # "fresh data" or "held-out points"
    tv: float
    floor: float  # the TV two data draws of the same sizes show from sampling noise alone (mean)
    floor_sd: float
    floor_repeats: int
    precision: float
    recall: float
    data_precision: float  # two data draws against each other: the most the sizes allow
    data_recall: float
    k: int
    inside_fraction: float  # samples in the data's support
    truth_logp: float | None = None  # mean log p_true over the samples where it is finite (None: unknown)
    truth_outside: float | None = None  # share of samples where the true density is zero
    data_logp: float | None = None  # the same mean over the reference points
    square_tv: float | None = None  # the square's own: TV of a 10x10 histogram from uniform
    square_floor: float | None = None

    @property
    def ratio(self) -> float:
        """TV over its noise floor: 1 is as good as sampling noise allows."""
        return self.tv / self.floor if self.floor > 0 else float("inf")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["tv_ratio"] = self.ratio
        return d

    COLUMNS = (("TV vs data", ".3f"), ("floor", ".3f"), ("x floor", ".2f"), ("precision", ".3f"), ("recall", ".3f"))

    def row(self) -> tuple:
        return (self.tv, self.floor, self.ratio, self.precision, self.recall)

    def text(self) -> str:
        """What the numbers say, in one sentence."""
        text = (
            f"Against {self.reference:,} points of {self.reference_kind}, the {self.n:,} samples' histogram is "
            f"{self.tv:.3f} away in total variation, {self.ratio:.2f}x the {self.floor:.3f} that two data draws of "
            f"these sizes show from sampling noise alone; k-NN precision {self.precision:.3f} and recall "
            f"{self.recall:.3f} (k = {self.k}; data against data: {self.data_precision:.3f} and "
            f"{self.data_recall:.3f})."
        )
        if self.truth_logp is not None and self.data_logp is not None:
            gap = self.truth_logp - self.data_logp
            where = (
                "the samples score"
                if not self.truth_outside
                else f"the {1 - self.truth_outside:.1%} of samples where the data has density score"
            )
            if abs(gap) < 0.0005:
                relation = "level with it"
            else:
                relation = f"{'above' if gap > 0 else 'below'} it by {abs(gap):.3f}"
            text += (
                f" Under the true density {where} {self.truth_logp:.3f} nats on average against the "
                f"data's own {self.data_logp:.3f} ({relation})."
            )
            if self.truth_outside:
                text += f" The other {self.truth_outside:.1%} fall where the data has no density."
        return text


def is_number(v) -> bool:
    return v is not None and isinstance(v, float) and math.isfinite(v)
