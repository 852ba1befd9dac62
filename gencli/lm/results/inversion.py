"""Inversion (L2): input vectors for a target sentence, and a prompt of real tokens (GCG) whose greedy continuation
is the target."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from safetensors.numpy import save as safetensors_bytes

from gencli.core.results import DataFile, Result, Table
from gencli.lm.results.common import token_label


@dataclass
class TextInversion(Result):
    """L2: input vectors, in place of the token embeddings, whose greedy output is the target."""

    FIGURE: ClassVar[str] = "invert_loss_figure"  # the key of its figure in what `gencli.plots.draw` returns

    target: str
    success: bool
    steps: int
    losses: np.ndarray
    decoded: list[str]  # the greedy decode after each step
    target_tokens: list[str]
    nearest_tokens: list[str]
    nearest_text: str
    nearest_reproduces: bool
    vectors: np.ndarray
    loss: str = "margin"  # "margin" or "ce" (the exercise's cross-entropy)
    restarts: int = 1
    max_steps: int = 0
    free_run: str = ""  # greedy generation fed only the first found vector, then its own predictions
    tied: bool = False  # the model's head shares the token embedding matrix

    def changes(self) -> list[tuple[int, float, str]]:
        """(step, loss, decoded) at every step where the decoded text changed."""
        out: list[tuple[int, float, str]] = []
        for i, text in enumerate(self.decoded):
            if not out or out[-1][2] != text:
                out.append((i + 1, float(self.losses[i]), text))
        return out

    def to_dict(self) -> dict:
        return {
            "success": self.success,
            "steps": self.steps,
            "decoded": self.decoded[-1],
            "target": self.target,
            "loss": self.loss,
            "restarts": self.restarts,
            "free_run": self.free_run,
            "final_loss": float(self.losses[-1]),
            "nearest_tokens": self.nearest_tokens,
            "nearest_text": self.nearest_text,
            "nearest_reproduces": self.nearest_reproduces,
        }

    def tables(self) -> list[Table]:
        return [
            Table(
                "decoded text along the way (each change)",
                [("step", "d"), ("loss", ".3f"), ("greedy decode", "")],
                self.changes(),
            ),
            Table(
                f"nearest real token to each found vector (success: {'yes' if self.success else 'no'} after "
                f"{self.steps} steps)",
                [("position", "d"), ("target token", ""), ("nearest real token", "")],
                [
                    (i, token_label(t), token_label(n))
                    for i, (t, n) in enumerate(zip(self.target_tokens, self.nearest_tokens))
                ],
            ),
        ]

    def data_files(self) -> list[DataFile]:
        return [
            DataFile(
                "decoded",
                "decoded.csv",
                ["step", "loss", "decoded"],
                [(i + 1, float(v), d) for i, (v, d) in enumerate(zip(self.losses, self.decoded))],
            ),
            DataFile(
                "vectors",
                "vectors.safetensors",
                content=safetensors_bytes({"vectors": np.ascontiguousarray(self.vectors)}),
            ),
        ]

    def finding(self) -> str:
        how = f"{self.restarts} random start{'s' if self.restarts > 1 else ''} optimised together, " + (
            "margin loss" if self.loss == "margin" else "cross-entropy"
        )
        if self.success:
            text = (
                f"The greedy decode equals {self.target!r} after {self.steps} Adam steps ({how}; loss "
                f"{self.losses[-1]:.3f})."
            )
        else:
            text = (
                f"The inversion did not reach the target in {self.steps} steps ({how}); the best decode is "
                f"{self.decoded[-1]!r} (loss {self.losses[-1]:.3f})."
            )
        text += (
            " As in the exercise, the decode is the argmax at each position of the model fed all found vectors at "
            "once, not autoregressive generation: fed only the first found vector and then its own predictions, "
            f"the model writes {self.free_run!r}."
        )
        same = sum(a == b for a, b in zip(self.target_tokens, self.nearest_tokens))
        text += (
            f" {same} of {len(self.target_tokens)} found vectors lie nearest to the target's own token; the nearest "
            "real "
            f"tokens {'do' if self.nearest_reproduces else 'do not'} reproduce the target."
        )
        if self.tied and same > len(self.target_tokens) / 2:
            text += (
                " Why the target's own token: the residual stream carries the input vector at position i straight to "
                "the head, and with the head tied to the embedding the head scores a token y by E[y] . h, so moving "
                "the vector toward E[target i] raises exactly the logit it must win."
            )
        return text


@dataclass
class TokenPrompt(Result):
    """L2 with real tokens: a prompt a user can type whose greedy continuation is the target (GCG search)."""

    FIGURE: ClassVar[str] = "prompt_search_figure"  # the key of its figure in what `gencli.plots.draw` returns

    target: str
    success: bool
    prompt: str
    prompt_ids: list[int]
    target_ids: list[int]
    continuation: str  # what greedy decoding writes after the best prompt, as many tokens as the target has
    right: int  # target tokens the continuation gets right, from the start
    steps: int
    seconds: float
    losses: np.ndarray
    forbid_target_words: bool
    copies_target: bool  # the prompt holds two consecutive words of the target
    evidence: dict | None = None  # the target in the training text: occurrences, unseen_words, unseen_pairs (if known)

    def to_dict(self) -> dict:
        return {
            "success": self.success,
            "prompt": self.prompt,
            "prompt_ids": self.prompt_ids,
            "target_ids": self.target_ids,
            "target": self.target,
            "continuation": self.continuation,
            "target_tokens_right": self.right,
            "steps": self.steps,
            "seconds": self.seconds,
            "forbid_target_words": self.forbid_target_words,
            "copies_target": self.copies_target,
            **({"training_text": self.evidence} if self.evidence else {}),
        }

    def evidence_finding(self) -> str:
        """What the training text holds of the target, in one sentence (empty when the text was not given)."""
        e = self.evidence
        if e is None:
            return ""
        if e["occurrences"]:
            return f"The sentence occurs {e['occurrences']} time{'s' * (e['occurrences'] != 1)} in the training text."

        def never(noun: str, items: list[str]) -> str:
            many = len(items) > 1
            return f"the {noun}{'s' * many} {', '.join(map(repr, items))} never occur{'' if many else 's'}"

        parts = [never("word", e["unseen_words"])] if e["unseen_words"] else []
        seen_pairs = [p for p in e["unseen_pairs"] if not set(p.split()) & set(e["unseen_words"])]
        if seen_pairs:
            parts.append(never("word pair", seen_pairs) + (" although each word does" if not e["unseen_words"] else ""))
        return "The sentence never occurs in the training text" + (": " + "; ".join(parts) if parts else "") + "."

    def tables(self) -> list[Table]:
        return [
            Table(
                "a prompt of real tokens for the target (greedy continuation)",
                [
                    ("target", ""),
                    ("prompt found", ""),
                    ("greedy continuation", ""),
                    ("success", ""),
                    ("steps", "d"),
                    ("seconds", ".1f"),
                ],
                [(self.target, self.prompt, self.continuation, self.success, self.steps, self.seconds)],
            )
        ]

    def data_files(self) -> list[DataFile]:
        return [
            DataFile(
                "prompt_search",
                "prompt_search.csv",
                ["step", "loss"],
                [(i + 1, float(v)) for i, v in enumerate(self.losses)],
            )
        ]

    def finding(self) -> str:
        n = len(self.target_ids)
        if self.success:
            text = (
                f"The prompt {self.prompt!r} ({len(self.prompt_ids)} real tokens) makes the model continue greedily "
                "with "
                f"{self.target!r}, found in {self.steps} search steps ({self.seconds:.0f} s)."
            )
        else:
            text = (
                f"No prompt of {len(self.prompt_ids)} real tokens was found in {self.steps} search steps "
                f"({self.seconds:.0f} s); the closest, {self.prompt!r}, continues with {self.continuation!r}: "
                f"{self.right} of the target's {n} tokens right from the start."
            )
        if self.copies_target:
            text += " The prompt holds two consecutive words of the target: the model may be copying, not answering."
        elif self.forbid_target_words:
            text += " No word of the target appears in the prompt."
        return (text + " " + self.evidence_finding()).rstrip()


def prompt_search_rate(searches: list[TokenPrompt]) -> str:
    """How many searches found their prompt, split by whether the target occurs in the training text (when known)."""
    found = sum(r.success for r in searches)
    text = f"{found} of {len(searches)} sentences got a prompt whose greedy continuation is the sentence"
    if searches and all(r.evidence is not None for r in searches):
        seen = [r for r in searches if r.evidence["occurrences"]]
        unseen = [r for r in searches if not r.evidence["occurrences"]]
        groups = [(seen, "that occur in the training text"), (unseen, "that never occur there")]
        text += ": " + " and ".join(f"{sum(r.success for r in g)} of the {len(g)} {what}" for g, what in groups if g)
    return text + "."
