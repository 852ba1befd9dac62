"""`lm generate` with and without the KV cache: tokens per second of greedy decoding, measured interleaved in one
run, and whether the two texts are identical token for token.

The uncached path runs every token the newest one depends on through the model for each new token (rotary
positions: n_layer (block_size - 1) + 1 tokens under sliding-window attention; learned positions: the last
block_size); the cached path feeds one token a step. Without --ckpt a mini-shaped GPT (6/6/192, block 64, vocab
2048) with random weights stands in for the default model (its speed, not its text, is the point); its output layer
is sharpened so that greedy choices are not near-ties.

Run: .venv/bin/python bench/lm_generate_cache.py [--ckpt checkpoints/lm] [--tokens 2000] [--repeats 2] [--threads 2]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from cpu_info import cpu_line  # bench/ is on sys.path when a script there runs

from gencli.lm.inference.generate import generate
from gencli.lm.model.gpt import GPT, GPTShape


def stand_in(positions: str) -> GPT:
    torch.manual_seed(0)
    m = GPT(GPTShape(2048, 64, 6, 6, 192, positions=positions)).eval()
    with torch.no_grad():
        m.head.weight.mul_(20.0)
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", type=Path, default=None)
    ap.add_argument("--tokens", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"machine: {cpu_line()}; torch {torch.__version__}, {a.threads} thread(s); {a.tokens} greedy tokens")
    if a.ckpt is not None:
        from gencli.lm.model.store import load_trained

        lm = load_trained(a.ckpt)
        models = {f"{a.ckpt} ({lm.cfg.model.positions})": lm.model}
        prompt = lm.tokenizer.encode("Alice was beginning to get very tired")
    else:
        models = {f"stand-in mini, {p}": stand_in(p) for p in ("rotary", "learned")}
        prompt = [1, 2, 3, 4, 5]
    print("| model | cached tok/s | uncached tok/s | speed-up | identical greedy text |")
    print("|---|---|---|---|---|")
    for name, m in models.items():
        best = {True: 0.0, False: 0.0}
        texts = {}
        for _ in range(a.repeats):
            for cached in (True, False):  # interleaved
                t0 = time.perf_counter()
                texts[cached] = generate(m, prompt, a.tokens, greedy=True, cached=cached)
                best[cached] = max(best[cached], a.tokens / (time.perf_counter() - t0))
        same = texts[True] == texts[False]
        print(
            f"| {name} | {best[True]:.0f} | {best[False]:.0f} | {best[True] / best[False]:.2f}x | {same} |", flush=True
        )


if __name__ == "__main__":
    main()
