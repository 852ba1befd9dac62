"""L6: texts coded by the model (static and adaptive) beside classic compressors, with the round trip checked."""

from __future__ import annotations

import time

from gencli.lm.compression.classic import conditional_sizes
from gencli.lm.compression.codec import ArchiveError, compress, decompress
from gencli.lm.data.texts import ATTENTION_PROMPT, EXERCISE_SENTENCE  # noqa: F401  (the analyses' defaults)
from gencli.lm.model.store import TrainedLM
from gencli.lm.results import (
    ADAPTIVE,
    STATIC,
    CodedText,
    CompressionComparison,
)


def compression_comparison(
    lm: TrainedLM, texts: dict[str, str], given: str, given_label: str, round_trip: bool = True
) -> CompressionComparison:
    """L6: each text coded by the model (static and adaptive, `lm compress`) and by the classic compressors given
    `given` first (the model's training text); each gencli archive decoded again when `round_trip`."""
    rows = []
    encoded = {name: text.encode("utf-8") for name, text in texts.items()}
    classic = conditional_sizes(encoded, given.encode("utf-8"))
    for name, data in encoded.items():
        for adaptive, coder in ((False, STATIC), (True, ADAPTIVE)):
            start = time.perf_counter()
            c = compress(lm, data, adaptive, name)
            seconds = time.perf_counter() - start
            ok = decode_seconds = None
            if round_trip:
                start = time.perf_counter()
                try:
                    ok = decompress(lm, c.archive, name) == data
                except ArchiveError:
                    ok = False
                decode_seconds = time.perf_counter() - start
            rows.append(
                CodedText(
                    name,
                    coder,
                    len(data),
                    len(c.archive),
                    c.model_bits_per_byte,
                    ok,
                    seconds,
                    decode_seconds,
                    c.archive,
                    c.mixer.inputs if c.mixer else None,
                    c.mixer.weights if c.mixer else None,
                )
            )
        rows += [CodedText(name, coder, len(data), size) for (text, coder), size in classic.items() if text == name]
    return CompressionComparison(rows, given_label)
