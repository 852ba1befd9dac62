"""Tokens coded bit by bit: the network's distribution, marginalised over the vocabulary's bytes, mixed with a
context model of the bytes so far (format 3 of `lm compress`).

A token is coded as the path to it in the sorted vocabulary (gencli.lm.compression.token_trie): at each prefix
of bytes, "the token ends here" (when a token equals the prefix and longer ones exist), then the next byte's bits,
most significant first, each only where the vocabulary leaves both values possible. The network's probability of
each such bit is the ratio of two range sums of its token distribution; that of the byte bits enters three logistic
mixers (p = squash(sum_i w_i stretch(p_i))) with the byte context models of gencli.lm.compression.kernels (orders
0..K, the word contexts, the match model, a bias), their weight sets chosen by the highest order seen before with
the match state and first byte, by the network's confidence with the bit's place, and by the partial byte; their
mean (in the stretch domain) is refined by two APM stages (the last byte; the last two, with the partial byte) and
averaged with them. After each bit every mixer takes the step w_i += lr (bit - p) stretch(p_i). The end-of-token
choice has its own mixer (the network's probability and counters of the bytes before it), refined by an APM of the
prefix. Every probability is kept within [2^-13, 1 - 2^-13] (mixed bits) or [2^-16, 1 - 2^-16] (the network's choices),
so every token stays codable.

The byte models learn from every stream (their tables are shared); each stream keeps its own bytes (for its
contexts and matches) in one history buffer, after the priming text (the checkpoint's training text, which the
model has anyway) that the tables learn first. Encoder and decoder run the same kernel, one token at a time in
the coder's order, so they compute the same numbers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from gencli.lm.compression.kernels import (
    ALL_MIX_SETS,
    AT,
    DECODE,
    ENCODE,
    END,
    END_SETS_AT,
    MATCH_LENGTHS,
    SCORE,
    START,
    WORD_CONTEXTS,
    apm_table,
    code_tokens,
    counter_rates,
    finish,
    new_state,
    prime_tables,
    start_decoder,
)
from gencli.lm.compression.token_trie import TokenTrie

__all__ = ["DECODE", "ENCODE", "SCORE", "ByteMixSettings", "ByteMixer"]


INITIAL_NETWORK_WEIGHT = 0.7
INITIAL_CONTEXT_WEIGHT = 0.05


@dataclass(frozen=True)
class ByteMixSettings:
    orders: int = 6
    match_min: int = 6
    lr: float = 0.005
    limit: int = 30
    apm_rate: float = 0.02
    floor: float = 1e-6  # the network's distribution is mixed with this share of the uniform one
    table_bits: int = 22  # slots of each context's table (the match model's: a quarter of it)
    apm_bits: int = 16  # contexts of each APM stage (the last byte and the partial byte: 16 bits, exactly)


def _fresh_tables(s: ByteMixSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The context counters' probabilities (all 1/2), their counts (0) and an empty match table."""
    contexts = s.orders + 1 + WORD_CONTEXTS
    return (
        np.full((contexts, 1 << s.table_bits), 32768, dtype=np.uint16),
        np.zeros((contexts, 1 << s.table_bits), dtype=np.uint8),
        np.zeros(1 << (s.table_bits - 2), dtype=np.int64),
    )


_PRIMED: dict[tuple, tuple[np.ndarray, ...]] = {}  # the last priming's tables: a second coder of it copies them


def _primed(prime: np.ndarray, trie: TokenTrie, s: ByteMixSettings, rates: np.ndarray) -> tuple[np.ndarray, ...]:
    """(history, counters' probabilities, their counts, match table) after the priming tokens, computed once per
    priming text, vocabulary and table settings (compress and decompress of one checkpoint share it; callers copy)."""
    key = (
        hashlib.blake2b(prime.tobytes()).hexdigest(),
        hashlib.blake2b(trie.table.tobytes() + trie.lengths.tobytes()).hexdigest(),
        s.orders, s.limit, s.table_bits, s.match_min,
    )  # fmt: skip
    if key not in _PRIMED:
        hist = np.zeros(int(trie.lengths[prime[prime >= 0]].sum()) + 1, dtype=np.uint8)
        cm_p, cm_n, match_table = _fresh_tables(s)
        written = prime_tables(
            prime, trie.table, trie.lengths, hist, s.orders, cm_p, cm_n, rates, s.limit, match_table, s.match_min
        )
        tables = (hist[:written], cm_p, cm_n, match_table)
        for table in tables:
            table.flags.writeable = False  # every coder copies them
        _PRIMED.clear()
        _PRIMED[key] = tables
    return _PRIMED[key]


class ByteMixer:
    """The state of format 3's bit coder for a text of K streams: byte models, mixer, APMs and the coder.
    `code(probs, tokens)` codes a token of each of the first len(probs) streams; `decode(probs)` returns them."""

    def __init__(
        self,
        trie: TokenTrie,
        settings: ByteMixSettings,
        stream_capacity: list[int],
        prime: np.ndarray | None = None,
        mode: int = ENCODE,
        data: bytes = b"",
    ):
        self.trie, self.settings, self.mode = trie, settings, mode
        s = settings
        prime = np.zeros(0, dtype=np.int64) if prime is None else np.asarray(prime, dtype=np.int64)
        n_prime = int(trie.lengths[prime[prime >= 0]].sum())
        starts = np.concatenate([[n_prime], n_prime + np.cumsum(stream_capacity)[:-1]]).astype(np.int64)
        self.hist = np.zeros(n_prime + int(sum(stream_capacity)) + 1, dtype=np.uint8)
        k = len(stream_capacity)
        self.streams = np.zeros((k, 4), dtype=np.int64)
        self.streams[:, START] = starts
        self.streams[:, END] = starts
        contexts = s.orders + 1 + WORD_CONTEXTS
        self.hk = np.zeros((k, contexts), dtype=np.int64)
        self.rates = counter_rates(s.limit)
        if len(prime):  # the tables as the priming text left them (copies: the cached ones stay as they are)
            hist, *tables = _primed(prime, trie, s, self.rates)
            self.hist[: len(hist)] = hist
            self.cm_p, self.cm_n, self.match_table = (t.copy() for t in tables)
        else:
            self.cm_p, self.cm_n, self.match_table = _fresh_tables(s)
        self.match_p = np.full(MATCH_LENGTHS, 49152, dtype=np.int64)
        self.match_n = np.zeros(MATCH_LENGTHS, dtype=np.int64)
        n_in = contexts + 3  # network, orders 0..K, words, match, bias
        self.weights = np.zeros((ALL_MIX_SETS, n_in))  # the start, chosen by measurement (bench/lm_byte_mix.py):
        self.weights[:, 0] = INITIAL_NETWORK_WEIGHT  # mostly the network,
        self.weights[:, 1 : 1 + contexts] = INITIAL_CONTEXT_WEIGHT  # a little of every context model
        self.weights[END_SETS_AT:] = 0.0  # the end-of-token choice starts as the network's
        self.weights[END_SETS_AT:, 0] = 1.0
        self.apm1, self.apm2, self.apm_end = (apm_table(1 << s.apm_bits) for _ in range(3))
        self.params = np.array([s.lr, s.apm_rate, s.floor, 0.5])
        self.coder = new_state()
        self.buf = np.frombuffer(data, dtype=np.uint8).copy() if mode == DECODE else np.zeros(1 << 16, dtype=np.uint8)
        if mode == DECODE:
            start_decoder(self.coder, self.buf)

    @property
    def inputs(self) -> list[str]:
        orders = [f"order {o}" for o in range(self.settings.orders + 1)]
        return ["network", *orders, "word", "two words", "match", "bias"]

    def _run(self, probs: np.ndarray, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(probs)
        if self.mode == ENCODE and self.buf.size - self.coder[AT] < n * 64 * self.trie.longest:
            self.buf = np.concatenate([self.buf, np.zeros(max(self.buf.size, n * 64 * self.trie.longest), np.uint8)])
        bits = np.zeros(n)
        w = np.zeros((n, self.weights.shape[1]))
        t = self.trie
        s = self.settings
        code_tokens(
            self.mode, np.ascontiguousarray(probs, dtype=np.float64), tokens, bits, w,
            t.order, t.rank, t.table, t.lengths, t.specials,
            self.hist, self.streams, self.hk, self.cm_p, self.cm_n, self.rates, s.limit, self.match_table,
            self.match_p, self.match_n, s.match_min,
            self.weights, self.apm1, self.apm2, self.apm_end, self.params, self.coder, self.buf,
        )  # fmt: skip
        return bits, w

    def code(self, probs: np.ndarray, tokens: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(bits of each token, the mixer's mean weights for each) of tokens coded from distributions probs (n, V)."""
        return self._run(probs, np.asarray(tokens, dtype=np.int64))

    def decode(self, probs: np.ndarray) -> list[int]:
        tokens = np.zeros(len(probs), dtype=np.int64)
        self._run(probs, tokens)
        return tokens.tolist()

    def finish(self) -> bytes:
        return finish(self.coder, self.buf)

    @property
    def bytes_read(self) -> int:
        """Coded bytes the decoder consumed (its 32-bit window read 3 bytes past the last the encoder wrote)."""
        return int(self.coder[AT]) - 3
