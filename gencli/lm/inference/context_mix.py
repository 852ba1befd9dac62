"""Context models of the text so far, mixed with the network's next-token distribution.

What a context-mixing coder (PAQ, cmix) learns at once and a small network trained on one book does not: the
repeats and n-grams of the text being coded. Three kinds of predictor over the next token, each from tokens
already coded (so a decoder repeats them exactly):
- order-k counts (k = 1..orders): how often each token followed the last k tokens, anywhere in the streams so
  far; the prediction is the counts over their total;
- a match model: the longest earlier occurrence (at least `match_min` tokens) of the stream's latest tokens
  predicts the token that followed it;
- the network's distribution (already mixed with its neural cache).

They are mixed linearly, p(t) = sum_i w_i p_i(t), w = softmax(a_s): one weight vector a_s per mixing context s
(the highest order whose context was seen before, how often, and the match length, each bucketed), so the mixer
learns how far to trust a count of 2 at order 3 or a 12-token match. After each token, a_s takes a gradient step
on log p(token): d log p / d a_s,i = w_i (p_i(token) - p(token)) / p(token). A predictor with nothing to say
(an unseen context, no match) gets weight 0 in that step and the others share its mass.
Arithmetic: float64 numpy, in a fixed order, the same on both sides of the coder.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COUNT_BUCKETS = (1, 2, 4, 8, 16)  # a context seen n times falls in the bucket of the largest bound <= n
MATCH_BUCKETS = (1, 4, 8, 16, 32)


def bucket(n: int, bounds: tuple[int, ...]) -> int:
    """0 for n below the first bound, else 1 + the index of the largest bound <= n."""
    b = 0
    for i, bound in enumerate(bounds):
        if n >= bound:
            b = i + 1
    return b


@dataclass(frozen=True)
class MixSettings:
    orders: int = 4
    match_min: int = 6
    lr: float = 0.02


class TokenContexts:
    """Counts of the token that followed every context of 1..orders tokens, over all streams."""

    def __init__(self, orders: int):
        self.orders = orders
        self.tables: list[dict[tuple[int, ...], dict[int, int]]] = [{} for _ in range(orders)]

    def lookup(self, history: list[int]) -> list[dict[int, int] | None]:
        """For k = 1..orders: the counts after the last k tokens of `history` (None: never seen, or too short)."""
        out = []
        for k in range(1, self.orders + 1):
            out.append(self.tables[k - 1].get(tuple(history[-k:])) if len(history) >= k else None)
        return out

    def add(self, history: list[int], token: int) -> None:
        """`token` followed `history`."""
        for k in range(1, min(self.orders, len(history)) + 1):
            counts = self.tables[k - 1].setdefault(tuple(history[-k:]), {})
            counts[token] = counts.get(token, 0) + 1


class MatchModel:
    """The latest earlier occurrence of a stream's last `min_len` tokens, followed while it keeps predicting right."""

    def __init__(self, min_len: int, streams: int):
        self.min_len = min_len
        self.seen: dict[tuple[int, ...], tuple[int, int]] = {}  # key -> (stream, index of the token after it)
        self.pointer: list[tuple[int, int] | None] = [None] * streams
        self.length = [0] * streams

    def predict(self, k: int, histories: list[list[int]]) -> tuple[int | None, int]:
        """(predicted next token of stream k or None, match length)."""
        at = self.pointer[k]
        if at is None:
            return None, 0
        s, i = at
        if i >= len(histories[s]):
            return None, 0
        return histories[s][i], self.length[k]

    def update(self, k: int, histories: list[list[int]]) -> None:
        """Stream k's history has just grown by one token: follow or re-find the match, remember the context."""
        h = histories[k]
        at = self.pointer[k]
        if at is not None and at[1] < len(histories[at[0]]) and histories[at[0]][at[1]] == h[-1]:
            self.pointer[k], self.length[k] = (at[0], at[1] + 1), self.length[k] + 1
        else:
            self.pointer[k], self.length[k] = None, 0
        if len(h) >= self.min_len:
            key = tuple(h[-self.min_len :])
            if self.pointer[k] is None and key in self.seen:
                self.pointer[k], self.length[k] = self.seen[key], self.min_len
            self.seen[key] = (k, len(h))


class ContextMixer:
    """The mixture of the network's distribution with the context models, for K streams advancing together."""

    def __init__(self, settings: MixSettings, streams: int, vocab: int):
        self.settings, self.vocab = settings, vocab
        self.contexts = TokenContexts(settings.orders)
        self.match = MatchModel(settings.match_min, streams) if settings.match_min > 0 else None
        self.histories: list[list[int]] = [[] for _ in range(streams)]
        self.n_inputs = 2 + settings.orders  # network, match, orders 1..K
        n_sets = (settings.orders + 1) * (len(COUNT_BUCKETS) + 1) * (len(MATCH_BUCKETS) + 1)
        self.weights = np.zeros((n_sets, self.n_inputs))  # mixing logits a_s; all equal at the start
        self.weights[:, 0] = 2.0  # trust the network first
        self.pending: list[tuple[int, np.ndarray, np.ndarray, list]] = []  # per stream: set, weights, inputs mask

    def mix(self, p_net: np.ndarray) -> np.ndarray:
        """The mixed distributions (n, V) of the next token of the first n streams, given the network's (n, V)."""
        out = np.empty_like(p_net)
        self.pending = []
        for k in range(len(p_net)):
            h = self.histories[k]
            counts = self.contexts.lookup(h)
            predicted, length = self.match.predict(k, self.histories) if self.match else (None, 0)
            top = max((i + 1 for i, c in enumerate(counts) if c), default=0)
            seen = sum(counts[top - 1].values()) if top else 0
            s = (top * (len(COUNT_BUCKETS) + 1) + bucket(seen, COUNT_BUCKETS)) * (len(MATCH_BUCKETS) + 1) + bucket(
                length, MATCH_BUCKETS
            )
            present = np.array([True, predicted is not None] + [c is not None for c in counts])
            a = np.where(present, self.weights[s], -np.inf)
            w = np.exp(a - a.max())
            w /= w.sum()
            p = w[0] * p_net[k]
            if predicted is not None:
                p[predicted] += w[1]
            for i, c in enumerate(counts):
                if c:
                    total = sum(c.values())
                    tokens = np.fromiter(c.keys(), dtype=np.int64, count=len(c))
                    p[tokens] += w[2 + i] * np.fromiter(c.values(), dtype=np.float64, count=len(c)) / total
            out[k] = p
            self.pending.append((s, w, present, (predicted, counts)))
        return out

    def input_probs(self, k: int, token: int, p_net_token: float) -> np.ndarray:
        """Each input's probability of `token` for stream k's pending prediction (0 where absent)."""
        _, _, present, (predicted, counts) = self.pending[k]
        x = np.zeros(self.n_inputs)
        x[0] = p_net_token
        x[1] = 1.0 if predicted == token else 0.0
        for i, c in enumerate(counts):
            if c:
                x[2 + i] = c.get(token, 0) / sum(c.values())
        return x

    def learn(self, tokens: list[int], p_net_tokens: list[float]) -> None:
        """Each stream's mixing weights step on the log-probability of its token; then the models see the tokens."""
        lr = self.settings.lr
        for k, (token, pn) in enumerate(zip(tokens, p_net_tokens)):
            s, w, present, _ = self.pending[k]
            x = self.input_probs(k, token, pn)
            p = float(w @ x)
            self.weights[s] += np.where(present, lr * w * (x - p) / p, 0.0)
        for k, token in enumerate(tokens):
            self.contexts.add(self.histories[k], token)
        for k, token in enumerate(tokens):
            self.histories[k].append(token)
            if self.match:
                self.match.update(k, self.histories)
