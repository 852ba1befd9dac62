"""Data-parallel throughput on this machine: 1 process x 2 threads against 2 processes x 1 thread (gloo), and the
DDP overhead per step (a 2-process step against one process doing the same per-process half batch on 1 thread).

Run: GENCLI_DATA_DIR=../shared/data .venv/bin/python bench/lm_ddp_bench.py [iters, default 60] [preset, default mini]
Each run is a whole `gencli lm train` process (tokens/s counts training steps only), fp32 so that
every run does the same arithmetic; runs are interleaved twice so machine noise hits each alike.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

GENCLI = str(Path(sys.executable).with_name("gencli"))


def train(work: Path, name: str, threads: int, nproc: int, batch: int, iters: int, preset: str) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    args = [
        GENCLI,
        "lm",
        "train",
        "--corpus",
        "alice",
        "--ckpt",
        str(work / name),
        "--max-iters",
        str(iters),
        "--set",
        f"model.preset={preset}",
        "--set",
        f"train.batch_size={batch}",
        "--set",
        f"train.eval_every={iters}",
        "--set",
        "train.eval_batches=1",
        "--set",
        "train.precision=fp32",
        "--nproc",
        str(nproc),
        "--json",
    ]
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{name} failed: {done.stderr.strip().splitlines()[-1]}")
    return json.loads(done.stdout)["tokens_per_s"]


def main() -> None:
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    preset = sys.argv[2] if len(sys.argv) > 2 else "mini"
    data = os.environ.get("GENCLI_DATA_DIR") or Path(__file__).resolve().parents[2] / "shared" / "data"
    os.environ["GENCLI_DATA_DIR"] = str(Path(data).resolve())
    work = Path(tempfile.mkdtemp(prefix="gencli-ddp-bench-"))
    runs = {
        "1 process x 2 threads, batch 32": (2, 1, 32),
        "2 processes x 1 thread, batch 32 (16 each)": (1, 2, 32),
        "1 process x 1 thread, batch 16 (one rank's share)": (1, 1, 16),
    }
    tps: dict[str, list[float]] = {k: [] for k in runs}
    for rep in range(2):
        for i, (name, (threads, nproc, batch)) in enumerate(runs.items()):
            tps[name].append(train(work, f"r{rep}-{i}", threads, nproc, batch, iters, preset))
    best = {k: max(v) for k, v in tps.items()}
    print(f"{'run (' + preset + f', {iters} steps, fp32)':<52} {'tokens/s':>10} {'ms/step':>8}")
    for name, v in best.items():
        batch = runs[name][2]
        print(f"{name:<52} {v:10,.0f} {1000 * batch * 64 / v:8.1f}")
    step_two = 1000 * 32 * 64 / best["2 processes x 1 thread, batch 32 (16 each)"]
    step_half = 1000 * 16 * 64 / best["1 process x 1 thread, batch 16 (one rank's share)"]
    print(
        f"DDP overhead per step (gradient all-reduce, gloo): {step_two - step_half:.1f} ms "
        f"({(step_two - step_half) / step_two:.0%} of a 2-process step); best of 2 interleaved runs each"
    )


if __name__ == "__main__":
    main()
