"""Classic compressors on the language model's validation split: the bits per byte a model has to beat.

Each compressor codes the validation text given the training text before it: bits =
8 * (size(train + val) - size(train)), divided by the validation bytes. The split is the
one `gencli lm train` uses (the last 10% of the tokens of the default BPE tokenizer).
PPMd (order 8) needs the bench-only package pyppmd (`pip install pyppmd`); bzip2 and xz come
with Python.
Run: GENCLI_DATA_DIR=../shared/data .venv/bin/python bench/lm_compressors.py [vocab_size, default 2048]
"""

import bz2
import lzma
import sys

import torch

from gencli.lm.corpus import read_corpus
from gencli.lm.tokenizer import TextTokenizer
from gencli.lm.train import split_tokens


def conditional_bits(compress, train: bytes, val: bytes) -> float:
    return 8 * (len(compress(train + val)) - len(compress(train)))


def main() -> None:
    vocab = int(sys.argv[1]) if len(sys.argv) > 1 else 2048
    source, text = read_corpus("alice")
    tok = TextTokenizer.train(text, "bpe", vocab)
    ids = torch.tensor(tok.encode(text))
    train_ids, val_ids = split_tokens(ids, 0.1, 64, str(source))
    train = tok.decode(train_ids.tolist()).encode("utf-8")
    val = text.encode("utf-8")[len(train):]
    coders = {"bzip2 -9": lambda b: bz2.compress(b, 9), "xz -9e": lambda b: lzma.compress(b, preset=9 | lzma.PRESET_EXTREME)}
    try:
        import pyppmd

        coders["PPMd order 8 (pyppmd)"] = lambda b: pyppmd.compress(b, max_order=8, mem_size=64 << 20)
    except ImportError:
        print("(pyppmd not installed: no PPMd row)")
    print(f"validation: {len(val):,} bytes after {len(train):,} bytes of training text ({source.name}, BPE {vocab} split)")
    print(f"{'compressor':<24} bits per byte")
    for name, c in coders.items():
        print(f"{name:<24} {conditional_bits(c, train, val) / len(val):.3f}")


if __name__ == "__main__":
    main()
