"""A corpus far larger than the book: `gencli lm train --corpus FILE --max-iters 2` on a text of --mb megabytes (the
book's lines shuffled, seeded, until the size is reached), twice with one fresh cache folder. Prints peak memory
(GNU time's maximum resident set size) against the file's size, the wall time, and whether the second run mapped
the token ids from the cache instead of encoding the text again.

Run: GENCLI_DATA_DIR=../shared/data .venv/bin/python bench/lm_large_corpus.py [--mb 200]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cpu_info import cpu_line

from gencli.lm.data.corpus import read_corpus


def make_corpus(path: Path, megabytes: float, seed: int = 0) -> int:
    _, book = read_corpus("alice")
    lines = book.splitlines(keepends=True)
    rng = random.Random(seed)
    target, size = int(megabytes * 1e6), 0
    with path.open("w", encoding="utf-8") as f:
        while size < target:
            rng.shuffle(lines)
            block = "".join(lines)
            f.write(block)
            size += len(block.encode("utf-8"))
    return path.stat().st_size


def train(corpus: Path, ckpt: Path, cache: Path) -> tuple[float, float, int, str]:
    """(peak MB, wall s, exit code, last stderr line) of one training run."""
    stats = ckpt.parent / "time.txt"
    env = {**os.environ, "GENCLI_CACHE_DIR": str(cache)}
    cmd = ["/usr/bin/time", "-o", str(stats), "-f", "%M", sys.executable, "-m", "gencli", "lm", "train"]
    cmd += ["--corpus", str(corpus), "--ckpt", str(ckpt), "--max-iters", "2", "--force"]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    peak = int(stats.read_text().split()[-1]) / 1024
    return peak, wall, p.returncode, (p.stderr.strip().splitlines() or [""])[-1][:100]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        size = make_corpus(tmp / "big.txt", args.mb)
        print(f"# {cpu_line()}; corpus {size / 1e6:.0f} MB; lm train --max-iters 2, default model")
        print("| run | peak MB | peak / file size | above the book's run, / file size | wall s | exit | token cache |")
        print("|---|---|---|---|---|---|---|")
        _, book = read_corpus("alice")
        (tmp / "book.txt").write_text(book, encoding="utf-8")
        base, wall, code, _ = train(tmp / "book.txt", tmp / "ck", tmp / "cache")  # torch, the model, the figures
        book_mb = len(book.encode()) / 1e6
        print(f"| the book alone ({book_mb:.2f} MB): the fixed cost | {base:.0f} | - | - | {wall:.1f} | {code} | - |")
        for run in ("first (encodes, writes the cache)", "second (same corpus)"):
            before = set((tmp / "cache" / "tokens").glob("*")) if (tmp / "cache" / "tokens").exists() else set()
            peak, wall, code, last = train(tmp / "big.txt", tmp / "ck", tmp / "cache")
            after = set((tmp / "cache" / "tokens").glob("*"))
            cache = "reused" if before and after == before else f"{len(after - before)} files written"
            above = (peak - base) * 2**20 / size
            print(
                f"| {run} | {peak:.0f} | {peak * 2**20 / size:.2f}x | {above:.2f}x | {wall:.1f} | {code} | {cache} |",
                flush=True,
            )
            if code:
                print(f"  ({last})")


if __name__ == "__main__":
    main()
