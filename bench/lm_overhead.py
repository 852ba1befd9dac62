"""A short run's whole cost: the `gencli lm train` process against a plain fp32 loop doing only the steps.

gencli: `gencli lm train --corpus alice --max-iters N` as a subprocess (the exercise shape: mini 6/6/192,
        BPE 2048, block 64, batch 32, the default evaluation every 100 steps and at the end), timed
        from launch to exit: interpreter and imports, tokenizer, N steps, evaluations, saving, figure.
plain:  the same model and batches in fp32, explicit-softmax attention, unfused AdamW, N steps and
        nothing else, timed in-process (steps only).
The two alternate, best of R each, so a change in the machine's speed affects both alike.
Run alone (no other torch process): GENCLI_DATA_DIR=../shared/data .venv/bin/python bench/lm_overhead.py [N=150] [R=2]
"""

import sys
import tempfile
from pathlib import Path

import torch
from gencli_process import run_json  # bench/gencli_process.py: a script's folder is on sys.path

from gencli.lm.fit import prepare

torch.set_num_threads(2)
SHAPE = ["tokenizer.vocab_size=2048"]


def whole_gencli_run(iters: int, folder: Path) -> tuple[float, dict]:
    """Wall seconds of one whole `gencli lm train` process, and its --json output."""
    res, wall, last = run_json("lm", "train", "--corpus", "alice", "--ckpt", str(folder), "--max-iters", str(iters),
                               *[a for s in SHAPE for a in ("--set", s)])
    if res is None:
        sys.exit(f"gencli lm train failed: {last}")
    return wall, res


def plain_steps(iters: int, folder: Path) -> float:
    """Seconds of `iters` plain fp32 steps (no evaluation, no saving; `folder` is never written)."""
    sets = SHAPE + [f"train.max_iters={iters}", f"train.eval_every={iters + 1}", "train.precision=fp32",
                    "train.attention=explicit", "train.fused_adamw=false"]
    trainer = prepare(folder, resume=False, sets=sets).trainer
    trainer.run(iters, eval_at_end=False)
    return trainer.train_s


def main() -> None:
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    runs, plains = [], []
    with tempfile.TemporaryDirectory(prefix="gencli-overhead-") as tmp:
        for r in range(repeats):
            runs.append(whole_gencli_run(iters, Path(tmp) / f"run{r}"))
            plains.append(plain_steps(iters, Path(tmp) / f"plain{r}"))
    wall, out = min(runs, key=lambda x: x[0])
    plain = min(plains)
    steps, fit = out["train_s"], out["wall_s"]
    print(f"{iters} iterations, mini 6/6/192, vocabulary 2048, block 64, batch 32, 2 threads, best of {repeats} (interleaved)")
    print(f"{'part':<44} {'seconds':>8}")
    print(f"{'plain fp32 loop: the steps only':<44} {plain:>8.1f}")
    print(f"{'gencli lm train, whole process':<44} {wall:>8.1f}")
    print(f"{'  of which training steps':<44} {steps:>8.1f}")
    print(f"{'  of which evaluation':<44} {fit - steps:>8.1f}")
    print(f"{'  of which start, tokenizer, saving, figure':<44} {wall - fit:>8.1f}")
    print(f"whole-process ratio (plain steps / gencli process): {plain / wall:.2f}x; "
          f"steps alone: {plain / steps:.2f}x; evaluation share of the gencli run: {100 * (fit - steps) / wall:.0f}%")


if __name__ == "__main__":
    main()
