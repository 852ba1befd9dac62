"""A corpus larger than memory should hold as text (more than LARGE_CORPUS_BYTES): read in blocks, never whole.

One pass checks that it is UTF-8, not blank, and hashes it; the split falls on a line start near the last
val_fraction of its bytes; the tokenizer learns from evenly spaced whole lines of the training part; the ids are
encoded block by block into the token cache. A block ends just after a newline that is followed by printable ASCII
(such a newline always ends a byte-level pre-token, and never splits a UTF-8 character), so the blocks' ids are the
whole part's ids.
"""

from __future__ import annotations

import codecs
import hashlib
from pathlib import Path

import numpy as np

from gencli.core.atomic import replacing
from gencli.lm.data.corpus import CorpusError
from gencli.lm.data.token_cache import DTYPE, TOKENIZER_SAMPLE_CHARS, TOKENIZER_SAMPLE_PIECES

LARGE_CORPUS_BYTES = 64 * 2**20
BLOCK_BYTES = 1 << 20


def scan(path: Path) -> tuple[int, str]:
    """(size in bytes, SHA-256) of a UTF-8 corpus, read in blocks; CorpusError when it is not UTF-8 or is blank."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    digest, offset, blank = hashlib.sha256(), 0, True
    with path.open("rb") as f:
        while block := f.read(BLOCK_BYTES):
            digest.update(block)
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError as e:
                raise CorpusError(f"corpus {path} is not UTF-8 text (bad byte at offset {offset + e.start})") from None
            blank = blank and not text.strip()
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise CorpusError(f"corpus {path} is not UTF-8 text (it ends inside a character)") from None
    if blank:
        raise CorpusError(f"corpus {path} is empty")
    return offset, digest.hexdigest()


def _read(f, start: int, size: int) -> bytes:
    f.seek(start)
    return f.read(size)


def byte_split(path: Path, size: int, val_fraction: float) -> int:
    """The byte offset where validation starts: the last val_fraction of the bytes, moved back to the start of its
    line when that is near (within a tenth of the validation part), as `split_point` does with characters."""
    n_val = int(size * val_fraction)
    cut = size - n_val
    window = n_val // 10
    with path.open("rb") as f:
        before = _read(f, max(0, cut - window), cut - max(0, cut - window))
    nl = before.rfind(b"\n")
    if nl >= 0:
        return max(0, cut - window) + nl + 1
    while cut < size:  # no line start near: the next character boundary
        with path.open("rb") as f:
            b = _read(f, cut, 1)
        if not b or (b[0] & 0xC0) != 0x80:
            break
        cut += 1
    return cut


def tokenizer_text(path: Path, end: int) -> str:
    """Whole lines from TOKENIZER_SAMPLE_PIECES evenly spaced places in bytes [0, end), TOKENIZER_SAMPLE_CHARS
    bytes in all: what the tokenizer of a large corpus learns from."""
    piece = TOKENIZER_SAMPLE_CHARS // TOKENIZER_SAMPLE_PIECES
    parts = []
    with path.open("rb") as f:
        for k in range(TOKENIZER_SAMPLE_PIECES):
            a = k * max(end - piece, 0) // (TOKENIZER_SAMPLE_PIECES - 1)
            raw = _read(f, a, min(piece, end - a))
            first = raw.find(b"\n") + 1 if a else 0
            last = raw.rfind(b"\n") + 1 or len(raw)
            parts.append(raw[first:last].decode("utf-8", errors="ignore"))
    return "".join(parts)


def _safe_end(block: bytes) -> int:
    """The offset just after the last newline of `block` that is followed by printable ASCII (0: none)."""
    at = len(block) - 1
    while True:
        at = block.rfind(b"\n", 0, at)
        if at < 0:
            return 0
        if 0x21 <= block[at + 1] <= 0x7E:
            return at + 1


def encode_range(tok, path: Path, start: int, end: int, out: Path) -> None:
    """The ids of bytes [start, end) of the corpus, encoded block by block into the raw int32 file `out`, atomically."""
    with path.open("rb") as f, replacing(out) as tmp, tmp.open("wb") as sink:
        f.seek(start)
        carry, left = b"", end - start
        while left > 0 or carry:
            block = carry + (f.read(min(BLOCK_BYTES, left)) if left > 0 else b"")
            left -= len(block) - len(carry)
            cut = _safe_end(block) if left > 0 else len(block)
            if cut == 0:  # no safe cut in this block: read on
                if left > 0:
                    carry = block
                    continue
                cut = len(block)
            piece, carry = block[:cut], block[cut:]
            sink.write(np.asarray(tok.encode(piece.decode("utf-8")), dtype=DTYPE).tobytes())
