"""A ready GPU check: train the default LM on CUDA (bf16, fused attention), run every analysis with --device cuda,
data-parallel on 2 GPUs when there are 2, and print the numbers beside the same measures on the CPU.

Run on a machine with CUDA (about 3 minutes):
    GENCLI_DATA_DIR=../shared/data .venv/bin/python bench/gpu_check.py [--out DIR]
Every step is a `gencli ... --json` process, as a user runs it; a failing step prints its error and the
check goes on. Exit code: 0 when every step passed.
"""

import os
import sys
import tempfile
from pathlib import Path

import torch
from gencli_process import run_json  # bench/gencli_process.py: a script's folder is on sys.path

LM_FAST = ["--set", "train.precision=bf16", "--set", "train.attention=fused", "--set", "train.eval_every=100"]


def run(*args: str) -> tuple[dict | None, float]:
    """A gencli step as a user runs it (python -m gencli: installed or not); a failure prints its error."""
    res, wall, last = run_json(*args)
    if res is None:
        print(f"  FAILED: gencli {' '.join(args)}\n    {last}")
    return res, wall


def main() -> int:
    if not torch.cuda.is_available():
        print("no CUDA device here: this check needs a GPU machine")
        return 2
    out = (
        Path(sys.argv[sys.argv.index("--out") + 1])
        if "--out" in sys.argv
        else Path(tempfile.mkdtemp(prefix="gpu-check-"))
    )
    data = os.environ.get("GENCLI_DATA_DIR")
    if data:
        os.environ["GENCLI_DATA_DIR"] = str(Path(data).resolve())
    gpus = torch.cuda.device_count()
    print(f"{torch.cuda.get_device_name(0)} x {gpus}, torch {torch.__version__}; files under {out}")
    rows, failures = [], 0
    lm_gpu, wall = run(
        "lm",
        "train",
        "--corpus",
        "alice",
        "--ckpt",
        str(out / "lm-cuda"),
        "--max-iters",
        "300",
        "--device",
        "cuda",
        *LM_FAST,
    )
    lm_cpu, _ = run(
        "lm",
        "train",
        "--corpus",
        "alice",
        "--ckpt",
        str(out / "lm-cpu"),
        "--max-iters",
        "30",
        "--device",
        "cpu",
        "--set",
        "train.eval_every=30",
    )
    if lm_gpu:
        rows.append(
            (
                "lm train 300 it, cuda bf16 fused: tokens/s",
                f"{lm_gpu['tokens_per_s']:,.0f}",
                f"{lm_cpu['tokens_per_s']:,.0f} (cpu, 30 it)" if lm_cpu else "-",
            )
        )
        rows.append(
            ("lm val loss after 300 it / bits per byte", f"{lm_gpu['val_loss']:.3f} / {lm_gpu['val_bpb']:.3f}", "")
        )
        rows.append(("lm train wall s (whole process)", f"{wall:.1f}", ""))
    failures += lm_gpu is None
    ck = str(out / "lm-cuda")
    for args in (
        ["lm", "generate", "--prompt", "Alice said", "--max-new-tokens", "40"],
        ["lm", "invert"],
        ["lm", "attention"],
        ["lm", "prob", "--sample"],
    ):
        res, wall = (
            run(*args, "--ckpt", ck, "--device", "cuda", "--out-dir", str(out / args[1]))
            if args[1] != "generate"
            else run(*args, "--ckpt", ck, "--device", "cuda")
        )
        failures += res is None
        rows.append((f"lm {args[1]} on cuda (wall s)", f"{wall:.1f}", "ok" if res else "FAILED"))
    diff, wall = run("diffusion", "train", "--ckpt", str(out / "diff"), "--device", "cuda")
    failures += diff is None
    rows.append(
        (
            "diffusion train 3000 epochs on cuda (wall s)",
            f"{wall:.1f}",
            f"final loss {diff['final_loss']:.4f}" if diff else "FAILED",
        )
    )
    dck = ["--ckpt", str(out / "diff"), "--device", "cuda"]
    for args in (
        ["sample", "--n", "10000"],
        ["trajectory"],
        ["determinism", "--sampler", "euler"],
        ["prob"],
        ["invert"],
    ):
        res, wall = run("diffusion", *args, *dck, "--out-dir", str(out / f"diffusion-{args[0]}"))
        failures += res is None
        extra = (
            f"inside {res['inside_fraction']:.3f}, TV {res['tv_distance']:.3f}" if res and args[0] == "sample" else ""
        )
        extra = f"identical {res['identical']}" if res and args[0] == "determinism" else extra
        rows.append((f"diffusion {args[0]} on cuda (wall s)", f"{wall:.1f}", extra or ("ok" if res else "FAILED")))
    if gpus >= 2:
        res, wall = run(
            "lm",
            "train",
            "--corpus",
            "alice",
            "--ckpt",
            str(out / "lm-ddp"),
            "--max-iters",
            "300",
            "--device",
            "cuda",
            "--nproc",
            "2",
            *LM_FAST,
        )
        failures += res is None
        rows.append(
            (
                "lm train 300 it, 2 GPUs (torchrun): tokens/s",
                f"{res['tokens_per_s']:,.0f}" if res else "FAILED",
                f"val {res['val_loss']:.3f}" if res else "",
            )
        )
    else:
        rows.append(("torchrun on 2 GPUs", "skipped", "one GPU here"))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'GPU':>14}  CPU / note")
    for name, gpu, cpu in rows:
        print(f"{name:<{width}}  {gpu:>14}  {cpu}")
    print(f"{failures} step(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
