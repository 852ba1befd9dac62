"""Format 3 of `lm compress`: the lockstep streams of format 2, each token coded bit by bit with the network mixed
with context models of the bytes (gencli.lm.compression.bit_coding).

Step by step, the predictor (gencli.lm.inference.lockstep, its token-level mixing off) gives the network's
distributions of a token of every active stream; the bit coder codes those tokens in stream order, then the
predictor learns them. The decoder makes the same calls, learning each step's tokens from the bit coder.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gencli.lm.compression.bit_coding import DECODE, ENCODE, SCORE, ByteMixer, ByteMixSettings
from gencli.lm.compression.token_trie import build_trie
from gencli.lm.config import AdaptConfig
from gencli.lm.inference.adaptive import fixed_threads
from gencli.lm.inference.lockstep import LockstepPredictor, StreamPlan, decode_lockstep, stream_plan
from gencli.lm.model.store import TrainedLM

MAX_TABLE_BITS = 22


def table_bits(n_bytes: int) -> int:
    """Slots of each context table for n_bytes of priming text and text: about 16 per byte (a byte visits 8), as a
    power of two in 2^12..2^MAX_TABLE_BITS (both sides know the sizes, so both choose alike)."""
    return min(MAX_TABLE_BITS, max(12, (16 * n_bytes).bit_length()))


def byte_mix_settings(adapt: AdaptConfig, n_bytes: int) -> ByteMixSettings:
    """The bit coder's settings from the adapt section, its tables sized for `n_bytes` (priming text included)."""
    return ByteMixSettings(
        orders=adapt.byte_orders,
        match_min=adapt.byte_match,
        lr=adapt.byte_lr,
        limit=adapt.byte_limit,
        apm_rate=adapt.byte_apm_rate,
        table_bits=table_bits(n_bytes),
    )


def stream_capacities(plan: StreamPlan, n_bytes: int, longest: int) -> list[int]:
    """Bytes of history to set aside for each stream: what its tokens can hold, at most the text's bytes (both
    sides know these, so both lay the history out alike)."""
    return [min(n_bytes, n * longest) for n in plan.lengths]


@dataclass
class MixedCoding:
    payload: bytes  # the coder's bytes (empty when only scored)
    bits: np.ndarray  # (n_tokens,) each token's cost in bits, in text order
    weights: np.ndarray  # (n_tokens, inputs) the mixer's mean weights while coding each token, in the coder's order
    inputs: list[str]  # the mixer's inputs, in the order of `weights`' columns


def prime_ids(lm: TrainedLM) -> list[int]:
    """The checkpoint's priming text as the tokenizer cuts it."""
    return list(_tokenized(lm.tokenizer, lm.prime)) if lm.prime else []


@functools.lru_cache(maxsize=2)
def _tokenized(tokenizer, text: bytes) -> tuple[int, ...]:
    """A priming text's tokens, cut once per tokenizer and text (each compress and decompress asks again)."""
    return tuple(tokenizer.encode(text.decode("utf-8", "replace")))


def _coders(
    lm: TrainedLM, plan: StreamPlan, n_bytes: int, mode: int, data: bytes = b""
) -> tuple[LockstepPredictor, ByteMixer]:
    """The predictor and the bit coder, primed with the priming text."""
    primed = prime_ids(lm)
    predictor = LockstepPredictor(lm.model, lm.cfg.adapt, True, plan, token_mixing=False)
    trie = build_trie(lm.tokenizer)
    capacity = stream_capacities(plan, n_bytes, trie.longest)
    settings = byte_mix_settings(lm.cfg.adapt, len(lm.prime) + n_bytes)
    return predictor, ByteMixer(trie, settings, capacity, trie.rank[primed] if primed else None, mode, data)


def encode_mixed(
    lm: TrainedLM,
    ids: list[int],
    n_bytes: int,
    score_only: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> MixedCoding:
    """Code `ids` (the tokens of `n_bytes` bytes of text) in format 3; `score_only`: their costs, no archive."""
    plan = stream_plan(len(ids), lm.cfg.adapt)
    with fixed_threads():
        predictor, mixer = _coders(lm, plan, n_bytes, SCORE if score_only else ENCODE)
        bits = np.zeros(len(ids))
        weights = np.zeros((len(ids), len(mixer.inputs)))
        done = 0
        for step in range(plan.steps if ids else 0):
            at = plan.positions(step)
            tokens = [ids[i] for i in at]
            bits[at], weights[done : done + len(at)] = mixer.code(predictor.probs(), tokens)
            predictor.advance(tokens)
            done += len(tokens)
            if progress and (step % 16 == 15 or step == plan.steps - 1):
                progress(done, len(ids))
    payload = b"" if score_only or not ids else mixer.finish()
    return MixedCoding(payload, bits, weights, mixer.inputs)


def decode_mixed(
    lm: TrainedLM,
    n_tokens: int,
    n_bytes: int,
    payload: bytes,
    check: Callable[[list[int]], None],
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[int], int]:
    """(token ids, coded bytes read) of a format-3 payload; `check(tokens)` sees each step's tokens (to stop a
    diverged decoder early)."""
    plan = stream_plan(n_tokens, lm.cfg.adapt)
    with fixed_threads():
        predictor, mixer = _coders(lm, plan, n_bytes, DECODE, payload)

        def decode_many(probs: np.ndarray) -> list[int]:
            tokens = mixer.decode(probs)
            check(tokens)
            return tokens

        ids = decode_lockstep(predictor, decode_many, progress)
    return ids, mixer.bytes_read
