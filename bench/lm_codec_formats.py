"""lm compress formats side by side: file size, compression and decompression speed, round trip.

Format 1 predicts a segment per padded window (its decoder makes one window call per token); format 2 codes the
text as streams that advance together by KV-cached steps (encoder and decoder make the same calls). Both run in
one process, interleaved per text, on the coder's fixed 2 threads. `--streams` lists stream counts to try for
format 2 (adapt.streams). Texts: the held-out chapters of the checkpoint's corpus and any files named.
Run: GENCLI_DATA_DIR=../shared/data .venv/bin/python bench/lm_codec_formats.py CKPT [FILE ...] [--streams 1,4,16]
"""

import argparse
import copy
import dataclasses
import platform
import time
from pathlib import Path

import torch

from gencli.lm import analyses
from gencli.lm.compression.codec import compress, decompress
from gencli.lm.model.store import TrainedLM, load_trained
from gencli.lm.training.numeric_path import processor


def with_streams(lm: TrainedLM, streams: int) -> TrainedLM:
    cfg = copy.deepcopy(lm.cfg)
    cfg.adapt = dataclasses.replace(cfg.adapt, streams=streams)
    return TrainedLM(cfg, lm.model, lm.tokenizer, lm.checkpoint)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("ckpt")
    ap.add_argument("files", nargs="*")
    ap.add_argument("--streams", default="16")
    ap.add_argument("--static", action="store_true", help="also the static (not adaptive) coder")
    args = ap.parse_args()
    lm = load_trained(Path(args.ckpt))
    _, held_out = analyses.held_out_text(lm)
    texts = {"held-out chapters": held_out} | {Path(f).name: Path(f).read_text() for f in args.files}
    print(f"{processor()[0]}, torch {torch.__version__}, Python {platform.python_version()}; checkpoint {args.ckpt}")
    print(
        f"{'text':<20}{'coder':<26}{'bytes':>8}{'coded':>8}{'bits/byte':>10}{'KB/s in':>9}{'KB/s out':>9}{'out/in':>8}"
    )
    modes = [True, False] if args.static else [True]
    for name, text in texts.items():
        data = text.encode("utf-8")
        for adaptive in modes:
            runs = [("format 1", lm, 1)] + [
                (f"format 2, {k} streams", with_streams(lm, int(k)), 2) for k in args.streams.split(",")
            ]
            for label, model, version in runs:
                t0 = time.perf_counter()
                c = compress(model, data, adaptive, version=version)
                t1 = time.perf_counter()
                back = decompress(model, c.archive)
                t2 = time.perf_counter()
                assert back == data, (name, label)
                kind = "adaptive" if adaptive else "static"
                print(
                    f"{name[:19]:<20}{label + ', ' + kind:<26}{len(data):>8,}{len(c.archive):>8,}"
                    f"{c.bits_per_byte:>10.3f}{len(data) / 1e3 / (t1 - t0):>9.2f}{len(data) / 1e3 / (t2 - t1):>9.2f}"
                    f"{(t1 - t0) / (t2 - t1):>8.2f}"
                )


if __name__ == "__main__":
    main()
