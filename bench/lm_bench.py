"""LM training throughput: gencli's loop vs a plain fp32 loop of the same model, same batches.

gencli: the default recipe on the numeric path `auto` measures, cheap dropout masks, fused AdamW.
plain:  bench/plain_loop.py: fp32, explicit-softmax attention, torch.nn.Dropout(0.1), unfused AdamW.
Both start from the same weights and see the same batches of Alice (mini 6/6/192,
vocabulary 2048, block 64, batch 32). They train in alternating chunks of 10 steps so that
a change in the machine's speed during the run affects both alike; tokens/s counts only
the training steps. Reports the validation loss of both after the same number of steps.
Run: GENCLI_DATA_DIR=../shared/data .venv/bin/python bench/lm_bench.py [iters, default 300]
"""

import sys
import time

import torch
from plain_loop import PLAIN, use_torch_dropout  # bench/ is on sys.path when a script there runs

from gencli.core.config import resolve
from gencli.lm.config import LMConfig
from gencli.lm.data.corpus import read_corpus
from gencli.lm.data.split import encode_split, split_text
from gencli.lm.data.tokenizer import TextTokenizer
from gencli.lm.training.trainer import LMTrainer

torch.set_num_threads(2)


def main() -> None:
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    sets = [f"train.max_iters={iters}", f"train.eval_every={iters}", "tokenizer.vocab_size=2048"]
    configs = {
        "plain fp32 loop (explicit attention)": resolve(LMConfig, sets=sets + PLAIN),
        "gencli default": resolve(LMConfig, sets=sets),
    }
    _, text = read_corpus("alice")
    train_text, val_text = split_text(text, 0.1)
    tok = TextTokenizer.train(train_text, "bpe", 2048)
    train, val = encode_split(tok, train_text, val_text, 64, "alice")
    trainers = {name: LMTrainer(cfg, tok.vocab_size, train, val, torch.device("cpu")) for name, cfg in configs.items()}
    use_torch_dropout(trainers["plain fp32 loop (explicit attention)"].model)
    t0 = time.perf_counter()
    for target in range(10, iters + 10, 10):
        for tr in trainers.values():
            tr.run(min(target, iters), eval_at_end=False)
    rows = [(name, tr.tokens_per_s(), tr.estimate(val), tr.train_s) for name, tr in trainers.items()]
    print(
        f"{iters} iterations, mini 6/6/192, vocab {tok.vocab_size}, block 64, batch 32, 2 threads, "
        f"{time.perf_counter() - t0:.0f} s in all"
    )
    print(f"{'loop':<38} {'tokens/s':>10} {'val loss':>9} {'train s':>8}")
    for name, tps, vl, ts in rows:
        print(f"{name:<38} {tps:>10.0f} {vl:>9.4f} {ts:>8.1f}")
    (_, p_tps, p_val, _), (_, g_tps, g_val, _) = rows
    print(
        f"speed-up {g_tps / p_tps:.2f}x; validation loss {100 * (g_val / p_val - 1):+.2f}% relative to the plain loop"
    )


if __name__ == "__main__":
    main()
