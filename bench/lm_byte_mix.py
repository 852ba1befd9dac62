"""Format 3 of lm compress (the network mixed bit by bit with byte context models) under several settings, beside
format 2 (the network alone, adaptive) and the classic coders, each given the training text first.

Each row codes every text with one variant of the checkpoint's `adapt` section and checks the round trip of the
first text; bits per byte are of the real file; KB/s of compression (the machine's load changes these: compare
the rows of one run). Texts: the held-out chapters of the checkpoint's corpus and any files named (licences from
/usr/share/common-licenses, say).
Run: GENCLI_DATA_DIR=../shared/data .venv/bin/python bench/lm_byte_mix.py CKPT [FILE ...] [--quick]
"""

import argparse
import copy
import dataclasses
import platform
import time
from pathlib import Path

import torch

from gencli.lm import analyses
from gencli.lm.compression.classic import conditional_sizes
from gencli.lm.compression.codec import compress, decompress
from gencli.lm.model.store import TrainedLM, load_trained
from gencli.lm.training.numeric_path import processor

VARIANTS = {
    "format 2 (network alone, adaptive)": {"byte_orders": 0},
    "format 3, defaults": {},
    "orders 0-2": {"byte_orders": 2},
    "orders 0-4": {"byte_orders": 4},
    "orders 0-8": {"byte_orders": 8},
    "no match model": {"byte_match": 0},
    "match of 10 bytes": {"byte_match": 10},
    "APM frozen (rate 0)": {"byte_apm_rate": 0.0},
    "mixer lr 0.002": {"byte_lr": 0.002},
    "mixer lr 0.01": {"byte_lr": 0.01},
    "counter limit 30": {"byte_limit": 30},
    "8 streams": {"streams": 8},
    "4 streams": {"streams": 4},
}
QUICK = ("format 2 (network alone, adaptive)", "format 3, defaults", "no match model", "4 streams")


def variant(lm: TrainedLM, settings: dict) -> TrainedLM:
    cfg = copy.deepcopy(lm.cfg)
    cfg.adapt = dataclasses.replace(cfg.adapt, **settings)
    return TrainedLM(cfg, lm.model, lm.tokenizer, lm.checkpoint, lm.prime)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("ckpt")
    ap.add_argument("files", nargs="*")
    ap.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    args = ap.parse_args()
    lm = load_trained(Path(args.ckpt))
    train, held_out = analyses.held_out_text(lm)
    texts = {"held-out": held_out} | {Path(f).name: Path(f).read_text() for f in args.files}
    data = {name: text.encode("utf-8") for name, text in texts.items()}
    print(f"{processor()[0]}, torch {torch.__version__}, Python {platform.python_version()}; checkpoint {args.ckpt}")
    print(f"priming text {len(lm.prime):,} bytes; texts: " + ", ".join(f"{n} {len(d):,} B" for n, d in data.items()))
    head = f"{'coder':<38}" + "".join(f"{n[:14]:>15}" for n in data) + f"{'KB/s':>8}{'round trip':>12}"
    print(head)
    classic = conditional_sizes(data, train.encode("utf-8"))
    for coder in sorted({c for _, c in classic}):
        print(f"{coder:<38}" + "".join(f"{8 * classic[n, coder] / len(d):>15.3f}" for n, d in data.items()))
    for label, settings in VARIANTS.items():
        if args.quick and label not in QUICK:
            continue
        model = variant(lm, settings)
        sizes, seconds, ok = [], 0.0, None
        for d in data.values():
            t0 = time.perf_counter()
            c = compress(model, d, True)
            seconds += time.perf_counter() - t0
            sizes.append(c.bits_per_byte)
            if ok is None:
                ok = decompress(model, c.archive) == d
        speed = sum(len(d) for d in data.values()) / 1e3 / seconds
        print(
            f"{label:<38}" + "".join(f"{b:>15.3f}" for b in sizes) + f"{speed:>8.2f}{'exact' if ok else 'FAILED':>12}"
        )


if __name__ == "__main__":
    main()
