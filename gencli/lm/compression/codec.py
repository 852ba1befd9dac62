"""Lossless text compression with the language model: each token coded from the model's next-token distribution.

A file costs about sum_j -log2 p(token_j | tokens before it) bits (Shannon; the range coder of the
`constriction` library adds a few bytes), so the archive's size is the model's likelihood of the text.
The archive ("gcz") is a header and the coder's words:

    magic "GCZ" | version (1 byte) | flags (1 byte: bit 0 adaptive) | original bytes (varint) |
    tokens (varint) | SHA-256 of the original, first 4 bytes | fingerprint of the checkpoint, 4 bytes |
    range-coder words (little-endian uint32, the trailing zero bytes left out)

Format 3 (adaptive coding with a model with rotary positions, the default) codes each token bit by bit, the
network mixed with context models of the bytes so far (gencli.lm.compression.mixed_streams; its own binary
coder). Format 2 (rotary positions, `--no-adapt` or adapt.byte_orders 0) codes the tokens as streams that advance
together by one batched KV-cached step (gencli.lm.inference.lockstep): encoder and decoder make the same calls, so
decompression runs as fast as compression. Format 1 (written for learned-position models, and read for any)
predicts segments by one padded window each (gencli.lm.inference.adaptive); its decoder makes one window call per token.

The fingerprint covers the weights, the tokenizer and the prediction settings (`adapt` section of the config), so
an archive is decoded only by the model that wrote it; the checksum catches a decoder that diverged anyway
(another CPU's kernels round differently): then nothing is written.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import numpy as np

from gencli.core.errors import GencliError
from gencli.lm.compression.mixed_streams import decode_mixed, encode_mixed
from gencli.lm.inference.adaptive import TextPredictor, fixed_threads, predict_text, segment_plan, text_log2probs
from gencli.lm.inference.lockstep import (
    LockstepPredictor,
    decode_lockstep,
    lockstep_log2probs,
    stream_plan,
    uses_lockstep,
)
from gencli.lm.model.store import TrainedLM

MAGIC = b"GCZ"
VERSIONS = (1, 2, 3)  # read; written: format_for
# adapt settings of formats 2 and 3 (a format-1 fingerprint leaves them out: archives written before they existed)
FORMAT_2_KEYS = ("streams", "stream_tokens", "mix_orders", "mix_match", "mix_lr")
FORMAT_3_KEYS = ("byte_orders", "byte_match", "byte_lr", "byte_limit", "byte_apm_rate")  # format 3's alone
ADAPTIVE = 1  # flag bit
DIGEST_BYTES = 4  # as gzip's CRC-32: a damaged or foreign archive passes unnoticed with odds of 1 in 2^32


class ArchiveError(GencliError):
    """An archive this checkpoint cannot decode (not gcz, damaged, another checkpoint, diverged)."""


@dataclass(frozen=True)
class Header:
    version: int
    adaptive: bool
    n_bytes: int
    n_tokens: int
    checksum: bytes  # SHA-256 of the original, first DIGEST_BYTES
    fingerprint: bytes  # of the checkpoint and settings, DIGEST_BYTES

    def to_bytes(self) -> bytes:
        return (
            MAGIC
            + bytes([self.version, ADAPTIVE if self.adaptive else 0])
            + varint(self.n_bytes)
            + varint(self.n_tokens)
            + self.checksum
            + self.fingerprint
        )

    @classmethod
    def parse(cls, data: bytes, name: str) -> tuple[Header, int]:
        """The header and the offset of the coder's words."""
        if data[:3] != MAGIC:
            raise ArchiveError(f"{name}: not a gencli archive (no GCZ magic)")
        if len(data) < 5 or data[3] not in VERSIONS:
            raise ArchiveError(
                f"{name}: archive format {data[3] if len(data) > 3 else '?'}; this gencli reads formats "
                f"{', '.join(map(str, VERSIONS))}"
            )
        version, flags, at = data[3], data[4], 5
        if flags & ~ADAPTIVE:
            raise ArchiveError(f"{name}: unknown flags {flags:#04x} (this gencli knows bit 0, adaptive)")
        try:
            n_bytes, at = read_varint(data, at)
            n_tokens, at = read_varint(data, at)
        except IndexError:
            raise ArchiveError(f"{name}: truncated header") from None
        except OverflowError:
            raise ArchiveError(f"{name}: damaged header (a count longer than {MAX_VARINT_BYTES} bytes)") from None
        checksum, fp = data[at : at + DIGEST_BYTES], data[at + DIGEST_BYTES : at + 2 * DIGEST_BYTES]
        at += 2 * DIGEST_BYTES
        if len(fp) < DIGEST_BYTES:
            raise ArchiveError(f"{name}: truncated or damaged archive")
        return cls(version, bool(flags & ADAPTIVE), n_bytes, n_tokens, checksum, fp), at


def varint(n: int) -> bytes:
    """LEB128: 7 bits per byte, the high bit set on every byte but the last."""
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


MAX_VARINT_BYTES = 9  # 63 bits: more than any file's bytes


def read_varint(data: bytes, at: int) -> tuple[int, int]:
    """A LEB128 count at `at` and the offset after it; OverflowError past MAX_VARINT_BYTES (read no further)."""
    n = shift = 0
    start = at
    while True:
        if at - start >= MAX_VARINT_BYTES:
            raise OverflowError
        b = data[at]
        n |= (b & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if not b & 0x80:
            return n, at


PRECISION_BITS = 24  # constriction's range coder gives each symbol a multiple of 2^-24, at least one


def max_tokens(payload_bytes: int, vocab: int, version: int = 2) -> int:
    """The most tokens `payload_bytes` of coded data can hold. Formats 1 and 2: a token costs at least
    -log2(1 - (V - 1) 2^-24) bits (the likeliest symbol's largest share when every other symbol keeps its smallest),
    plus the coder's final words (64 bits) that the encoder flushes. Format 3: every token's first byte has 8 coded
    bits (the vocabulary holds every byte), each of probability at most 1 - 8 / 65536."""
    if version == 3:
        least_bits = -8 * math.log2(1 - 8 / 65536)
    else:
        least_bits = -math.log2(1 - (vocab - 1) * 2.0**-PRECISION_BITS)
    return int((8 * payload_bytes + 64) / least_bits) + 1


def check_counts(header: Header, payload_bytes: int, lm: TrainedLM, name: str) -> None:
    """Refuse a header whose counts its payload cannot hold, before anything is planned or decoded."""
    if header.n_tokens > header.n_bytes:  # every token is at least one byte
        raise ArchiveError(f"{name}: damaged header ({header.n_tokens} tokens for {header.n_bytes} bytes)")
    most = max_tokens(payload_bytes, lm.tokenizer.vocab_size, header.version)
    if header.n_tokens > most:
        raise ArchiveError(
            f"{name}: damaged header (it claims {header.n_tokens:,} tokens; {payload_bytes:,} bytes of coded data "
            f"hold at most {most:,})"
        )
    longest = max(token_bytes(lm))
    if header.n_bytes > header.n_tokens * longest:
        raise ArchiveError(
            f"{name}: damaged header ({header.n_bytes:,} bytes from {header.n_tokens:,} tokens of at most "
            f"{longest} bytes each)"
        )


def check_magic(start: bytes, name: str) -> None:
    """Refuse what does not begin with the GCZ magic (called on the first bytes, before the rest is read)."""
    if start[:3] != MAGIC:
        raise ArchiveError(f"{name}: not a gencli archive (no GCZ magic)")


def checksum(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()[:DIGEST_BYTES]


def format_for(lm: TrainedLM, adaptive: bool = True) -> int:
    """The archive format this checkpoint writes: 2 (lockstep streams) needs rotary positions, 3 (bit coding with
    byte models) also adaptive coding with adapt.byte_orders > 0."""
    if not uses_lockstep(lm.model):
        return 1
    return 3 if adaptive and lm.cfg.adapt.byte_orders > 0 else 2


def fingerprint(lm: TrainedLM, adaptive: bool, version: int) -> bytes:
    """SHA-256 (first DIGEST_BYTES) of the weights, the tokenizer and the prediction settings of format `version`
    (format 3: also the priming text)."""
    settings = asdict(lm.cfg.adapt)
    streams = {k: settings.pop(k) for k in FORMAT_2_KEYS}
    bytes_model = {k: settings.pop(k) for k in FORMAT_3_KEYS}
    h = hashlib.sha256()
    for name, t in sorted(lm.model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().float().cpu().contiguous().numpy().tobytes())
    h.update(lm.tokenizer.to_json().encode())
    h.update(
        json.dumps(
            {"adapt": settings if adaptive else None, "block": lm.cfg.model.block_size}
            | ({"streams": streams} if version >= 2 else {})
            | ({"bytes": bytes_model, "prime": hashlib.sha256(lm.prime).hexdigest()} if version >= 3 else {}),
            sort_keys=True,
        ).encode()
    )
    return h.digest()[:DIGEST_BYTES]


@dataclass
class Compressed:
    archive: bytes
    n_bytes: int
    n_tokens: int
    model_bits: float  # sum of -log2 p over the tokens: the size an ideal coder would reach
    mixer: MixerTrace | None = None  # format 3: the weights the bit mixer gave each input

    @property
    def bits_per_byte(self) -> float | None:
        """The archive's size in bits per byte of the original (None for an empty original: no bytes to share it)."""
        return 8 * len(self.archive) / self.n_bytes if self.n_bytes else None

    @property
    def model_bits_per_byte(self) -> float | None:
        return self.model_bits / self.n_bytes if self.n_bytes else None

    @property
    def header_bytes(self) -> int:
        return Header.parse(self.archive, "archive")[1]


@dataclass
class MixerTrace:
    """Format 3's bit mixer while it coded a text: its mean weight of each input at each token, in the order coded
    (a token of every stream at each step)."""

    inputs: list[str]
    weights: np.ndarray  # (n_tokens, inputs)


def token_bytes(lm: TrainedLM) -> list[int]:
    """The UTF-8 length in bytes of each token (byte-level BPE: one vocabulary character per byte)."""
    tok = lm.tokenizer.tok
    return [len(tok.id_to_token(i) or "") for i in range(lm.tokenizer.vocab_size)]


def text_ids(lm: TrainedLM, data: bytes, name: str) -> list[int]:
    """The token ids of UTF-8 `data`, refused when it is not UTF-8 or does not come back from the tokenizer exactly."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise GencliError(f"{name} is not UTF-8 text (bad byte at offset {e.start}); lm compress codes text") from None
    ids = lm.tokenizer.encode(text)
    if lm.tokenizer.decode(ids) != text:
        raise GencliError(f"{name}: the tokenizer does not give this text back exactly, so it cannot be coded")
    return ids


def coded_distributions(
    lm: TrainedLM, ids: list[int], adaptive: bool, version: int
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(tokens coded before, symbols (m,), distributions (m, V)) in the coder's order: format 1 segment by segment,
    format 2 step by step (a token of each stream)."""
    if version == 1:
        for first, probs in predict_text(lm.model, ids, lm.cfg.adapt, adaptive):
            yield first, np.asarray(ids[first : first + len(probs)], dtype=np.int32), probs
        return
    if not ids:
        return
    with fixed_threads():
        plan = stream_plan(len(ids), lm.cfg.adapt)
        predictor = LockstepPredictor(lm.model, lm.cfg.adapt, adaptive, plan)
        done = 0
        for step in range(plan.steps):
            tokens = [ids[i] for i in plan.positions(step)]
            yield done, np.asarray(tokens, dtype=np.int32), predictor.probs()
            predictor.advance(tokens)
            done += len(tokens)


def compress(
    lm: TrainedLM,
    data: bytes,
    adaptive: bool,
    name: str = "input",
    progress: Callable[[int, int], None] | None = None,
    version: int | None = None,
) -> Compressed:
    """The gcz archive of UTF-8 `data` in format `version` (default: the checkpoint's, format_for);
    `progress(tokens done, tokens)` as it goes."""
    import constriction

    ids = text_ids(lm, data, name)
    version = version or format_for(lm, adaptive)
    if version >= 2 and not uses_lockstep(lm.model):
        raise GencliError(f"format {version} needs a model with rotary positions")
    if version == 3 and not adaptive:
        raise GencliError("format 3 codes adaptively (its byte models learn the text as it goes)")
    header = Header(version, adaptive, len(data), len(ids), checksum(data), fingerprint(lm, adaptive, version))
    if version == 3:
        coded = encode_mixed(lm, ids, len(data), progress=progress)
        trace = MixerTrace(coded.inputs, coded.weights)
        return Compressed(header.to_bytes() + coded.payload, len(data), len(ids), float(coded.bits.sum()), trace)
    family = constriction.stream.model.Categorical(perfect=False)
    encoder = constriction.stream.queue.RangeEncoder()
    bits = 0.0
    for first, symbols, probs in coded_distributions(lm, ids, adaptive, version):
        encoder.encode(symbols, family, probs)
        bits -= float(np.log2(probs[np.arange(len(probs)), symbols]).sum())
        if progress:
            progress(first + len(probs), len(ids))
    words = encoder.get_compressed().astype("<u4").tobytes().rstrip(b"\0") if ids else b""  # the decoder pads them back
    return Compressed(header.to_bytes() + words, len(data), len(ids), bits)


def decode_streams(
    lm: TrainedLM,
    header: Header,
    decode_many: Callable[[np.ndarray], list[int]],
    progress: Callable[[int, int], None] | None,
) -> list[int]:
    """The token ids of a format-2 archive: each step's distributions from the predictor, its tokens from the coder."""
    with fixed_threads():
        plan = stream_plan(header.n_tokens, lm.cfg.adapt)
        return decode_lockstep(LockstepPredictor(lm.model, lm.cfg.adapt, header.adaptive, plan), decode_many, progress)


def length_guard(lm: TrainedLM, header: Header, name: str) -> Callable[[list[int]], None]:
    """A check of each batch of decoded tokens: their bytes so far must not pass the header's size (a diverged
    decoder is stopped early instead of at the checksum)."""
    sizes = token_bytes(lm)
    written = 0

    def check(tokens: list[int]) -> None:
        nonlocal written
        written += sum(sizes[t] for t in tokens)
        if written > header.n_bytes:
            raise ArchiveError(
                f"{name} does not decode to what was compressed (longer than {header.n_bytes} bytes): "
                "the archive is damaged, or this machine computes the model differently"
            )

    return check


def decompress(
    lm: TrainedLM, archive: bytes, name: str = "input", progress: Callable[[int, int], None] | None = None
) -> bytes:
    """The original bytes of a gcz archive written with this checkpoint (ArchiveError when it cannot be);
    `progress(tokens done, tokens)` after each segment."""
    import constriction

    header, at = Header.parse(archive, name)
    check_counts(header, len(archive) - at, lm, name)
    if header.version >= 2 and not uses_lockstep(lm.model):
        raise ArchiveError(
            f"{name} is a format-{header.version} archive, written by a model with rotary positions; this one has none"
        )
    if header.fingerprint != fingerprint(lm, header.adaptive, header.version):
        raise ArchiveError(f"{name} was compressed with another checkpoint (or other adapt settings) than this one")
    payload = archive[at:]
    if header.version == 3:
        return _decompress_mixed(lm, header, payload, name, progress)
    words = np.frombuffer(payload + bytes(-len(payload) % 4), dtype="<u4").astype(np.uint32)
    decoder = constriction.stream.queue.RangeDecoder(words)
    family = constriction.stream.model.Categorical(perfect=False)

    check = length_guard(lm, header, name)

    def decode_many(p: np.ndarray) -> list[int]:
        """The tokens of distributions p (m, V), in order."""
        try:
            tokens = [int(t) for t in decoder.decode(family, p)]
        except Exception:  # the coder's words ran out or are inconsistent: a damaged archive
            raise ArchiveError(f"{name}: damaged archive (the coded data ends early or is inconsistent)") from None
        check(tokens)
        return tokens

    def decode(p: np.ndarray) -> int:
        return decode_many(p[None])[0]

    ids: list[int] = []
    if header.n_tokens and header.version == 1:
        with fixed_threads():
            predictor = TextPredictor(lm.model, lm.cfg.adapt, header.adaptive)
            ids.append(decode(predictor.first_probs()))
            for seg in segment_plan(header.n_tokens, predictor.block, lm.cfg.adapt.segment_for(predictor.block)):
                predictor.decode_segment(ids, seg, decode)
                if progress:
                    progress(len(ids), header.n_tokens)
    elif header.n_tokens:
        ids = decode_streams(lm, header, decode_many, progress)
    if header.n_tokens and not decoder.maybe_exhausted():
        raise ArchiveError(f"{name}: damaged archive (coded data left over after the last token)")
    return _checked_text(lm, ids, header, name)


def _checked_text(lm: TrainedLM, ids: list[int], header: Header, name: str) -> bytes:
    data = lm.tokenizer.decode(ids).encode("utf-8")
    if len(data) != header.n_bytes or checksum(data) != header.checksum:
        raise ArchiveError(
            f"{name} does not decode to what was compressed (checksum mismatch): the archive is damaged, "
            "or this machine computes the model differently from the one that compressed it"
        )
    return data


def _decompress_mixed(
    lm: TrainedLM, header: Header, payload: bytes, name: str, progress: Callable[[int, int], None] | None
) -> bytes:
    ids: list[int] = []
    if header.n_tokens:
        check = length_guard(lm, header, name)
        ids, read = decode_mixed(lm, header.n_tokens, header.n_bytes, payload, check, progress)
        if len(payload) > read:
            raise ArchiveError(f"{name}: damaged archive (coded data left over after the last token)")
    return _checked_text(lm, ids, header, name)


def coded_log2probs(lm: TrainedLM, ids: list[int], adaptive: bool) -> np.ndarray:
    """log2 p of every token as `lm compress` codes it with this checkpoint (format 3, 2 or 1)."""
    version = format_for(lm, adaptive)
    if version == 3:
        n_bytes = len(lm.tokenizer.decode(ids).encode("utf-8"))
        return -encode_mixed(lm, ids, n_bytes, score_only=True).bits
    fn = lockstep_log2probs if version == 2 else text_log2probs
    return fn(lm.model, ids, lm.cfg.adapt, adaptive)
