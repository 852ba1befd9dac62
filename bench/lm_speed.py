"""LM training speed at the exercise shape against a plain fp32 loop, and the price of dropout.

Part 1, whole process: `gencli lm train --corpus alice --max-iters N` (the default recipe, BPE 2048,
        block 64, batch 32, evaluation every 100 steps and at the end) as a subprocess, timed from
        launch to exit (imports, tokenizer, path choice, steps, evaluations, saving, figure), once with an
        empty cache (it measures the numeric paths) and once with the cache filled; against the steps
        alone of the plain fp32 loop (bench/plain_loop.py) timed in-process. Runs alternate, best of R.
Part 2, steady state, in one process: tokens/s of the default recipe on the path `auto` picks, and of
        every numeric path with dropout 0, in interleaved chunks of 5 steps after 3 warm-up steps.
Run alone (no other torch process): GENCLI_DATA_DIR=../shared/data .venv/bin/python bench/lm_speed.py [N=150] [R=2]
"""

import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from cpu_info import cpu_line  # bench/ is on sys.path when a script there runs
from gencli_process import run_json
from plain_loop import plain_trainer

from gencli.core.config import ConfigSources
from gencli.lm.training.fit import prepare
from gencli.lm.training.numeric_path import ATTENTIONS, PRECISIONS

SHAPE = ["tokenizer.vocab_size=2048"]


def whole_run(iters: int, folder: Path, cache: Path) -> tuple[float, dict]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    res, wall, last = run_json(
        "lm",
        "train",
        "--corpus",
        "alice",
        "--ckpt",
        str(folder),
        "--max-iters",
        str(iters),
        *[a for s in SHAPE for a in ("--set", s)],
        env=env,
    )
    if res is None:
        sys.exit(f"gencli lm train failed: {last}")
    return wall, res


def plain_steps(iters: int, folder: Path) -> float:
    trainer = plain_trainer(folder, SHAPE + [f"train.max_iters={iters}", f"train.eval_every={iters + 1}"])
    trainer.run(iters, eval_at_end=False)
    return trainer.train_s


def steady_state(folder: Path, chunks: int = 6) -> dict[str, float]:
    sets = SHAPE + ["train.max_iters=100000", "train.eval_every=100000"]
    trainers = {"default recipe, auto path": prepare(folder / "d", False, ConfigSources(sets=tuple(sets))).trainer}
    NO_DROPOUT = ("model.dropout=0", "model.attn_dropout=0")
    for p in PRECISIONS:
        for a in ATTENTIONS:
            trainers[f"dropout 0, {p}/{a}"] = prepare(
                folder / f"{p}{a}",
                False,
                ConfigSources(sets=(*sets, f"train.precision={p}", f"train.attention={a}", *NO_DROPOUT)),
            ).trainer
    for t in trainers.values():
        t.run(3, eval_at_end=False)
        t.train_s, t.history.steps = 0.0, []
    for _ in range(chunks):
        for t in trainers.values():
            t.run(t.step + 5, eval_at_end=False)
    auto = trainers["default recipe, auto path"]
    return {name + (f" ({auto.path.name})" if t is auto else ""): t.tokens_per_s() for name, t in trainers.items()}


def main() -> None:
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    torch.set_num_threads(os.cpu_count() or 1)
    print(
        f"CPU: {cpu_line()}; {torch.get_num_threads()} threads; torch {torch.__version__}; {time.strftime('%Y-%m-%d')}"
    )
    firsts, cached, plains = [], [], []
    with tempfile.TemporaryDirectory(prefix="gencli-speed-") as tmp:
        tmp = Path(tmp)
        for r in range(repeats):
            firsts.append(whole_run(iters, tmp / f"first{r}", tmp / f"cache{r}"))
            cached.append(whole_run(iters, tmp / f"cached{r}", tmp / f"cache{r}"))
            plains.append(plain_steps(iters, tmp / f"plain{r}"))
        rates = steady_state(tmp)
    plain = min(plains)
    (wall_first, out_first), (wall_cached, out_cached) = (
        min(firsts, key=lambda x: x[0]),
        min(cached, key=lambda x: x[0]),
    )
    print(f"\nPart 1: {iters} iterations, mini 6/6/192, BPE 2048, block 64, batch 32, best of {repeats} (interleaved)")
    print(f"{'run':<58} {'seconds':>8} {'ratio':>6}")
    print(f"{'plain fp32 loop, the steps only':<58} {plain:>8.1f} {'1.00':>6}")
    for name, wall, out in (
        ("gencli lm train, whole process, empty cache", wall_first, out_first),
        ("gencli lm train, whole process, cache filled", wall_cached, out_cached),
    ):
        print(f"{name:<58} {wall:>8.1f} {plain / wall:>5.2f}x")
        print(f"{'  of which training steps':<58} {out['train_s']:>8.1f}")
        print(f"{'  of which evaluation':<58} {out['wall_s'] - out['train_s']:>8.1f}")
        print(f"{'  of which start, tokenizer, path choice, saving, figure':<58} {wall - out['wall_s']:>8.1f}")
    print(
        f"numeric path: {out_first['numeric_path']['path']} "
        + ", ".join(f"{k} {v:,.0f}" for k, v in out_first["numeric_path"]["tokens_per_s"].items())
        + " tokens/s measured"
    )
    print("\nPart 2: steady-state tokens/s (6 interleaved chunks of 5 steps)")
    for name, v in rates.items():
        print(f"{name:<44} {v:>9,.0f}")
    best_plain = max(v for k, v in rates.items() if k.startswith("dropout 0"))
    default = next(v for k, v in rates.items() if k.startswith("default"))
    print(f"default recipe / fastest no-dropout path: {default / best_plain:.2f}x")


if __name__ == "__main__":
    main()
