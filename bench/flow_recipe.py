"""How the flow models' defaults were chosen: flow-ot (and flow) trained with several recipes on a set, each sampled
with Euler steps at 1, 2, 4, 8 and 64 network evaluations and measured as `gencli diffusion sample` measures it (TV
of a 10x10 histogram against fresh data over its noise floor; k-NN precision and recall), with the training seconds.

Run: .venv/bin/python bench/flow_recipe.py [--data square] [--objective flow-ot] [--n 5000]
     [--recipes "epochs=4000,batch=256,hidden=128;epochs=2000,batch=256,hidden=64"] [--threads 1] [--conditional]
(prints a markdown table; checkpoints go to a temporary folder)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from cpu_info import cpu_line  # bench/ is on sys.path when a script there runs

from gencli.core.config import ConfigSources
from gencli.diffusion.analyses.common import class_labels, quality_of
from gencli.diffusion.model.store import load_trained
from gencli.diffusion.quality import regions
from gencli.diffusion.sampling.samplers import sample_points
from gencli.diffusion.training.fit import fit, prepare

KEYS = {"epochs": "train.epochs", "batch": "train.batch_size", "hidden": "model.hidden", "lr": "train.lr"}
KEYS["dropout"] = "train.class_dropout"
EVALS = (1, 2, 4, 8, 64)


def parse(recipe: str) -> dict:
    out = {}
    for item in filter(None, recipe.split(",")):
        k, _, v = item.partition("=")
        out[KEYS[k.strip()]] = float(v) if k.strip() in ("lr", "dropout") else int(v)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="square")
    ap.add_argument("--objective", default="flow-ot")
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--recipes", default="")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--conditional", action="store_true", help="the conditional model: also its own-region share")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    recipes = a.recipes.split(";") if a.recipes else [""]
    print(f"machine: {cpu_line()}; torch {torch.__version__}, {a.threads} thread(s)")
    print(f"set {a.data}, objective {a.objective}, {a.n} samples against {a.n} fresh data points, Euler steps")
    own_head = " own @8 |" if a.conditional else ""
    print("| recipe | train s | " + " | ".join(f"TV/floor @{e}" for e in EVALS) + " | P @8 | R @8 |" + own_head)
    print("|---|---|" + "---|" * (len(EVALS) + 2 + a.conditional))
    with tempfile.TemporaryDirectory() as tmp:
        for i, recipe in enumerate(recipes):
            explicit = {"data.name": a.data, "model.objective": a.objective, **parse(recipe)}
            explicit["model.conditional"] = a.conditional or None
            path = Path(tmp) / f"r{i}"
            trainer = prepare(path, False, ConfigSources(explicit=explicit))
            t0 = time.perf_counter()
            fit(trainer, path)
            seconds = time.perf_counter() - t0
            m = load_trained(path)
            cells, pr = [], ""
            labels = class_labels(m, a.n)
            for e in EVALS:
                x = sample_points(m.model, a.n, m.sde, e, "euler", "uniform", "standard", seed=1, labels=labels)
                q = quality_of(m, x)
                cells.append(f"{q.ratio:.2f}")
                if e == 8:
                    pr = f"{q.precision:.3f} | {q.recall:.3f}"
                    if labels is not None:
                        own = regions.own_region_fractions(x, labels, m.dataset, m.cfg.n_classes)
                        pr += f" | {float(np.nanmean(np.asarray(own, dtype=float))):.3f}"
            c = m.cfg
            name = recipe or f"defaults (epochs={c.train.epochs},batch={c.train.batch_size},hidden={c.model.hidden})"
            print(f"| {name} | {seconds:.1f} | " + " | ".join(cells) + f" | {pr} |", flush=True)


if __name__ == "__main__":
    main()
