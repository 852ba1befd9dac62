"""LM training throughput: gencli's loop (bf16 autocast, CPU-fast attention) vs a plain fp32 loop.

Both train the same model (mini 6/6/192, vocabulary 2048, block 64, batch 32) from the same
init on the same batches of Alice; reports tokens/s and the final validation loss.
Run: GENCLI_DATA_DIR=../shared/data .venv/bin/python bench/lm_bench.py [iters]
"""

import sys
import time

import torch

from gencli.config import resolve
from gencli.lm.config import LMConfig
from gencli.lm.corpus import read_corpus
from gencli.lm.tokenizer import TextTokenizer
from gencli.lm.train import LMTrainer, split_tokens

torch.set_num_threads(2)


def run(cfg, vocab, train, val):
    tr = LMTrainer(cfg, vocab, train, val, torch.device("cpu"))
    t0 = time.perf_counter()
    tr.run(cfg.train.max_iters)
    return tr, time.perf_counter() - t0


def main() -> None:
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    sets = [f"train.max_iters={iters}", f"train.eval_every={iters}"]
    fast = resolve(LMConfig, sets=sets)
    plain = resolve(LMConfig, sets=sets + ["train.precision=fp32", "train.attention=explicit"])
    _, text = read_corpus("alice")
    tok = TextTokenizer.train(text, "bpe", 2048)
    tokens = torch.tensor(tok.encode(text))
    train, val = split_tokens(tokens, 0.1, 64, "alice")
    rows = []
    for name, cfg in (("plain fp32, explicit attention", plain), ("gencli default (bf16 autocast)", fast)):
        tr, wall = run(cfg, tok.vocab_size, train, val)
        rows.append((name, tr.tokens_per_s(), tr.history.eval_val[-1], wall))
    print(f"{iters} iterations, mini 6/6/192, vocab {tok.vocab_size}, block 64, batch 32, 2 threads")
    print(f"{'loop':<34} {'tokens/s':>10} {'val loss':>9} {'wall s':>8}")
    for name, tps, vl, wall in rows:
        print(f"{name:<34} {tps:>10.0f} {vl:>9.4f} {wall:>8.1f}")
    print(f"speed-up {rows[1][1] / rows[0][1]:.2f}x, validation loss difference {100 * (rows[1][2] / rows[0][2] - 1):+.2f}%")


if __name__ == "__main__":
    main()
