"""Next-token distributions over a whole text, segment by segment, optionally adapting to the text as it goes.

The text is cut into segments of `segment` tokens. Each segment is predicted by one model call on a window of
the block size that ends with it (so every token sees at least block - segment tokens before it), padded at the
end to the full block: every call has the same shape, and a token's distribution depends only on the tokens
before it. That is what lets a decoder, which learns the segment one token at a time, compute exactly the
distributions the encoder used.

Adaptive prediction divides the model's logits by a temperature (a calibration: a trained model is over-confident
on text it did not see) and adds two methods that use only text already predicted, so a decoder can repeat them:
- a neural cache (Grave et al. 2017, "Improving Neural Language Models with a Continuous Cache"):
  p(w) = (1 - lambda) p_model(w) + lambda sum_{i: x_{i+1} = w} softmax_i(theta h_t . h_i), over the last
  cache_size final hidden states h_i; lambda itself follows the gradient of each coded token's log p
  (d log p / d lambda = (p_cache - p_model) / p) with step cache_lambda_lr;
- dynamic evaluation (Krause et al. 2018, "Dynamic Evaluation of Neural Sequence Models"): after each segment,
  one SGD step on its cross-entropy, optionally pulled back towards the trained weights by `decay`.

The first token has no context: it gets the uniform distribution over the vocabulary.
Everything runs in fp32 on the CPU with CODING_THREADS threads and the explicit attention path (fixed kernels).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from gencli.core.errors import GencliError
from gencli.lm.config import AdaptConfig
from gencli.lm.model.gpt import GPT

LAMBDA_RANGE = (0.01, 0.9)  # the learned cache weight stays inside
CODING_THREADS = 2  # part of the archive format: other counts split the matrix products differently (other roundings)


@contextmanager
def fixed_threads(n: int = CODING_THREADS) -> Iterator[None]:
    """Run the block with `n` intra-op threads (the same kernels and reduction order on every run, on any number of
    cores: 2 threads on one core still split the work the same way)."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass(frozen=True)
class Segment:
    """Tokens [first, end) predicted from the window that starts at `start` (the window is ids[start:end])."""

    start: int
    first: int
    end: int

    def row(self, position: int) -> int:
        """The window row whose output predicts the token at `position`."""
        return position - 1 - self.start


def segment_plan(n_tokens: int, block: int, segment: int) -> list[Segment]:
    """The segments that cover tokens 1..n_tokens-1 (token 0 is predicted without context)."""
    if not 1 <= segment <= block - 1:
        raise GencliError(f"adapt.segment {segment}: must be in 1..{block - 1} (the block size is {block})")
    plan, first = [], 1
    while first < n_tokens:
        end = min(first + segment, n_tokens)
        plan.append(Segment(max(0, end - block), first, end))
        first = end
    return plan


def sgd_step(model: GPT, loss: Tensor, lr: float, trained: list[Tensor] | None, decay: float) -> None:
    """Dynamic evaluation's update: one SGD step of rate lr on `loss`, then each weight pulled `decay` of the way
    back to its trained value (when `trained` is given)."""
    params = list(model.parameters())
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for i, (p, g) in enumerate(zip(params, grads)):
            p.sub_(lr * g)
            if trained is not None:
                p.lerp_(trained[i], decay)


class NeuralCache:
    """The last `size` (final hidden state, next token) pairs and the distribution they give a new state."""

    def __init__(self, size: int, dim: int, vocab: int, theta: float):
        self.keys = torch.zeros(max(size, 1), dim)
        self.values = torch.zeros(max(size, 1), dtype=torch.long)
        self.size, self.vocab, self.theta = size, vocab, theta
        self.count = 0  # pairs stored so far (the ring holds min(count, size))

    def add(self, h: Tensor, next_token: int) -> None:
        slot = self.count % self.size
        self.keys[slot] = h
        self.values[slot] = next_token
        self.count += 1

    def probs(self, h: Tensor) -> Tensor | None:
        """sum over stored pairs of softmax(theta h . h_i) on their next tokens (V,); None while empty."""
        n = min(self.count, self.size)
        if n == 0:
            return None
        w = torch.softmax(self.theta * (self.keys[:n] @ h), dim=0)  # (n,)
        return torch.zeros(self.vocab).index_add_(0, self.values[:n], w)  # (V,)


class TextPredictor:
    """The distributions a coder needs, computed the same way whether the segment is known (encoding, scoring)
    or learned token by token (decoding). Holds its own copy of the weights (dynamic evaluation changes them)."""

    def __init__(self, model: GPT, settings: AdaptConfig, adapt: bool):
        self.model = copy.deepcopy(model).float().cpu().eval()
        for p in self.model.parameters():
            p.requires_grad_(adapt and settings.lr > 0)
        self.block = model.shape.block_size
        self.vocab = model.shape.vocab_size
        self.settings, self.adapt = settings, adapt
        self.trained = [p.detach().clone() for p in self.model.parameters()] if adapt and settings.decay > 0 else None
        use_cache = adapt and settings.cache_size > 0 and settings.cache_lambda > 0
        self.cache = (
            NeuralCache(settings.cache_size, model.shape.n_embd, self.vocab, settings.cache_theta)
            if use_cache
            else None
        )
        self.lam = settings.cache_lambda  # the mixture weight, learned as the text is coded
        self.last: tuple[Tensor, Tensor] | None = None  # (p_model, p_cache) of the position just predicted

    def first_probs(self) -> np.ndarray:
        """The distribution of token 0 (nothing before it): uniform."""
        return np.full(self.vocab, 1.0 / self.vocab)

    def window(self, ids: list[int], seg: Segment) -> Tensor:
        """ids[seg.start:seg.end] (as far as known) padded with zeros to the block: (1, block)."""
        known = ids[seg.start : seg.end]
        x = torch.zeros(1, self.block, dtype=torch.long)
        x[0, : len(known)] = torch.tensor(known, dtype=torch.long)
        return x

    @torch.no_grad()
    def outputs(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(next-token probabilities (block, V), final hidden states (block, C)) of one padded window."""
        h = self.model.hidden(x, explicit=True)[0]  # (block, C)
        logits = self.model.head(h)
        if self.adapt and self.settings.temperature != 1:
            logits = logits / self.settings.temperature
        return torch.softmax(logits, dim=-1), h

    def mixed(self, p_model: Tensor, h: Tensor) -> np.ndarray:
        """One position's distribution (float64, for the coder): the model's, mixed with the cache's."""
        p, self.last = p_model, None
        if self.cache is not None:
            p_cache = self.cache.probs(h)
            if p_cache is not None:
                p, self.last = (1 - self.lam) * p_model + self.lam * p_cache, (p_model, p_cache)
        return p.double().numpy()

    def after_token(self, h: Tensor, token: int) -> None:
        """Learn from the token just coded: the mixture weight's gradient step, and the state that predicted it (the
        cache)."""
        if self.cache is None:
            return
        if self.last is not None and self.settings.cache_lambda_lr > 0:
            pm, pc = float(self.last[0][token]), float(self.last[1][token])
            step = self.settings.cache_lambda_lr * (pc - pm) / ((1 - self.lam) * pm + self.lam * pc)
            self.lam = min(LAMBDA_RANGE[1], max(LAMBDA_RANGE[0], self.lam + step))
        self.cache.add(h, token)

    def after_segment(self, x: Tensor, seg: Segment) -> None:
        """Dynamic evaluation: one SGD step on the segment's cross-entropy (then the pull towards the trained
        weights)."""
        s = self.settings
        if not (self.adapt and s.lr > 0):
            return
        rows = torch.arange(seg.row(seg.first), seg.row(seg.end - 1) + 1)
        logits = self.model(x, explicit=True)[0, rows]  # (m, V)
        loss = F.cross_entropy(logits, x[0, rows + 1])
        sgd_step(self.model, loss, s.lr, self.trained, s.decay)

    def segment_probs(self, ids: list[int], seg: Segment) -> np.ndarray:
        """The distributions (m, V) of tokens seg.first..seg.end-1, all of which are known (encoding, scoring);
        the predictor then moves past the segment."""
        x = self.window(ids, seg)
        probs, h = self.outputs(x)
        out = np.empty((seg.end - seg.first, self.vocab))
        for k, j in enumerate(range(seg.first, seg.end)):
            out[k] = self.mixed(probs[seg.row(j)], h[seg.row(j)])
            self.after_token(h[seg.row(j)], ids[j])
        self.after_segment(x, seg)
        return out

    def decode_segment(self, ids: list[int], seg: Segment, decode: Callable[[np.ndarray], int]) -> None:
        """Learn the tokens of `seg` one at a time: each distribution is the one `segment_probs` gives that position
        (same window shape, the tokens after it not yet known), `decode` turns it into the token, appended to ids."""
        for j in range(seg.first, seg.end):
            probs, h = self.outputs(self.window(ids, seg))
            ids.append(decode(self.mixed(probs[seg.row(j)], h[seg.row(j)])))
            self.after_token(h[seg.row(j)], ids[j])
        self.after_segment(self.window(ids, seg), seg)


def predict_text(model: GPT, ids: list[int], settings: AdaptConfig, adapt: bool) -> Iterator[tuple[int, np.ndarray]]:
    """(first position, distributions (m, V)) for every token of `ids` in order: token 0 alone, then each segment."""
    if not ids:
        return
    with fixed_threads():
        predictor = TextPredictor(model, settings, adapt)
        yield 0, predictor.first_probs()[None]
        for seg in segment_plan(len(ids), predictor.block, settings.segment_for(predictor.block)):
            yield seg.first, predictor.segment_probs(ids, seg)


def text_log2probs(model: GPT, ids: list[int], settings: AdaptConfig, adapt: bool) -> np.ndarray:
    """log2 p(ids[j] | ids[:j]) for every token, token 0 included (uniform): what `lm compress` codes."""
    out = np.empty(len(ids))
    for first, probs in predict_text(model, ids, settings, adapt):
        m = len(probs)
        out[first : first + m] = np.log2(probs[np.arange(m), ids[first : first + m]])
    return out
