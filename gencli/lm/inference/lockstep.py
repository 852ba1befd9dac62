"""Next-token distributions of a text cut into K streams that advance together, one KV-cached step at a time.

The coder's contract is exactness: the decoder, which learns each token only after decoding it, must compute the
very distributions the encoder used, bit for bit. Here both sides run one and the same sequence of model calls:
the text's tokens are cut into K contiguous streams (the first n mod K one token longer), and step j predicts
token j of every stream from the tokens before it in that stream, by one incremental call of shape (K, 1) on
the streams' cached keys and values (gencli.lm.model.gpt, GPT.step; rotary positions, sliding-window attention
past the block). The encoder knows every token but makes the same calls, so speed is the same on both sides, and
the batch of K rows pays the per-call overhead once for K tokens.

The first token of each stream has no context: the uniform distribution. Adaptive prediction, as in
gencli.lm.inference.adaptive, uses only tokens already coded:
- the logits are divided by `temperature`;
- a neural cache (Grave et al. 2017) shared by the streams: the final hidden states of every stream's earlier
  steps with the tokens that followed them, mixed in with weight lambda, which follows the gradient of each coded
  token's log-probability (stream by stream, in order);
- dynamic evaluation (Krause et al. 2018): every `segment` steps, one SGD step on the cross-entropy of the
  streams' last `segment` tokens (each in a window of the block size), after which the cached keys and values are
  recomputed with the new weights.
Everything runs in fp32 on CODING_THREADS threads with fixed shapes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from gencli.lm.config import AdaptConfig
from gencli.lm.inference.adaptive import LAMBDA_RANGE, fixed_threads, sgd_step
from gencli.lm.inference.context_mix import ContextMixer, MixSettings
from gencli.lm.model.gpt import GPT


@dataclass(frozen=True)
class StreamPlan:
    """Stream k holds tokens starts[k] .. starts[k] + lengths[k] - 1 of the text."""

    starts: tuple[int, ...]
    lengths: tuple[int, ...]

    @property
    def streams(self) -> int:
        return len(self.starts)

    @property
    def steps(self) -> int:
        return max(self.lengths, default=0)

    def active(self, step: int) -> int:
        """How many streams have a token at `step` (always the first ones: the longer streams come first)."""
        return sum(1 for n in self.lengths if n > step)

    def positions(self, step: int) -> list[int]:
        """The text positions of the tokens coded at `step`, stream by stream (the coder's order)."""
        return [s + step for s, n in zip(self.starts, self.lengths) if n > step]


def stream_plan(n_tokens: int, settings: AdaptConfig) -> StreamPlan:
    """K = min(settings.streams, n_tokens // settings.stream_tokens) streams (at least one), as equal as can be."""
    k = max(1, min(settings.streams, n_tokens // max(1, settings.stream_tokens)))
    base, extra = divmod(n_tokens, k)
    lengths = tuple(base + (1 if i < extra else 0) for i in range(k))
    starts = tuple(int(s) for s in np.concatenate([[0], np.cumsum(lengths)[:-1]]))
    return StreamPlan(starts, lengths)


class LockstepPredictor:
    """`probs()`: the distributions (active streams, V) of the tokens of the current step; `advance(tokens)`: learn
    them and move to the next step. The encoder and the decoder call the two alternately, in the same order."""

    def __init__(self, model: GPT, settings: AdaptConfig, adapt: bool, plan: StreamPlan, token_mixing: bool = True):
        if not uses_lockstep(model):
            raise ValueError("lockstep coding needs rotary positions (a learned-position model uses format 1)")
        self.model = copy.deepcopy(model).float().cpu().eval()
        learn = adapt and settings.lr > 0
        for p in self.model.parameters():
            p.requires_grad_(learn)
        self.block, self.vocab = model.shape.block_size, model.shape.vocab_size
        self.settings, self.adapt, self.learn, self.plan = settings, adapt, learn, plan
        self.trained = [p.detach().clone() for p in self.model.parameters()] if learn and settings.decay > 0 else None
        k = plan.streams
        self.history = torch.zeros(k, plan.steps, dtype=torch.long)  # the tokens coded, stream by stream (K, steps)
        self.caches = self._fresh()
        self.p_model: Tensor | None = None  # (K, V) of the current step; None at step 0 (no context)
        self.h: Tensor | None = None  # (K, C) final hidden states that predict the current step
        use_cache = adapt and settings.cache_size > 0 and settings.cache_lambda > 0
        self.cache_keys = torch.zeros(0, model.shape.n_embd) if use_cache else None
        self.cache_values = torch.zeros(0, dtype=torch.long)
        self.lam = settings.cache_lambda
        self.last: tuple[Tensor, Tensor] | None = None
        self.mixer = (
            ContextMixer(MixSettings(settings.mix_orders, settings.mix_match, settings.mix_lr), k, self.vocab)
            if adapt and token_mixing and settings.mix_orders > 0
            else None
        )
        self.net: np.ndarray | None = None  # the network's (and cache's) distributions of the current step
        self.step = 0

    def _fresh(self) -> list[dict]:
        return [{"keep": self.block - 1} for _ in self.model.blocks]

    def _temper(self, logits: Tensor) -> Tensor:
        if self.adapt and self.settings.temperature != 1:
            logits = logits / self.settings.temperature
        return torch.softmax(logits, dim=-1)

    @torch.no_grad()
    def probs(self) -> np.ndarray:
        """The distributions (float64, active streams x V) of the tokens at the current step."""
        n = self.plan.active(self.step)
        if self.p_model is None:
            self.net = np.full((n, self.vocab), 1.0 / self.vocab)
        else:
            p, self.last = self.p_model, None
            if self.cache_keys is not None and len(self.cache_keys):
                w = torch.softmax(self.settings.cache_theta * (self.h @ self.cache_keys.T), dim=1)  # (K, n)
                p_cache = torch.zeros_like(p).index_add_(1, self.cache_values, w)  # (K, V)
                p, self.last = (1 - self.lam) * p + self.lam * p_cache, (self.p_model, p_cache)
            self.net = p[:n].double().numpy()
        return self.net if self.mixer is None else self.mixer.mix(self.net)

    def advance(self, tokens: list[int]) -> None:
        """Learn the tokens of the current step (one per active stream) and compute the next step's outputs."""
        k, n = self.plan.streams, len(tokens)
        column = torch.zeros(k, 1, dtype=torch.long)
        column[:n, 0] = torch.tensor(tokens, dtype=torch.long)
        self._learn_tokens(tokens)
        if self.mixer is not None:
            self.mixer.learn(tokens, self.net[np.arange(n), tokens].tolist())
        self.history[:, self.step] = column[:, 0]
        self.step += 1
        with torch.no_grad():
            h = self.model.step_hidden(column, self.step - 1, self.caches)[:, -1]  # (K, C)
        self._set_outputs(h)
        if self.learn and self.step % self.settings.segment_for(self.block) == 0 and self.step < self.plan.steps:
            self._dynamic_evaluation()

    def _set_outputs(self, h: Tensor) -> None:
        with torch.no_grad():
            self.h, self.p_model = h, self._temper(self.model.head(h))

    def _learn_tokens(self, tokens: list[int]) -> None:
        """The cache weight's gradient steps (stream by stream) and the (state, token) pairs added to the cache."""
        if self.cache_keys is None or self.h is None:
            return
        n = len(tokens)
        if self.last is not None and self.settings.cache_lambda_lr > 0:
            pm, pc = self.last[0][torch.arange(n), tokens].tolist(), self.last[1][torch.arange(n), tokens].tolist()
            for a, b in zip(pm, pc):
                step = self.settings.cache_lambda_lr * (b - a) / ((1 - self.lam) * a + self.lam * b)
                self.lam = min(LAMBDA_RANGE[1], max(LAMBDA_RANGE[0], self.lam + step))
        size = self.settings.cache_size
        self.cache_keys = torch.cat([self.cache_keys, self.h[:n]])[-size:]
        self.cache_values = torch.cat([self.cache_values, torch.tensor(tokens, dtype=torch.long)])[-size:]

    def _dynamic_evaluation(self) -> None:
        """One SGD step on the streams' last `segment` tokens, then the caches rebuilt with the new weights."""
        s = self.settings
        n = self.plan.active(self.step)  # streams with a token still to come
        window = self.history[:n, max(0, self.step - self.block) : self.step]  # (n, W)
        m = min(s.segment_for(self.block), window.shape[1] - 1)
        logits = self.model(window[:, :-1], explicit=True)[:, -m:]  # (n, m, V)
        loss = F.cross_entropy(logits.reshape(-1, self.vocab), window[:, -m:].reshape(-1))
        sgd_step(self.model, loss, s.lr, self.trained, s.decay)
        with torch.no_grad():
            self.caches = self._fresh()
            keep = self.history[:, max(0, self.step - self.block + 1) : self.step]
            h = self.model.step_hidden(keep, self.step - keep.shape[1], self.caches)[:, -1]
        self._set_outputs(h)


def decode_lockstep(
    predictor: LockstepPredictor,
    decode_many: Callable[[np.ndarray], list[int]],
    progress: Callable[[int, int], None] | None = None,
) -> list[int]:
    """The token ids of a text coded in lockstep streams: each step's distributions from `predictor`, its tokens
    (one per active stream, in order) from `decode_many`; `progress(tokens done, tokens)` every 16 steps."""
    plan = predictor.plan
    n_tokens = sum(plan.lengths)
    ids = [0] * n_tokens
    done = 0
    for step in range(plan.steps):
        tokens = decode_many(predictor.probs())
        for i, t in zip(plan.positions(step), tokens):
            ids[i] = t
        predictor.advance(tokens)
        done += len(tokens)
        if progress and (step % 16 == 15 or step == plan.steps - 1):
            progress(done, n_tokens)
    return ids


def lockstep_log2probs(model: GPT, ids: list[int], settings: AdaptConfig, adapt: bool) -> np.ndarray:
    """log2 p(ids[j] | the tokens before it in its stream) for every token: what format 2 of `lm compress` codes."""
    out = np.empty(len(ids))
    plan = stream_plan(len(ids), settings)
    with fixed_threads():
        predictor = LockstepPredictor(model, settings, adapt, plan)
        for _ in range(plan.steps):
            at = plan.positions(predictor.step)
            tokens = [ids[i] for i in at]
            p = predictor.probs()
            out[at] = np.log2(p[np.arange(len(at)), tokens])
            predictor.advance(tokens)
    return out


def uses_lockstep(model: GPT) -> bool:
    """Whether `lm compress` codes with this model in lockstep streams (format 2): rotary positions."""
    return model.pos_emb is None
