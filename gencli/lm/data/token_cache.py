"""A corpus as token ids on disk: encoded in chunks into a compact int32 array, memory-mapped, and cached by the
corpus's size and hash, the tokenizer and the split, so a second training on the same text skips the encoding.

Byte-level BPE never merges across a pre-token, and a newline followed by a character that is not whitespace
always ends one, so cutting the text there and encoding the chunks one by one gives the ids of the whole text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gencli.core.atomic import replacing
from gencli.core.paths import cache_dir

CHUNK_CHARS = 1 << 20  # characters encoded at a time: the encoder's Python objects stay about 50 MB
TOKENIZER_SAMPLE_CHARS = 4 << 20  # a longer text trains its tokenizer on this many characters, spread over it
TOKENIZER_SAMPLE_PIECES = 64
DTYPE = np.int32


def chunk_bounds(text: str, start: int, end: int, chunk: int = CHUNK_CHARS) -> list[tuple[int, int]]:
    """[a, b) ranges covering text[start:end], each cut just after a newline that is followed by a non-space
    character (so no pre-token spans two ranges), about `chunk` characters long."""
    out, a = [], start
    while end - a > chunk:
        b = a + chunk
        while b < end:
            b = text.find("\n", b, end)
            if b < 0 or b + 1 >= end:
                b = end
                break
            if not text[b + 1].isspace():
                b += 1
                break
            b += 1
        out.append((a, b))
        a = b
    if a < end:
        out.append((a, end))
    return out


def tokenizer_sample(text: str, end: int) -> str:
    """What the tokenizer is trained on: text[:end] whole, or, when longer than TOKENIZER_SAMPLE_CHARS, that many
    characters in evenly spaced pieces cut at line starts (a bounded cost for a corpus of any size)."""
    if end <= TOKENIZER_SAMPLE_CHARS:
        return text[:end]
    piece = TOKENIZER_SAMPLE_CHARS // TOKENIZER_SAMPLE_PIECES
    parts = []
    for k in range(TOKENIZER_SAMPLE_PIECES):
        a = k * (end - piece) // (TOKENIZER_SAMPLE_PIECES - 1)
        a = text.rfind("\n", 0, a) + 1
        b = min(a + piece, end)
        b = max(text.rfind("\n", a, b) + 1, a) if b < end else b  # whole lines where there is a line end
        parts.append(text[a:b])
    return "".join(parts)


def write_ids(tok, text: str, start: int, end: int, path: Path) -> None:
    """Encode text[start:end] chunk by chunk into the raw int32 file `path`, written atomically."""
    with replacing(path) as tmp, tmp.open("wb") as f:
        for a, b in chunk_bounds(text, start, end):
            f.write(np.asarray(tok.encode(text[a:b]), dtype=DTYPE).tobytes())


def cached_ids(key: str, name: str, write: Callable[[Path], None]) -> tuple[np.ndarray, bool]:
    """(ids, reused): the cache's KEY.NAME.i32 memory-mapped, written first by `write(path)` when it is missing."""
    path = cache_dir() / "tokens" / f"{key}.{name}.i32"
    reused = path.is_file()
    if not reused:
        write(path)
    return mapped_ids(path), reused


def mapped_ids(path: Path) -> np.ndarray:
    """The ids of a raw int32 file, memory-mapped (copy-on-write: writable for torch; the file never changes)."""
    if path.stat().st_size == 0:
        return np.zeros(0, dtype=DTYPE)
    return np.memmap(path, dtype=DTYPE, mode="c")


def corpus_key(data_size: int, data_hash: str, tok, cut: int) -> str:
    """The cache key: the corpus (size and SHA-256), the tokenizer (its JSON) and where the split falls."""
    h = hashlib.sha256(f"{data_size}:{data_hash}:{cut}:".encode())
    h.update(tok.to_json().encode())
    return h.hexdigest()[:32]


def token_ids(tok, text: str, cut: int, key: str | None) -> tuple[np.ndarray, np.ndarray, bool]:
    """(ids of text[:cut], ids of text[cut:], reused): memory-mapped from the cache when it has them (`key`),
    else encoded in chunks into it; without a key (no cache) encoded in chunks in memory."""
    if key is None:
        parts = []
        for a, b in ((0, cut), (cut, len(text))):
            ids = [np.asarray(tok.encode(text[x:y]), dtype=DTYPE) for x, y in chunk_bounds(text, a, b)]
            parts.append(np.concatenate(ids) if ids else np.zeros(0, dtype=DTYPE))
        return parts[0], parts[1], False
    train, reused_train = cached_ids(key, "train", lambda path: write_ids(tok, text, 0, cut, path))
    val, reused_val = cached_ids(key, "val", lambda path: write_ids(tok, text, cut, len(text), path))
    return train, val, reused_train and reused_val
