"""lm compress against classic compressors: file sizes, bits per byte, round trips and speed.

The texts: the held-out chapters of the checkpoint's corpus (the last data.val_fraction, as training
split it), the unseen story of gencli.lm.data.unseen, and any files named after the checkpoint. Each is coded by
`lm compress` (static and adaptive, then decoded again) and by the classic compressors given the
training text first (gencli.lm.compression.classic; zpaq where installed). This is the report's L6 table,
plus speeds. Compression and decompression run on 2 threads (the coder's fixed thread count, CODING_THREADS).
Run: GENCLI_DATA_DIR=../shared/data .venv/bin/python bench/lm_compress.py CKPT [FILE ...]
"""

import platform
import sys
from pathlib import Path

import torch

from gencli.lm import analyses
from gencli.lm.data.unseen import UNSEEN_TEXT
from gencli.lm.model.store import load_trained
from gencli.lm.training.numeric_path import processor


def main() -> None:
    lm = load_trained(Path(sys.argv[1]))
    train, held_out = analyses.held_out_text(lm)
    texts = {"held-out chapters": held_out, "unseen story": UNSEEN_TEXT}
    texts.update({Path(f).name: Path(f).read_text() for f in sys.argv[2:]})
    result = analyses.compression_comparison(lm, texts, train, "given the training text")
    print(f"{processor()[0]}, torch {torch.__version__}, Python {platform.python_version()}; checkpoint {sys.argv[1]}")
    print(
        f"{'text':<20}{'coder':<17}{'bytes':>8}{'coded':>8}{'bits/byte':>10}{'model':>8}{'round trip':>11}"
        f"{'KB/s in':>9}{'KB/s out':>9}"
    )

    def speed(n_bytes: int, seconds: float | None) -> str:
        return f"{n_bytes / 1000 / seconds:>9.2f}" if seconds else f"{'':>9}"

    for r in result.rows:
        model = f"{r.model_bits_per_byte:>8.3f}" if r.model_bits_per_byte is not None else f"{'':>8}"
        trip = "" if r.round_trip is None else ("exact" if r.round_trip else "FAILED")
        print(
            f"{r.text[:19]:<20}{r.coder:<17}{r.input_bytes:>8,}{r.output_bytes:>8,}{r.bits_per_byte:>10.3f}{model}"
            f"{trip:>11}{speed(r.input_bytes, r.seconds)}{speed(r.input_bytes, r.decode_seconds)}"
        )


if __name__ == "__main__":
    main()
