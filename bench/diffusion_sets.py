"""Other distributions: every built-in set (and, with --csv, your own points) trained at its defaults and measured
as `gencli diffusion sample` measures it: TV of a 10x10 histogram against fresh data over its noise floor, k-NN
precision and recall (k = 5), and where the density is known the exact log p averaged over fresh data points beside
the truth's mean (`diffusion prob --exact` over the data). A labelled set is also trained conditional: the share of
its samples that land in their own region (or lie nearest a point of their own label).

Run: .venv/bin/python bench/diffusion_sets.py [--sets square,moons] [--csv FILE ...] [--n 2000] [--ll 2000]
     [--epochs N] [--threads 1]   (prints a table; checkpoints under a temporary folder, or --keep DIR)
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import torch
from cpu_info import cpu_line  # bench/ is on sys.path when a script there runs

from gencli.core.config import ConfigSources
from gencli.diffusion import analyses
from gencli.diffusion.datasets.catalog import BUILTIN
from gencli.diffusion.model.store import load_trained
from gencli.diffusion.training.fit import fit, prepare


def train(folder: Path, data: str, conditional: bool, epochs: int | None) -> tuple[object, float]:
    explicit = {"data.name": data, "model.conditional": conditional or None, "train.epochs": epochs}
    path = folder / f"{Path(data).stem}{'-cond' if conditional else ''}"
    trainer = prepare(path, False, ConfigSources(explicit=explicit))
    t0 = time.perf_counter()
    fit(trainer, path)
    return load_trained(path), time.perf_counter() - t0


def row(m, seconds: float, n: int, ll: int) -> str:
    sc = dataclasses.replace(m.cfg.sample)
    s = analyses.sample_quality(m, sc, n, seed=1)
    q = s.quality
    cells = [f"{q.tv:.3f}", f"{q.floor:.3f}", f"{q.ratio:.2f}", f"{q.precision:.3f}", f"{q.recall:.3f}"]
    if ll and m.dataset.has_density:
        model, truth, se, _ = analyses.data_log_likelihood(m, sc, ll, seed=2)
        cells += [f"{model:.3f}", f"{truth:.3f}", f"{model - truth:+.3f} ± {se:.3f}"]
    else:
        cells += ["-", "unknown" if not m.dataset.has_density else "-", "-"]
    own = f"{s.own_mean:.3f}" if s.own_region is not None else "-"
    return (
        f"| {m.cfg.data.name} | {'cond' if m.cfg.model.conditional else 'uncond'} | "
        + " | ".join(cells)
        + f" | {own} | {seconds:.1f} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default=",".join(BUILTIN))
    ap.add_argument("--csv", nargs="*", default=[])
    ap.add_argument("--n", type=int, default=2000, help="samples (and fresh data points) per set")
    ap.add_argument("--ll", type=int, default=2000, help="fresh data points of the exact likelihood (0: none)")
    ap.add_argument("--epochs", type=int, default=None, help="training steps (default: each set's own)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--conditional", action="store_true", help="also train each labelled set conditional")
    ap.add_argument("--keep", type=Path, default=None, help="keep the checkpoints in this folder")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"# {cpu_line()}; torch {torch.__version__}, {args.threads} thread(s); {args.n} samples vs {args.n} fresh "
        f"points, exact log p over {args.ll} fresh points (rtol = atol = 1e-5)"
    )
    print(
        "| set | model | TV | floor | x floor | precision | recall | exact mean log p | truth | gap ± se | own region "
        "| train s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        names = [s for s in args.sets.split(",") if s] + list(args.csv)
        for data in names:
            m, seconds = train(folder, data, False, args.epochs)
            print(row(m, seconds, args.n, args.ll), flush=True)
            if args.conditional and m.dataset.n_classes:
                c, seconds = train(folder, data, True, args.epochs)
                print(row(c, seconds, args.n, 0), flush=True)


if __name__ == "__main__":
    main()
