"""A corpus as token ids on disk: encoded in chunks into a compact int32 array, memory-mapped, and cached by the
corpus's size and hash, the tokenizer and the split, so a second training on the same text skips the encoding.

Byte-level BPE never merges across a pre-token, and a newline followed by a character that is not whitespace
always ends one, so cutting the text there and encoding the chunks one by one gives the ids of the whole text.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

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


def _write_ids(tok, text: str, start: int, end: int, path: Path) -> None:
    """Encode text[start:end] chunk by chunk into a raw int32 file, written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            for a, b in chunk_bounds(text, start, end):
                f.write(np.asarray(tok.encode(text[a:b]), dtype=DTYPE).tobytes())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


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
    folder = cache_dir() / "tokens"
    train, val = folder / f"{key}.train.i32", folder / f"{key}.val.i32"
    reused = train.is_file() and val.is_file()
    if not reused:
        _write_ids(tok, text, 0, cut, train)
        _write_ids(tok, text, cut, len(text), val)
    return mapped_ids(train), mapped_ids(val), reused
