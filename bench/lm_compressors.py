"""Classic compressors on the language model's validation split: the bits per byte a model has to beat.

Each compressor codes the validation text given the training text before it: bits =
8 * (size(train + val) - size(train)), divided by the validation bytes. The split is the
one `gencli lm train` uses (the last 10% of the characters, cut at a line start; no tokenizer involved).
PPMd (order 8) needs the bench-only package pyppmd (`pip install pyppmd`); bzip2 and xz come
with Python.
Run: GENCLI_DATA_DIR=../shared/data .venv/bin/python bench/lm_compressors.py
"""

import bz2
import lzma

from gencli.lm.corpus import read_corpus
from gencli.lm.split import split_text


def conditional_bits(compress, train: bytes, val: bytes) -> float:
    return 8 * (len(compress(train + val)) - len(compress(train)))


def main() -> None:
    source, text = read_corpus("alice")
    train_text, val_text = split_text(text, 0.1)
    train, val = train_text.encode("utf-8"), val_text.encode("utf-8")
    coders = {"bzip2 -9": lambda b: bz2.compress(b, 9), "xz -9e": lambda b: lzma.compress(b, preset=9 | lzma.PRESET_EXTREME)}
    try:
        import pyppmd

        coders["PPMd order 8 (pyppmd)"] = lambda b: pyppmd.compress(b, max_order=8, mem_size=64 << 20)
    except ImportError:
        print("(pyppmd not installed: no PPMd row)")
    print(f"validation: {len(val):,} bytes after {len(train):,} bytes of training text ({source.name})")
    print(f"{'compressor':<24} bits per byte")
    for name, c in coders.items():
        print(f"{name:<24} {conditional_bits(c, train, val) / len(val):.3f}")


if __name__ == "__main__":
    main()
