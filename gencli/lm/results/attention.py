"""Attention at the prediction of a chosen word (L3, L4): head-averaged rows of the first and last block."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from gencli.core.results import DataFile, Result, Table
from gencli.lm.results.common import token_label


@dataclass
class AttentionMaps(Result):
    """L3/L4: head-averaged attention softmax(QK^T / sqrt(d_head)) of chosen blocks at the prediction of a word."""

    FIGURE: ClassVar[str] = "attention_figure"  # the key of its figure in what `gencli.plots.draw` returns
    LAST_FIGURE: ClassVar[str] = "attention_last_figure"

    text: str
    tokens: list[str]
    query_index: int
    word: int
    predicted_word: str
    matrices: dict[str, np.ndarray]  # block name -> (T, T)
    requested_word: int = 0  # the word asked for (0: `word`)
    how: str = "greedy"  # "greedy", "sampled" (greedy did not reach the word) or "last word" (neither did)
    prompt: str = ""
    new_tokens: int = 0
    max_new: int = 0
    query_word: str = ""  # the word the query token belongs to

    def rows(self) -> dict[str, np.ndarray]:
        """Each block's attention row of the query over the tokens up to it."""
        return {k: m[self.query_index, : self.query_index + 1] for k, m in self.matrices.items()}

    def to_dict(self) -> dict:
        rows = self.rows()
        return {
            "tokens": self.tokens,
            "query_index": self.query_index,
            "text": self.text,
            "word": self.word,
            "requested_word": self.requested_word or self.word,
            "how": self.how,
            "predicted_word": self.predicted_word,
            "blocks": {k: v.tolist() for k, v in rows.items()},
            "row_sums": {k: float(v.sum()) for k, v in rows.items()},
            "spread_tokens": {k: spread(v) for k, v in rows.items()},
        }

    def tables(self) -> list[Table]:
        rows = self.rows()
        names = list(rows)
        score_rows = [
            (i, token_label(t), *[float(rows[k][i]) for k in names])
            for i, t in enumerate(self.tokens[: self.query_index + 1])
        ]
        score_rows.append(("", "sum", *[float(rows[k].sum()) for k in names]))
        return [
            Table(
                f"attention from token {self.query_index} {self.tokens[self.query_index]!r} (mean over heads), "
                "predicting "
                f"word {self.word} {self.predicted_word!r}",
                [("index", "d"), ("token", "")] + [(k, ".4f") for k in names],
                score_rows,
            )
        ]

    def data_files(self) -> list[DataFile]:
        payload = {**self.to_dict(), "matrices": {k: v.tolist() for k, v in self.matrices.items()}}
        return [DataFile("attention", "attention.json", content=json.dumps(payload, indent=1))]

    def _written(self) -> str:
        """What the model wrote after the prompt, shortened."""
        new = self.text[len(self.prompt) :] if self.prompt and self.text.startswith(self.prompt) else self.text
        new = " ".join(new.split())
        return (new[:60].rsplit(" ", 1)[0] + " …") if len(new) > 60 else new

    def finding(self, blocks: list[str] | None = None) -> str:
        """What was generated, which word is predicted from which token, and each block's attention against uniform."""
        requested = self.requested_word or self.word
        written = self._written()
        if self.how == "greedy":
            intro = f"The model continued the prompt greedily with {written!r}."
        elif self.how == "sampled" and requested == self.word:
            intro = (
                f"Greedy decoding did not reach word {requested} within {self.max_new} tokens, so a seeded sample "
                f"was drawn: {written!r}."
            )
        elif self.how == "sampled":
            intro = f"The model continued the prompt (sampled) with {written!r}."
        else:
            intro = (
                f"The model did not write {requested} words within {self.max_new} tokens (greedy, then a seeded "
                "sample: "
                f"{written!r}); the maps are taken at the last whole word of the text instead."
            )
        q = self.query_index
        piece = self.tokens[q]
        n = q + 1
        if not piece.strip():
            where = f"the whitespace token {piece!r} after word {self.word - 1} {self.query_word!r}"
        elif piece.strip() == self.query_word:
            where = f"word {self.word - 1} {self.query_word!r} itself, one token"
        else:
            where = f"{piece!r}, the last piece of word {self.word - 1} {self.query_word!r}"
        text = (
            f"{intro} Word {self.word} ({self.predicted_word!r}) is predicted at token {q}, {where} (tokens count "
            "from 0, "
            f"words from 1); uniform attention over the {n} visible tokens would give each 1/{n} = {1 / n:.3f}."
        )
        rows = {k: v for k, v in self.rows().items() if blocks is None or k in blocks}
        for name, row in rows.items():
            top = int(np.argmax(row))
            share = f"{row[top]:.2f}, {row[top] * n:.1f}x uniform"
            tok = f"token {top} {self.tokens[top]!r}"
            if row[top] > 0.5:
                lead = f" The {name} block puts most of its weight on {tok} ({share})"
            elif row[top] * n < 1.5:
                lead = f" The {name} block spreads its weight almost evenly (the largest share, {share}, on {tok})"
            else:
                lead = f" The {name} block gives its largest share to {tok} ({share})"
            text += f"{lead} and covers about {spread(row):.1f} of the {n} tokens."
        if "first" in rows and "last" in rows:
            a, b = spread(rows["first"]), spread(rows["last"])
            if abs(a - b) <= 0.05 * max(a, b):
                text += " The two blocks are about equally concentrated."
            else:
                more, less = ("last", "first") if b < a else ("first", "last")
                text += (
                    f" The {more} block is the more concentrated one ({min(a, b):.1f} against {max(a, b):.1f} tokens)."
                )
        return text


def spread(row: np.ndarray) -> float:
    """The effective number of tokens a row of attention weights covers: exp of its entropy (n for uniform, 1 for
    one)."""
    p = np.asarray(row, dtype=float)
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))
