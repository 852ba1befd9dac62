"""Many language-model recipes at the exercise budget, side by side: best and final validation bits per byte.

Each recipe is one `gencli lm train --corpus alice --json` process (2000 steps, block 64, batch 32, seed 0,
fp32; BASE below, changed as the recipe says); up to --jobs of them run at once and a
table row is printed as each one ends. On the 2-core CPU one recipe takes about 30 minutes, so the whole
list is for a GPU machine (a few minutes there: these models are small, the runs are launch-bound):
    GENCLI_DATA_DIR=../shared/data python bench/lm_recipes.py --device cuda --jobs 16 [--only "a;b"] [--out DIR]
(with OMP_NUM_THREADS=1 and, where it starts, the CUDA MPS daemon, as the README's run did).
fp32 on both devices (and no TF32), so a recipe's numbers on the GPU are those of the CPU run up to the
order of floating-point sums; the README's CPU rows check that on the default.
"""

import argparse
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from gencli_process import run_json  # bench/gencli_process.py: a script's folder is on sys.path

# every recipe is a change to this base (the default before BPE 1536), pinned so that the rows do not move
# when a default does
BASE = [
    "train.precision=fp32",
    "tokenizer.vocab_size=512",
    "model.dropout=0.2",
    "model.tie_weights=true",
    "train.weight_decay=1.0",
    "train.lr_schedule=cosine",
    "train.warmup_iters=100",
    "train.min_lr=5e-5",
]
RECIPES: dict[str, list[str]] = {
    "base (BPE 512)": [],
    "dropout 0.1": ["model.dropout=0.1"],
    "dropout 0.3": ["model.dropout=0.3"],
    "weight decay 0.1": ["train.weight_decay=0.1"],
    "untied": ["model.tie_weights=false"],
    "vocab 384": ["tokenizer.vocab_size=384"],
    "vocab 1024": ["tokenizer.vocab_size=1024"],
    "ema 0.01": ["train.ema=0.01"],
    "micro 4/4/128": ["model.preset=micro"],
    "6/3/192 (head dim 64)": ["model.n_head=3"],
    "8/8/256, dropout 0.3": [
        "model.preset=custom",
        "model.n_layer=8",
        "model.n_head=8",
        "model.n_embd=256",
        "model.dropout=0.3",
    ],
    "6/6/384, dropout 0.3": [
        "model.preset=custom",
        "model.n_layer=6",
        "model.n_head=6",
        "model.n_embd=384",
        "model.dropout=0.3",
    ],
    "6/6/384, dropout 0.4": [
        "model.preset=custom",
        "model.n_layer=6",
        "model.n_head=6",
        "model.n_embd=384",
        "model.dropout=0.4",
    ],
    "12/6/192, dropout 0.2": ["model.preset=custom", "model.n_layer=12", "model.n_head=6", "model.n_embd=192"],
    "3/6/384, dropout 0.3": [
        "model.preset=custom",
        "model.n_layer=3",
        "model.n_head=6",
        "model.n_embd=384",
        "model.dropout=0.3",
    ],
    "lr 1e-3 (not the exercise's)": ["train.lr=1e-3"],
    "lr 3e-4 (not the exercise's)": ["train.lr=3e-4"],
    "no warmup, floor 0": ["train.warmup_iters=0", "train.min_lr=0"],
    "grad clip 0.5": ["train.grad_clip=0.5"],
    "12/6/384, dropout 0.4": [
        "model.preset=custom",
        "model.n_layer=12",
        "model.n_head=6",
        "model.n_embd=384",
        "model.dropout=0.4",
    ],
    "vocab 1024, 6/6/384, dropout 0.4": [
        "tokenizer.vocab_size=1024",
        "model.preset=custom",
        "model.n_layer=6",
        "model.n_head=6",
        "model.n_embd=384",
        "model.dropout=0.4",
    ],
    "6/6/384, dropout 0.4, ema 0.01": [
        "model.preset=custom",
        "model.n_layer=6",
        "model.n_head=6",
        "model.n_embd=384",
        "model.dropout=0.4",
        "train.ema=0.01",
    ],
    "vocab 768": ["tokenizer.vocab_size=768"],
    "vocab 1536": ["tokenizer.vocab_size=1536"],
    "vocab 2048": ["tokenizer.vocab_size=2048"],
    "vocab 3072": ["tokenizer.vocab_size=3072"],
    "vocab 4096": ["tokenizer.vocab_size=4096"],
    "vocab 1024, dropout 0.1": ["tokenizer.vocab_size=1024", "model.dropout=0.1"],
    "vocab 1024, dropout 0.3": ["tokenizer.vocab_size=1024", "model.dropout=0.3"],
    "vocab 2048, dropout 0.3": ["tokenizer.vocab_size=2048", "model.dropout=0.3"],
    "vocab 1536, dropout 0.3": ["tokenizer.vocab_size=1536", "model.dropout=0.3"],
    "vocab 1024, ema 0.01": ["tokenizer.vocab_size=1024", "train.ema=0.01"],
    "vocab 1024, 6/3/192": ["tokenizer.vocab_size=1024", "model.n_head=3"],
    "vocab 1024, 8/8/256, dropout 0.3": [
        "tokenizer.vocab_size=1024",
        "model.preset=custom",
        "model.n_layer=8",
        "model.n_head=8",
        "model.n_embd=256",
        "model.dropout=0.3",
    ],
    "vocab 2048, 8/8/256, dropout 0.3": [
        "tokenizer.vocab_size=2048",
        "model.preset=custom",
        "model.n_layer=8",
        "model.n_head=8",
        "model.n_embd=256",
        "model.dropout=0.3",
    ],
    "vocab 1024, 12/6/192": [
        "tokenizer.vocab_size=1024",
        "model.preset=custom",
        "model.n_layer=12",
        "model.n_head=6",
        "model.n_embd=192",
    ],
    "vocab 2048, weight decay 2.0": ["tokenizer.vocab_size=2048", "train.weight_decay=2.0"],
    "vocab 1024, weight decay 0.1": ["tokenizer.vocab_size=1024", "train.weight_decay=0.1"],
    "vocab 1024, seed 1": ["tokenizer.vocab_size=1024", "train.seed=1"],
    "vocab 1024, seed 2": ["tokenizer.vocab_size=1024", "train.seed=2"],
    "vocab 1024, 6/3/192, seed 1": ["tokenizer.vocab_size=1024", "model.n_head=3", "train.seed=1"],
    "vocab 1024, 6/3/192, ema 0.01": ["tokenizer.vocab_size=1024", "model.n_head=3", "train.ema=0.01"],
    "vocab 1024, 12/3/192": [
        "tokenizer.vocab_size=1024",
        "model.preset=custom",
        "model.n_layer=12",
        "model.n_head=3",
        "model.n_embd=192",
    ],
    "vocab 2048, dropout 0.4": ["tokenizer.vocab_size=2048", "model.dropout=0.4"],
    "vocab 3072, dropout 0.4": ["tokenizer.vocab_size=3072", "model.dropout=0.4"],
    "vocab 4096, dropout 0.4": ["tokenizer.vocab_size=4096", "model.dropout=0.4"],
    "vocab 4096, dropout 0.5": ["tokenizer.vocab_size=4096", "model.dropout=0.5"],
    "vocab 4096, dropout 0.4, wd 2.0": ["tokenizer.vocab_size=4096", "model.dropout=0.4", "train.weight_decay=2.0"],
    "vocab 4096, dropout 0.4, ema 0.01": ["tokenizer.vocab_size=4096", "model.dropout=0.4", "train.ema=0.01"],
    "vocab 4096, dropout 0.4, 6/3/192": ["tokenizer.vocab_size=4096", "model.dropout=0.4", "model.n_head=3"],
    "vocab 6144, dropout 0.5": ["tokenizer.vocab_size=6144", "model.dropout=0.5"],
    "vocab 8192, dropout 0.5": ["tokenizer.vocab_size=8192", "model.dropout=0.5"],
    "vocab 4096, dropout 0.3, wd 3.0": ["tokenizer.vocab_size=4096", "model.dropout=0.3", "train.weight_decay=3.0"],
    "vocab 2048, dropout 0.4, 6/3/192": ["tokenizer.vocab_size=2048", "model.dropout=0.4", "model.n_head=3"],
}


def train(name: str, sets: list[str], device: str, folder: Path) -> tuple[str, dict | None, float, str]:
    """One recipe as a gencli process: (name, its --json output or None, wall seconds, error line)."""
    res, wall, last = run_json(
        "lm",
        "train",
        "--corpus",
        "alice",
        "--ckpt",
        str(folder),
        "--device",
        device,
        *[a for s in BASE + sets for a in ("--set", s)],
    )
    return name, res, wall, last


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--only", default="", help="recipe names separated by ; (default: all)")
    ap.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a value for every recipe (e.g. train.max_iters=20 for a smoke run); repeatable",
    )
    ap.add_argument(
        "--out", type=Path, default=None, help="checkpoints and results.json here (default: a temporary folder)"
    )
    args = ap.parse_args()
    names = [n.strip() for n in args.only.split(";") if n.strip()] or list(RECIPES)
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        ap.error(f"unknown recipe(s): {', '.join(unknown)}")
    out = args.out or Path(tempfile.mkdtemp(prefix="gencli-recipes-"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"{len(names)} recipes on {args.device}, {args.jobs} at a time; checkpoints under {out}", flush=True)
    print(
        f"{'recipe':<36} {'best bpb':>9} {'at step':>8} {'final bpb':>10} {'final/best loss':>16} {'wall s':>7}",
        flush=True,
    )
    results = {}
    with ThreadPoolExecutor(args.jobs) as pool:
        jobs = [
            pool.submit(train, n, args.sets + RECIPES[n], args.device, out / f"r{i:02d}") for i, n in enumerate(names)
        ]
        for job in as_completed(jobs):
            name, res, wall, err = job.result()
            if res is None:
                print(f"{name:<36} FAILED: {err}", flush=True)
                continue
            ratio = res["val_loss"] / res["best_val_loss"]
            print(
                f"{name:<36} {res['best_val_bpb']:>9.3f} {res['best_step']:>8} {res['val_bpb']:>10.3f} {ratio:>16.2f} "
                f"{wall:>7.0f}",
                flush=True,
            )
            results[name] = {"sets": RECIPES[name], "wall_s": wall, **res}
            (out / "results.json").write_text(json.dumps(results, indent=1))
    return 0 if len(results) == len(names) else 1


if __name__ == "__main__":
    sys.exit(main())
