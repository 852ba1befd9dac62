"""Result objects of the language-model analyses (L1-L6): numbers, strings and numpy arrays, no torch."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
from safetensors.numpy import save as safetensors_bytes

from gencli.core.results import DataFile, Result, Table


def _label(token: str) -> str:
    """A token as shown in tables: quoted with escapes when it has spaces at its ends or is empty."""
    return repr(token) if token.strip() != token or not token else token


@dataclass
class LMTrainingSummary(Result):
    """L1: train and validation loss over training, the best validation and its bits per byte."""

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
        return [Table(f"{self.model} on {self.corpus}, {self.to_dict()['steps']} steps",
                      [("train loss", ".3f"), ("val loss", ".3f"), ("best val", ".3f"), ("at step", "d"),
                       ("val bits/byte", ".3f"), ("best val bits/byte", ".3f"), ("tokens/s", ",.0f")],
                      [(m.get("train_loss"), m.get("val_loss"), m.get("best_val_loss"), m.get("best_step"), m.get("val_bpb"),
                        m.get("best_val_bpb"), m.get("tokens_per_s"))])]

    def data_files(self) -> list[DataFile]:
        at_train = dict(zip(self.eval_steps.tolist(), self.eval_train.tolist()))
        at_val = dict(zip(self.eval_steps.tolist(), self.eval_val.tolist()))
        return [DataFile("metrics", "metrics.csv", ["step", "train_loss", "train_estimate", "val_loss"],
                         [(int(s), float(v), at_train.get(int(s), ""), at_val.get(int(s), "")) for s, v in zip(self.steps, self.train)])]

    def finding(self) -> str:
        m = self.metrics
        best, last = m.get("best_val_loss"), m.get("val_loss")
        if best is None or last is None:
            return ""
        train = m["train_loss"]
        steps = int(self.steps[-1]) if len(self.steps) else 0
        text = (f"Validation loss is lowest at step {m['best_step']} ({best:.3f} nats/token, {m['best_val_bpb']:.3f} bits per byte); "
                f"it ends at {last:.3f} while the training estimate ends at {train:.3f}")
        gap = last - train
        if gap > 0.1 * last:
            text += (f": a gap of {gap:.2f} nats/token, {gap / last:.0%} of the validation loss. The model fits the training "
                     "text much better than held-out text (overfitting).")
        else:
            text += f" (a gap of {gap:.2f} nats/token): no sign of overfitting yet."
        if last > 1.05 * best:
            text += " Validation rose after its best step."
        text += (f" L2-L5 use the best weights (step {m['best_step']}, model.safetensors)"
                 + (f", not the last (step {steps})." if m["best_step"] != steps else ", which are also the last."))
        if m.get("stopped_early"):
            text += f" Training stopped early at step {int(self.steps[-1])}: validation had stopped improving (train.patience)."
        return text


@dataclass
class Generation(Result):
    """Continuations of a prompt."""

    prompt: str
    samples: list[str]
    settings: dict

    def to_dict(self) -> dict:
        return {"samples": self.samples, "prompt": self.prompt, **self.settings}

    def tables(self) -> list[Table]:
        return [Table(f"continuations of {self.prompt!r}", [("#", "d"), ("text", "")],
                      [(i + 1, s) for i, s in enumerate(self.samples)])]

    def finding(self) -> str:
        how = "greedy decoding" if self.settings.get("greedy") else f"sampling at temperature {self.settings.get('temperature', 1):g}"
        return f"{len(self.samples)} continuation(s) of {self.prompt!r} by {how}."


@dataclass
class TextInversion(Result):
    """L2: input vectors, in place of the token embeddings, whose greedy output is the target."""

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
        return {"success": self.success, "steps": self.steps, "decoded": self.decoded[-1], "target": self.target,
                "loss": self.loss, "restarts": self.restarts, "free_run": self.free_run,
                "final_loss": float(self.losses[-1]), "nearest_tokens": self.nearest_tokens, "nearest_text": self.nearest_text,
                "nearest_reproduces": self.nearest_reproduces}

    def tables(self) -> list[Table]:
        return [
            Table("decoded text along the way (each change)", [("step", "d"), ("loss", ".3f"), ("greedy decode", "")], self.changes()),
            Table(f"nearest real token to each found vector (success: {'yes' if self.success else 'no'} after {self.steps} steps)",
                  [("position", "d"), ("target token", ""), ("nearest real token", "")],
                  [(i, _label(t), _label(n)) for i, (t, n) in enumerate(zip(self.target_tokens, self.nearest_tokens))]),
        ]

    def data_files(self) -> list[DataFile]:
        return [DataFile("decoded", "decoded.csv", ["step", "loss", "decoded"],
                         [(i + 1, float(v), d) for i, (v, d) in enumerate(zip(self.losses, self.decoded))]),
                DataFile("vectors", "vectors.safetensors", content=safetensors_bytes({"vectors": np.ascontiguousarray(self.vectors)}))]

    def finding(self) -> str:
        how = (f"{self.restarts} random start{'s' if self.restarts > 1 else ''} optimised together, "
               + ("margin loss" if self.loss == "margin" else "cross-entropy"))
        if self.success:
            text = (f"The greedy decode equals {self.target!r} after {self.steps} Adam steps ({how}; loss {self.losses[-1]:.3f}).")
        else:
            text = (f"The inversion did not reach the target in {self.steps} steps ({how}); the best decode is "
                    f"{self.decoded[-1]!r} (loss {self.losses[-1]:.3f}).")
        text += (" As in the exercise, the decode is the argmax at each position of the model fed all found vectors at "
                 "once, not autoregressive generation: fed only the first found vector and then its own predictions, "
                 f"the model writes {self.free_run!r}.")
        same = sum(a == b for a, b in zip(self.target_tokens, self.nearest_tokens))
        text += (f" {same} of {len(self.target_tokens)} found vectors lie nearest to the target's own token; the nearest real "
                 f"tokens {'do' if self.nearest_reproduces else 'do not'} reproduce the target.")
        if self.tied and same > len(self.target_tokens) / 2:
            text += (" Why the target's own token: the residual stream carries the input vector at position i straight to "
                     "the head, and with the head tied to the embedding the head scores a token y by E[y] . h, so moving "
                     "the vector toward E[target i] raises exactly the logit it must win.")
        return text


@dataclass
class TokenPrompt(Result):
    """L2 with real tokens: a prompt a user can type whose greedy continuation is the target (GCG search)."""

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
        return {"success": self.success, "prompt": self.prompt, "prompt_ids": self.prompt_ids, "target_ids": self.target_ids,
                "target": self.target, "continuation": self.continuation, "target_tokens_right": self.right,
                "steps": self.steps, "seconds": self.seconds, "forbid_target_words": self.forbid_target_words,
                "copies_target": self.copies_target, **({"training_text": self.evidence} if self.evidence else {})}

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
        return [Table("a prompt of real tokens for the target (greedy continuation)",
                      [("target", ""), ("prompt found", ""), ("greedy continuation", ""), ("success", ""), ("steps", "d"),
                       ("seconds", ".1f")],
                      [(self.target, self.prompt, self.continuation, self.success, self.steps, self.seconds)])]

    def data_files(self) -> list[DataFile]:
        return [DataFile("prompt_search", "prompt_search.csv", ["step", "loss"],
                         [(i + 1, float(v)) for i, v in enumerate(self.losses)])]

    def finding(self) -> str:
        n = len(self.target_ids)
        if self.success:
            text = (f"The prompt {self.prompt!r} ({len(self.prompt_ids)} real tokens) makes the model continue greedily with "
                    f"{self.target!r}, found in {self.steps} search steps ({self.seconds:.0f} s).")
        else:
            text = (f"No prompt of {len(self.prompt_ids)} real tokens was found in {self.steps} search steps "
                    f"({self.seconds:.0f} s); the closest, {self.prompt!r}, continues with {self.continuation!r}: "
                    f"{self.right} of the target's {n} tokens right from the start.")
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


@dataclass
class AttentionMaps(Result):
    """L3/L4: head-averaged attention softmax(QK^T / sqrt(d_head)) of chosen blocks at the prediction of a word."""

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
        return {"tokens": self.tokens, "query_index": self.query_index, "text": self.text, "word": self.word,
                "requested_word": self.requested_word or self.word, "how": self.how,
                "predicted_word": self.predicted_word, "blocks": {k: v.tolist() for k, v in rows.items()},
                "row_sums": {k: float(v.sum()) for k, v in rows.items()},
                "spread_tokens": {k: spread(v) for k, v in rows.items()}}

    def tables(self) -> list[Table]:
        rows = self.rows()
        names = list(rows)
        score_rows = [(i, _label(t), *[float(rows[k][i]) for k in names]) for i, t in enumerate(self.tokens[: self.query_index + 1])]
        score_rows.append(("", "sum", *[float(rows[k].sum()) for k in names]))
        return [Table(f"attention from token {self.query_index} {self.tokens[self.query_index]!r} (mean over heads), predicting "
                      f"word {self.word} {self.predicted_word!r}", [("index", "d"), ("token", "")] + [(k, ".4f") for k in names],
                      score_rows)]

    def data_files(self) -> list[DataFile]:
        payload = {**self.to_dict(), "matrices": {k: v.tolist() for k, v in self.matrices.items()}}
        return [DataFile("attention", "attention.json", content=json.dumps(payload, indent=1))]

    def _written(self) -> str:
        """What the model wrote after the prompt, shortened."""
        new = self.text[len(self.prompt):] if self.prompt and self.text.startswith(self.prompt) else self.text
        new = " ".join(new.split())
        return (new[:60].rsplit(" ", 1)[0] + " …") if len(new) > 60 else new

    def finding(self, blocks: list[str] | None = None) -> str:
        """What was generated, which word is predicted from which token, and each block's attention against uniform."""
        requested = self.requested_word or self.word
        written = self._written()
        if self.how == "greedy":
            intro = f"The model continued the prompt greedily with {written!r}."
        elif self.how == "sampled" and requested == self.word:
            intro = (f"Greedy decoding did not reach word {requested} within {self.max_new} tokens, so a seeded sample "
                     f"was drawn: {written!r}.")
        elif self.how == "sampled":
            intro = f"The model continued the prompt (sampled) with {written!r}."
        else:
            intro = (f"The model did not write {requested} words within {self.max_new} tokens (greedy, then a seeded sample: "
                     f"{written!r}); the maps are taken at the last whole word of the text instead.")
        q = self.query_index
        piece = self.tokens[q]
        n = q + 1
        if not piece.strip():
            where = f"the whitespace token {piece!r} after word {self.word - 1} {self.query_word!r}"
        elif piece.strip() == self.query_word:
            where = f"word {self.word - 1} {self.query_word!r} itself, one token"
        else:
            where = f"{piece!r}, the last piece of word {self.word - 1} {self.query_word!r}"
        text = (f"{intro} Word {self.word} ({self.predicted_word!r}) is predicted at token {q}, {where} (tokens count from 0, "
                f"words from 1); uniform attention over the {n} visible tokens would give each 1/{n} = {1 / n:.3f}.")
        rows = {k: v for k, v in self.rows().items() if blocks is None or k in blocks}
        for name, row in rows.items():
            top = int(np.argmax(row))
            text += (f" The {name} block puts most weight on token {top} {self.tokens[top]!r} ({row[top]:.2f}, "
                     f"{row[top] * n:.1f}x uniform) and spreads over about {spread(row):.1f} of the {n} tokens.")
        if "first" in rows and "last" in rows:
            a, b = spread(rows["first"]), spread(rows["last"])
            if abs(a - b) <= 0.05 * max(a, b):
                text += " The two blocks are about equally concentrated."
            else:
                more, less = ("last", "first") if b < a else ("first", "last")
                text += f" The {more} block is the more concentrated one ({min(a, b):.1f} against {max(a, b):.1f} tokens)."
        return text


def spread(row: np.ndarray) -> float:
    """The effective number of tokens a row of attention weights covers: exp of its entropy (n for uniform, 1 for one)."""
    p = np.asarray(row, dtype=float)
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


@dataclass
class TokenLogProbs(Result):
    """L5: a text's log-probability as the sum of its per-token log-probabilities."""

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
        return {"text": self.text, "tokens": [{"token": t, "logprob": lp, "prob": p, "rank": r}
                                              for t, lp, p, r in zip(self.tokens, self.logprobs, self.probs, self.ranks)],
                "total_logprob": self.total, "n_scored": len(self.tokens), "first_token_scored": self.first_token is None}

    def tables(self) -> list[Table]:
        rows = [(i + 1, _label(t), p, lp, r) for i, (t, lp, p, r) in enumerate(zip(self.tokens, self.logprobs, self.probs, self.ranks))]
        rows.append(("", "total", None, self.total, None))
        given = "" if self.first_token is None else f" (first token {self.first_token!r} given, not scored)"
        return [Table(f"per-token log-probabilities{given}", [("#", "d"), ("token", ""), ("prob", ".3g"), ("log-prob", ".3f"),
                                                              ("rank", "d")], rows)]

    def data_files(self) -> list[DataFile]:
        pos = self.positions or list(range(1, len(self.tokens) + 1))
        return [DataFile("prob", "token_logprobs.csv", ["position", "token", "logprob", "prob", "rank"],
                         list(zip(pos, self.tokens, self.logprobs, self.probs, self.ranks)))]

    def finding(self) -> str:
        worst = int(np.argmin(self.logprobs))
        return (f"log p = {self.total:.2f} nats ({self.total / math.log(2):.1f} bits), the sum of {len(self.tokens)} per-token "
                f"log-probabilities (the product of the probabilities would be e^{self.total:.1f}). The least expected token is "
                f"{self.tokens[worst]!r} (p = {self.probs[worst]:.2g}, rank {self.ranks[worst]}).")


@dataclass
class TextScore(Result):
    """A whole text's log-probability under the model (sliding window) and its bits per byte."""

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
        return {"file": self.source, "total_logprob": self.total, "tokens": self.n_tokens, "bytes": self.n_bytes,
                "bits_per_byte": self.bits_per_byte, "stride": self.stride, "scored_tokens": len(self.logprobs),
                "adapt": self.adaptive}

    def tables(self) -> list[Table]:
        how = f"adaptive, segments of {self.stride}" if self.adaptive else f"stride {self.stride}"
        return [Table(f"log-probability of {self.source} (window {self.block}, {how})",
                      [("tokens", ",d"), ("bytes", ",d"), ("log p (nats)", ",.1f"), ("nats/token", ".3f"), ("bits/byte", ".4f")],
                      [(self.n_tokens, self.n_bytes, self.total, -self.total / max(len(self.logprobs), 1), self.bits_per_byte)])]

    def data_files(self) -> list[DataFile]:
        return [DataFile("token_logprobs", "file_logprobs.csv", ["position", "logprob"],
                         [(i + 1 - self.adaptive, float(v)) for i, v in enumerate(self.logprobs)])]

    def finding(self) -> str:
        how = (f"every token scored as `lm compress --adapt` codes it, the first uniformly, each later one adapting to the "
               f"text before it with at least {self.block - self.stride} tokens of context once the text is that long"
               if self.adaptive else f"every token after the first scored with at least {self.block - self.stride} "
               "tokens of context once the text is that long")
        return (f"The model gives the {self.n_bytes:,} bytes ({self.n_tokens:,} tokens) a log-probability of {self.total:,.1f} nats: "
                f"{self.bits_per_byte:.3f} bits per byte ({how}).")


@dataclass
class CodedText:
    """One text coded by one compressor: its size, and whether decoding gave the text back (None: not checked)."""

    text: str
    coder: str
    input_bytes: int
    output_bytes: int
    model_bits_per_byte: float | None = None  # gencli's coders: sum of -log2 p / bytes (the ideal coder's size)
    round_trip: bool | None = None
    seconds: float | None = None  # gencli's coders: compressing
    decode_seconds: float | None = None  # gencli's coders: decompressing (the round trip)
    archive: bytes | None = field(default=None, repr=False)  # gencli's coders: the file itself

    @property
    def bits_per_byte(self) -> float:
        return 8 * self.output_bytes / max(self.input_bytes, 1)

    @property
    def is_gencli(self) -> bool:
        return self.coder.startswith("gencli")


STATIC, ADAPTIVE = "gencli static", "gencli adaptive"


def _coders(rows: list[CodedText]) -> str:
    """`A (1.900), B (2.000) and C (2.100)`: coders with their bits per byte, best first."""
    named = [f"{r.coder} ({r.bits_per_byte:.3f})" for r in sorted(rows, key=lambda r: r.bits_per_byte)]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def slug(name: str) -> str:
    """A text's name as a file name: `held-out chapters` -> `held-out-chapters`."""
    return "-".join(name.split())


@dataclass
class CompressionComparison(Result):
    """L6: texts coded by the model (static and adaptive) and by classic compressors, as file sizes."""

    rows: list[CodedText]
    given: str  # what the classic coders were given first (the model learned from it)

    def texts(self) -> list[str]:
        return list(dict.fromkeys(r.text for r in self.rows))

    def row(self, text: str, coder: str) -> CodedText | None:
        return next((r for r in self.rows if r.text == text and r.coder == coder), None)

    def to_dict(self) -> dict:
        return {"compression": [{"text": r.text, "coder": r.coder, "input_bytes": r.input_bytes, "output_bytes": r.output_bytes,
                                 "bits_per_byte": r.bits_per_byte, "model_bits_per_byte": r.model_bits_per_byte,
                                 "round_trip": r.round_trip, "seconds": r.seconds, "decode_seconds": r.decode_seconds}
                                for r in self.rows],
                "given": self.given}

    def tables(self) -> list[Table]:
        def checked(r: CodedText) -> str:
            return "" if r.round_trip is None else ("exact" if r.round_trip else "FAILED")

        return [Table(f"{text}: bytes and bits per byte of each coder ({self.given})",
                      [("coder", ""), ("bytes in", ",d"), ("bytes out", ",d"), ("bits/byte (file)", ".3f"),
                       ("bits/byte (model)", ".3f"), ("round trip", ""), ("compress s", ".1f"), ("decompress s", ".1f")],
                      [(r.coder, r.input_bytes, r.output_bytes, r.bits_per_byte, r.model_bits_per_byte, checked(r), r.seconds,
                        r.decode_seconds)
                       for r in sorted((r for r in self.rows if r.text == text), key=lambda r: r.bits_per_byte)])
                for text in self.texts()]

    def data_files(self) -> list[DataFile]:
        return [DataFile("compression_sizes", "compression.csv",
                         ["text", "coder", "input_bytes", "output_bytes", "bits_per_byte", "model_bits_per_byte", "round_trip"],
                         [(r.text, r.coder, r.input_bytes, r.output_bytes, r.bits_per_byte, r.model_bits_per_byte, r.round_trip)
                          for r in self.rows])] + [
            DataFile(f"archive {r.text} {r.coder}", f"{slug(r.text)}.txt{'.static' if r.coder == STATIC else ''}.gcz",
                     content=r.archive) for r in self.rows if r.archive is not None]

    def finding(self) -> str:
        parts = []
        for text in self.texts():
            rows = [r for r in self.rows if r.text == text]
            classic = [r for r in rows if not r.is_gencli]
            static, adaptive = self.row(text, STATIC), self.row(text, ADAPTIVE)
            best_gencli = min((r for r in rows if r.is_gencli), key=lambda r: r.bits_per_byte, default=None)
            if best_gencli is None:
                continue
            s = f"On the {text}, {best_gencli.coder} takes {best_gencli.bits_per_byte:.3f} bits per byte"
            if classic:
                best = min(classic, key=lambda r: r.bits_per_byte)
                beaten = [r for r in classic if r.bits_per_byte > best_gencli.bits_per_byte]
                if len(beaten) == len(classic):
                    s += f", fewer than every classic compressor here (the best, {best.coder}: {best.bits_per_byte:.3f})"
                elif not beaten:
                    s += f", more than every classic compressor here (the best, {best.coder}: {best.bits_per_byte:.3f})"
                else:
                    ahead = [r for r in classic if r.bits_per_byte <= best_gencli.bits_per_byte]
                    s += f", fewer than {_coders(beaten)} but more than {_coders(ahead)}"
            if static and adaptive:
                change = adaptive.output_bytes / static.output_bytes - 1
                s += (f"; adapting to the text {'saves' if change < 0 else 'costs'} {abs(change):.1%} of the static model's "
                      f"{static.output_bytes:,} bytes")
            parts.append(s + ".")
        checked = [r for r in self.rows if r.round_trip is not None]
        failed = [r for r in checked if not r.round_trip]
        if failed:
            parts.append("Decoding did NOT give the original bytes back for " +
                         ", ".join(f"{r.coder} on the {r.text}" for r in failed) + ".")
        elif checked:
            parts.append(f"Each of the {len(checked)} gencli archives decoded to the original bytes.")
        return " ".join(parts)
