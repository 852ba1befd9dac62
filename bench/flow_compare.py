"""Diffusion or flow? The VE-SDE, plain flow matching and flow-ot trained at their defaults on each set, sampled at
1, 2, 4, ..., 128 network evaluations with every sampler that applies (`gencli diffusion compare`), and the issue's
targets checked: flow-ot at 8 Euler steps against the VE-SDE default at 64, flow-ot at 1-2 evaluations against its
own best, the flow's exact log p at five inside points of the square against log(1/4), and the conditional flow-ot's
own-cell share at 8 evaluations on the square's 3x3 grid.

Run: .venv/bin/python bench/flow_compare.py [--sets square,moons] [--n 5000] [--ll 500] [--epochs-other 4000]
     [--threads 2]   (prints markdown tables; checkpoints under a temporary folder, or --keep DIR)
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from cpu_info import cpu_line  # bench/ is on sys.path when a script there runs

from gencli.core.config import ConfigSources
from gencli.diffusion import analyses
from gencli.diffusion.analyses.common import class_labels, quality_of, sample_timed
from gencli.diffusion.model.store import load_trained
from gencli.diffusion.quality import regions
from gencli.diffusion.training.fit import fit, prepare

INSIDE = [(0.3, -0.4), (-0.55, 0.6), (0.7, 0.15), (-0.2, -0.75), (0.05, 0.45)]  # no issue names these


def train(folder: Path, data: str, objective: str, conditional: bool = False, epochs: int | None = None):
    explicit = {"data.name": data, "model.objective": objective, "model.conditional": conditional or None}
    explicit["train.epochs"] = epochs
    path = folder / f"{data}-{objective}{'-cond' if conditional else ''}"
    if not (path / "meta.json").is_file():
        fit(prepare(path, False, ConfigSources(explicit=explicit)), path)
    return load_trained(path)


def markdown(table) -> str:
    lines = [f"**{table.title}**", "", "| " + " | ".join(table.header) + " |", "|" + "---|" * len(table.header)]
    lines += ["| " + " | ".join(row) + " |" for row in table.formatted()]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="square,moons")
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--ll", type=int, default=500)
    ap.add_argument("--epochs-other", type=int, default=4000, help="training steps on sets but the square (VE too)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keep", type=Path, default=None)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"machine: {cpu_line()}; torch {torch.__version__}, {a.threads} thread(s)")
    print(
        f"command: python bench/flow_compare.py --sets {a.sets} --n {a.n} --ll {a.ll} --epochs-other {a.epochs_other}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = a.keep or Path(tmp)
        for name in a.sets.split(","):
            epochs = None if name == "square" else a.epochs_other
            models = [train(root, name, o, epochs=epochs) for o in ("vesde", "flow", "flow-ot")]
            t0 = time.perf_counter()
            res = analyses.objective_comparison(models, a.n, 1, ll_points=a.ll)
            print(f"\n## {name} (comparison {time.perf_counter() - t0:.0f} s)\n")
            for table in res.tables():
                print(markdown(table) + "\n")
            print(res.finding())
            if name != "square":
                continue
            ve, _, ot = models
            ve64 = quality_of(ve, sample_timed(ve, dataclasses.replace(ve.cfg.sample, steps=64), a.n, 1, None)[0])
            ot8 = next(r for r in res.rows if r.model == "flow-ot" and r.sampler == "euler" and r.evaluations == 8)
            best = res.best("flow-ot")[1]
            low = min(r.quality.ratio for r in res.of("flow-ot") if r.evaluations <= 2)
            print("\n## targets on the square\n")
            print(
                f"- flow-ot, 8 Euler steps: TV/floor {ot8.quality.ratio:.3f}; VE-SDE default (euler) at 64 steps: "
                f"{ve64.ratio:.3f} -> {'met' if ot8.quality.ratio <= ve64.ratio else 'NOT met'}"
            )
            print(
                f"- flow-ot at 1-2 evaluations: best {low:.3f}, its own best {best:.3f}, ratio {low / best:.2f} "
                f"-> {'met' if low <= 2 * best else 'NOT met'} (<= 2)"
            )
            table = analyses.probability_table(ot, ot.cfg.sample, [(x, y, None) for x, y in INSIDE])
            errs = [r["exact_logp"] - math.log(0.25) for r in table.rows]
            print(
                f"- flow-ot exact log p at {INSIDE}: errors against log(1/4) "
                + ", ".join(f"{e:+.3f}" for e in errs)
                + f" -> {'met' if max(map(abs, errs)) <= 0.15 else 'NOT met'} (<= 0.15)"
            )
            cond = train(root, name, "flow-ot", conditional=True)
            labels = class_labels(cond, a.n)
            sc = dataclasses.replace(cond.cfg.sample, steps=8, sampler="euler")
            x, _ = sample_timed(cond, sc, a.n, 1, labels)
            own = np.asarray(regions.own_region_fractions(x, labels, cond.dataset, cond.cfg.n_classes), dtype=float)
            wall = cond.checkpoint.meta["metrics"]["wall_s"]
            print(
                f"- conditional flow-ot (within-class pairs, {cond.cfg.train.epochs} steps, {wall:.0f} s), 8 Euler "
                f"steps: own-cell share mean {float(np.nanmean(own)):.3f}, lowest {float(np.nanmin(own)):.3f} -> "
                f"{'met' if float(np.nanmean(own)) >= 0.96 else 'NOT met'} (>= 0.96)"
            )


if __name__ == "__main__":
    main()
