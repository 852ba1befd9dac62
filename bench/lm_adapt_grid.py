"""Adaptive-scoring settings on the held-out chapters and on text no one trained on: model bits per byte.

Each row scores both texts with `gencli.lm.inference.adaptive.text_log2probs` (what `lm compress` codes) under one
setting of the checkpoint's `adapt` section; `static` is the model alone in the same segments.
Settings are `key=value,key=value` (keys of the adapt section), one per argument after the checkpoint;
without any, a built-in grid.
Run: GENCLI_DATA_DIR=../shared/data .venv/bin/python bench/lm_adapt_grid.py CKPT [SETTING ...] [--other FILE]
"""

import dataclasses
import sys
import time
from pathlib import Path

from gencli.lm.data.corpus import read_corpus
from gencli.lm.data.split import split_text
from gencli.lm.data.unseen import UNSEEN_TEXT
from gencli.lm.inference.adaptive import text_log2probs
from gencli.lm.model.store import load_trained

GRID = [
    "static",
    "lr=0,cache_lambda=0.1,cache_theta=0.1",
    "lr=1e-2,cache_size=0",
    "lr=5e-3,cache_lambda=0.15,cache_theta=0.05",
]


def parse(setting: str, base):
    if setting == "static":
        return base, False
    kv = dict(item.split("=") for item in setting.split(","))
    types = {f.name: f.type for f in dataclasses.fields(base)}
    return dataclasses.replace(
        base, **{k: (int if types[k] in (int, "int") else float)(v) for k, v in kv.items()}
    ), True


def bpb(lm, text: str, settings, adapt: bool) -> float:
    ids = lm.tokenizer.encode(text)
    return -float(text_log2probs(lm.model, ids, settings, adapt).sum()) / len(text.encode("utf-8"))


def main() -> None:
    args = sys.argv[1:]
    other = None
    if "--other" in args:
        i = args.index("--other")
        other = Path(args[i + 1]).read_text()
        del args[i : i + 2]
    lm = load_trained(Path(args[0]))
    _, alice = read_corpus("alice")
    texts = {
        "held-out chapters": split_text(alice, lm.cfg.data.val_fraction)[1],
        "unseen (gencli.lm.data.unseen)": UNSEEN_TEXT,
    }
    if other is not None:
        texts["--other"] = other
    print(
        f"checkpoint {args[0]}; bits per byte of the model (sum of -log2 p / bytes); "
        + ", ".join(f"{k}: {len(v.encode()):,} bytes" for k, v in texts.items())
    )
    print(f"{'setting':<58}" + "".join(f"{k[:18]:>20}" for k in texts) + f"{'seconds':>9}")
    for setting in args[1:] or GRID:
        settings, adapt = parse(setting, lm.cfg.adapt)
        t = time.perf_counter()
        row = [bpb(lm, text, settings, adapt) for text in texts.values()]
        print(f"{setting:<58}" + "".join(f"{v:>20.4f}" for v in row) + f"{time.perf_counter() - t:>9.1f}", flush=True)


if __name__ == "__main__":
    main()
