"""The vocabulary as byte strings in lexicographic order: every prefix of bytes (and of a byte's leading bits) is
one contiguous range of it.

Byte-level BPE writes each byte as one printable character (the GPT-2 byte-to-unicode table: printable Latin-1
characters stand for themselves, the other 68 bytes for the characters from U+0100 on, in byte order). Sorted by
their bytes, the tokens that begin with a prefix P form a range [lo, hi), the token equal to P (if any) first;
among the longer ones, those whose next byte has given leading bits form a sub-range, found by binary search. So
the network's probability of "the next byte's next bit is 1", given the bytes of the token so far, is a ratio of
two sums over ranges, read off one cumulative sum (gencli.lm.compression.bit_coding). Special tokens (the end of
text marker) are kept apart: they are not text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def byte_of_char() -> dict[str, int]:
    """The inverse of byte-level BPE's byte-to-character table."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {chr(b): b for b in printable}
    shifted = 0
    for b in range(256):
        if b not in printable:
            table[chr(256 + shifted)] = b
            shifted += 1
    return table


@dataclass(frozen=True)
class TokenTrie:
    order: np.ndarray  # (R,) int64: the regular token ids sorted by their bytes
    rank: np.ndarray  # (V,) int64: each id's place in `order`, -1 for a special token
    table: np.ndarray  # (R, L) uint8: the bytes of order[i], zero-padded to the longest token
    lengths: np.ndarray  # (R,) int64
    specials: np.ndarray  # (S,) int64: the special token ids, ascending

    @property
    def longest(self) -> int:
        return self.table.shape[1]


def token_strings(tokenizer) -> tuple[list[bytes | None], list[int]]:
    """(bytes of each id, None for a special token; the special ids)."""
    tok = tokenizer.tok
    special = {t.content for t in tok.get_added_tokens_decoder().values() if t.special}
    chars = byte_of_char()
    out: list[bytes | None] = []
    specials = []
    for i in range(tokenizer.vocab_size):
        s = tok.id_to_token(i)
        if s is None or s in special:
            out.append(None)
            specials.append(i)
        else:
            out.append(bytes(chars[c] for c in s))
    return out, specials


def build_trie(tokenizer) -> TokenTrie:
    """The sorted vocabulary of `tokenizer`; ValueError when two tokens have the same bytes or a byte is missing
    (then a token sequence could not be told from its bytes)."""
    strings, specials = token_strings(tokenizer)
    regular = [i for i, s in enumerate(strings) if s is not None]
    order = sorted(regular, key=lambda i: strings[i])
    sorted_bytes = [strings[i] for i in order]
    if any(a == b for a, b in zip(sorted_bytes, sorted_bytes[1:])):
        raise ValueError("two tokens of this vocabulary have the same bytes")
    if not {bytes([b]) for b in range(256)} <= set(sorted_bytes):
        raise ValueError("this vocabulary lacks a single-byte token")
    longest = max(len(s) for s in sorted_bytes)
    table = np.zeros((len(order), longest), dtype=np.uint8)
    for r, s in enumerate(sorted_bytes):
        table[r, : len(s)] = np.frombuffer(s, dtype=np.uint8)
    rank = np.full(tokenizer.vocab_size, -1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    return TokenTrie(
        np.asarray(order, dtype=np.int64),
        rank,
        table,
        np.asarray([len(s) for s in sorted_bytes], dtype=np.int64),
        np.asarray(specials, dtype=np.int64),
    )
