"""L2 inversion success over several sentences: the exercise's cross-entropy from one start against the default
(margin loss, 4 starts optimised together), on the two small models the issue names.

Models (trained here with `gencli lm train`, default recipe, numeric path `auto`):
  micro: 4/4/128, 400 steps, BPE 1536;  quick: the quick report's nano 3/3/48, 300 steps, BPE 512.
Each sentence gets at most 500 Adam steps (lr 0.1, seed 0).
Run: GENCLI_DATA_DIR=../shared/data .venv/bin/python bench/lm_inversion.py [--ckpt DIR ...]
"""

import sys
import tempfile
import time
from pathlib import Path

import torch
from cpu_info import cpu_line  # bench/ is on sys.path when a script there runs
from gencli_process import run_json

from gencli.lm.analyses import EXERCISE_SENTENCE, invert_sentence
from gencli.lm.model.store import load_trained

SENTENCES = [
    EXERCISE_SENTENCE,
    "The Queen was very angry with the King",
    "Alice went down the rabbit hole",
    "The cat smiled at her",
    "She said it to the Mock Turtle",
    "Off with her head",
    "What a curious feeling",
    "The Hatter opened his eyes very wide",
]
MODELS = {
    "micro 4/4/128, 400 steps": ["--set", "model.preset=micro", "--max-iters", "400"],
    "quick: nano 3/3/48, 300 steps, BPE 512": [
        "--set",
        "model.preset=nano",
        "--set",
        "tokenizer.vocab_size=512",
        "--max-iters",
        "300",
    ],
}
SETTINGS = {"exercise (ce, 1 start)": {"loss": "ce", "restarts": 1}, "default (margin, 4 starts)": {}}


def main() -> None:
    torch.set_num_threads(2)
    print(f"CPU: {cpu_line()}; torch {torch.__version__}; {time.strftime('%Y-%m-%d')}")
    with tempfile.TemporaryDirectory(prefix="gencli-inversion-") as tmp:
        for name, args in MODELS.items():
            res, wall, last = run_json("lm", "train", "--corpus", "alice", "--ckpt", f"{tmp}/{len(name)}", *args)
            if res is None:
                sys.exit(f"training failed: {last}")
            lm = load_trained(Path(f"{tmp}/{len(name)}"))
            print(f"\n{name} (trained in {wall:.0f} s, validation {res['val_bpb']:.3f} bits per byte)")
            print(f"{'sentence':<42} " + " ".join(f"{s:>28}" for s in SETTINGS))
            wins = dict.fromkeys(SETTINGS, 0)
            for sentence in SENTENCES:
                cells = []
                for label, kw in SETTINGS.items():
                    t0 = time.perf_counter()
                    inv = invert_sentence(lm, sentence, steps=500, **kw)
                    wins[label] += inv.success
                    cells.append(
                        f"{'yes' if inv.success else 'no':>3} in {inv.steps:>3} steps, "
                        f"{time.perf_counter() - t0:4.1f} s"
                    )
                print(f"{sentence:<42} " + " ".join(f"{c:>28}" for c in cells))
            print(f"{'success':<42} " + " ".join(f"{f'{wins[k]}/{len(SENTENCES)}':>28}" for k in SETTINGS))


if __name__ == "__main__":
    main()
