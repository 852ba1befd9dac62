"""Log-probabilities (L5): per token of a sentence, and of a whole file in bits per byte."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from gencli.core.results import DataFile, Result, Table
from gencli.lm.results.common import token_label


@dataclass
class TokenLogProbs(Result):
    """L5: a text's log-probability as the sum of its per-token log-probabilities."""

    FIGURE: ClassVar[str] = "prob_figure"  # the key of its figure in what `gencli.plots.draw` returns

    text: str
    tokens: list[str]
    logprobs: list[float]
    probs: list[float]
    ranks: list[int]
    first_token: str | None  # the unscored first token when there is no context
    positions: list[int] = field(default_factory=list)

    @property
    def total(self) -> float:
        return float(math.fsum(self.logprobs))

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "tokens": [
                {"token": t, "logprob": lp, "prob": p, "rank": r}
                for t, lp, p, r in zip(self.tokens, self.logprobs, self.probs, self.ranks)
            ],
            "total_logprob": self.total,
            "n_scored": len(self.tokens),
            "first_token_scored": self.first_token is None,
        }

    def tables(self) -> list[Table]:
        rows = [
            (i + 1, token_label(t), p, lp, r)
            for i, (t, lp, p, r) in enumerate(zip(self.tokens, self.logprobs, self.probs, self.ranks))
        ]
        rows.append(("", "total", None, self.total, None))
        given = "" if self.first_token is None else f" (first token {self.first_token!r} given, not scored)"
        return [
            Table(
                f"per-token log-probabilities{given}",
                [("#", "d"), ("token", ""), ("prob", ".3g"), ("log-prob", ".3f"), ("rank", "d")],
                rows,
            )
        ]

    def data_files(self) -> list[DataFile]:
        pos = self.positions or list(range(1, len(self.tokens) + 1))
        return [
            DataFile(
                "prob",
                "token_logprobs.csv",
                ["position", "token", "logprob", "prob", "rank"],
                list(zip(pos, self.tokens, self.logprobs, self.probs, self.ranks)),
            )
        ]

    def finding(self) -> str:
        worst = int(np.argmin(self.logprobs))
        return (
            f"log p = {self.total:.2f} nats ({self.total / math.log(2):.1f} bits), the sum of {len(self.tokens)} "
            "per-token "
            f"log-probabilities (the product of the probabilities would be e^{self.total:.1f}). The least expected "
            "token is "
            f"{self.tokens[worst]!r} (p = {self.probs[worst]:.2g}, rank {self.ranks[worst]})."
        )


@dataclass
class TextScore(Result):
    """A whole text's log-probability under the model (sliding window) and its bits per byte."""

    FIGURE: ClassVar[str] = "file_figure"  # the key of its figure in what `gencli.plots.draw` returns

    source: str
    n_tokens: int
    n_bytes: int
    stride: int
    block: int
    logprobs: np.ndarray  # (n_tokens - 1,): every token after the first; adaptive: (n_tokens,), the first uniform
    adaptive: bool = False  # predicted as `lm compress --adapt` codes it (`stride` is then the segment length)

    @property
    def total(self) -> float:
        return float(math.fsum(self.logprobs.tolist()))

    @property
    def bits_per_byte(self) -> float:
        return -self.total / math.log(2) / self.n_bytes

    def to_dict(self) -> dict:
        return {
            "file": self.source,
            "total_logprob": self.total,
            "tokens": self.n_tokens,
            "bytes": self.n_bytes,
            "bits_per_byte": self.bits_per_byte,
            "stride": self.stride,
            "scored_tokens": len(self.logprobs),
            "adapt": self.adaptive,
        }

    def tables(self) -> list[Table]:
        how = f"adaptive, segments of {self.stride}" if self.adaptive else f"stride {self.stride}"
        return [
            Table(
                f"log-probability of {self.source} (window {self.block}, {how})",
                [
                    ("tokens", ",d"),
                    ("bytes", ",d"),
                    ("log p (nats)", ",.1f"),
                    ("nats/token", ".3f"),
                    ("bits/byte", ".4f"),
                ],
                [
                    (
                        self.n_tokens,
                        self.n_bytes,
                        self.total,
                        -self.total / max(len(self.logprobs), 1),
                        self.bits_per_byte,
                    )
                ],
            )
        ]

    def data_files(self) -> list[DataFile]:
        return [
            DataFile(
                "token_logprobs",
                "file_logprobs.csv",
                ["position", "logprob"],
                [(i + 1 - self.adaptive, float(v)) for i, v in enumerate(self.logprobs)],
            )
        ]

    def finding(self) -> str:
        how = (
            "every token scored as `lm compress --adapt` codes it, the first uniformly, each later one adapting to "
            "the "
            f"text before it with at least {self.block - self.stride} tokens of context once the text is that long"
            if self.adaptive
            else f"every token after the first scored with at least {self.block - self.stride} "
            "tokens of context once the text is that long"
        )
        return (
            f"The model gives the {self.n_bytes:,} bytes ({self.n_tokens:,} tokens) a log-probability of "
            f"{self.total:,.1f} nats: "
            f"{self.bits_per_byte:.3f} bits per byte ({how})."
        )
