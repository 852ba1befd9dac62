"""Hostile input with bounded cost: crafted archives, checkpoints edited by hand, oversized requests and mistakes
that once gave a raw exception, each run as a user would, with a 30 s limit; prints a table of exit code, stderr
lines, seconds and peak memory (GNU time's maximum resident set size).

A probe holds when it ends in one line with exit 2 (or runs correctly, where it is a legitimate long request: then it
is still running at the limit and says so), within 30 s and 1.5 GB.

Run: .venv/bin/python bench/hostile_probes.py [--only archive,checkpoint,size,mistake]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cpu_info import cpu_line

LIMIT_S = 30
MEMORY_CAP_MB = 1500
LM_TINY = (
    "--set model.preset=custom --set model.n_layer=2 --set model.n_head=2 --set model.n_embd=16 "
    "--set model.block_size=32 --set tokenizer.vocab_size=300 --set train.batch_size=4 --max-iters 5"
).split()
DIFF_TINY = "--set data.n_points=256 --set train.epochs=20 --set model.hidden=32".split()


def gencli(*args, cwd: Path, limit: float = LIMIT_S) -> tuple[int | str, int, float, float, str]:
    """(exit code or "running", stderr lines, seconds, peak MB, last stderr line) of one command under GNU time."""
    stats = cwd / ".time"
    cmd = ["/usr/bin/time", "-o", str(stats), "-f", "%M", sys.executable, "-m", "gencli", *map(str, args)]
    t0 = time.perf_counter()
    p = subprocess.Popen(
        cmd,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,  # so that the limit stops gencli too, not only GNU time
    )
    try:
        _, err = p.communicate(timeout=limit)
        code: int | str = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        _, err = p.communicate()
        code = "running"
    seconds = time.perf_counter() - t0
    try:
        peak = int(stats.read_text().split()[-1]) / 1024
    except (OSError, ValueError, IndexError):
        peak = float("nan")
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("Command ")]
    return code, len(lines), seconds, peak, (lines[-1] if lines else "")[:110]


def archives(work: Path, lm: Path) -> list[tuple[str, list]]:
    from gencli.lm.compression.codec import Header, varint

    (work / "t.txt").write_text("Alice was beginning to get very tired of sitting by her sister.\n" * 20)
    subprocess.run([sys.executable, "-m", "gencli", "lm", "compress", "t.txt", "--ckpt", lm], cwd=work, check=True)
    real = (work / "t.txt.gcz").read_bytes()
    header, at = Header.parse(real, "x")
    (work / "huge.gcz").write_bytes(
        real[:5] + varint(2**60) + varint(2**60) + header.checksum + header.fingerprint
    )  # 31 bytes that claim 2^60 tokens
    (work / "varint.gcz").write_bytes(real[:5] + b"\xff" * 3000 + b"\x01" + real[5:])
    with (work / "sparse.gcz").open("wb") as f:
        f.truncate(6 * 2**30)
    flagged = bytearray(real)
    flagged[4] |= 0x40
    (work / "flags.gcz").write_bytes(bytes(flagged))
    (work / "trailing.gcz").write_bytes(real + b"\x13\x37" * 8)
    return [
        (f"decompress: {name}", ["lm", "decompress", f"{name}.gcz", "-o", f"{name}.out", "--ckpt", lm])
        for name in ("huge", "varint", "sparse", "flags", "trailing")
    ]


def checkpoints(work: Path, lm: Path, diff: Path) -> list[tuple[str, list]]:
    import yaml

    probes = []

    def copy(src: Path, name: str) -> Path:
        dst = work / name
        shutil.copytree(src, dst)
        return dst

    for name, target in (("zero", "/dev/zero"), ("urandom", "/dev/urandom")):
        ck = copy(lm, f"lm-{name}")
        (ck / "tokenizer.json").unlink()
        (ck / "tokenizer.json").symlink_to(target)
        probes.append((f"tokenizer.json -> {target}", ["lm", "generate", "--prompt", "a", "--ckpt", ck]))
    ck = copy(lm, "lm-fifo")
    (ck / "tokenizer.json").unlink()
    os.mkfifo(ck / "tokenizer.json")
    probes.append(("tokenizer.json a FIFO", ["lm", "generate", "--prompt", "a", "--ckpt", ck]))
    for key, value in (("n_embd", 3_000_000), ("n_layer", 100_000_000), ("block_size", 20_000_000)):
        ck = copy(lm, f"lm-{key}")
        cfg = yaml.safe_load((ck / "config.yaml").read_text())
        cfg["model"][key] = value
        (ck / "config.yaml").write_text(yaml.safe_dump(cfg))
        probes.append((f"config.yaml {key}: {value:,}", ["lm", "generate", "--prompt", "a", "--ckpt", ck]))
    ck = copy(diff, "diff-hidden")
    cfg = yaml.safe_load((ck / "config.yaml").read_text())
    cfg["model"]["hidden"] = 2_000_000
    (ck / "config.yaml").write_text(yaml.safe_dump(cfg))
    probes.append(("diffusion config.yaml hidden: 2,000,000", ["diffusion", "sample", "--ckpt", ck, "--n", "10"]))
    ck = copy(diff, "diff-deep")
    (ck / "meta.json").write_text("[" * 100_000 + "]" * 100_000)
    probes.append(("meta.json nested 100,000 deep", ["diffusion", "sample", "--ckpt", ck, "--n", "10"]))
    (work / "deep.yaml").write_text("a: " + "[" * 50_000 + "]" * 50_000 + "\n")
    probes.append(("--config nested 50,000 deep", ["diffusion", "train", "--config", "deep.yaml", "--ckpt", "x"]))
    return probes


def sizes(work: Path, lm: Path, diff: Path) -> list[tuple[str, list]]:
    big = "1000000000"
    return [
        ("sample --n 1e9", ["diffusion", "sample", "--ckpt", diff, "--n", big]),
        (
            "sample --steps 1e8 (long: runs)",
            ["diffusion", "sample", "--ckpt", diff, "--n", "10", "--steps", "100000000"],
        ),
        ("schedule --steps 1e9", ["diffusion", "schedule", "--steps", big]),
        ("prob --samples 1e9 (long: runs)", ["diffusion", "prob", "--ckpt", diff, "--point", "0,0", "--samples", big]),
        ("trajectory --n 1e9", ["diffusion", "trajectory", "--ckpt", diff, "--n", big]),
        ("train data.n_points=1e9", ["diffusion", "train", "--ckpt", "d1", "--set", f"data.n_points={big}"]),
        ("train model.hidden=2e6", ["diffusion", "train", "--ckpt", "d2", "--set", "model.hidden=2000000"]),
        ("data --n 1e9", ["diffusion", "data", "--n", big]),
        (
            "lm train batch_size=1e8",
            ["lm", "train", "--corpus", "t.txt", "--ckpt", "l1", *LM_TINY, "--set", "train.batch_size=100000000"],
        ),
        (
            "lm invert --tokens --candidates 1e9",
            ["lm", "invert", "--tokens", "--target", "Alice", "--ckpt", lm, "--candidates", big],
        ),
    ]


def mistakes(work: Path, lm: Path, diff: Path) -> list[tuple[str, list]]:
    return [
        ("--seed 2^70", ["diffusion", "sample", "--ckpt", diff, "--seed", str(2**70)]),
        ("--set train.seed=2^70", ["diffusion", "train", "--ckpt", "d3", "--set", f"train.seed={2**70}"]),
        ("--prompt with bytes ff fe", ["lm", "generate", "--ckpt", lm, "--prompt", os.fsdecode(b"A\xff\xfe")]),
        ("prob --text a lone surrogate", ["lm", "prob", "--ckpt", lm, "--text", os.fsdecode(b"\xed\xa0\x80")]),
        ("--temperature 1e-300", ["lm", "generate", "--ckpt", lm, "--prompt", "A", "--temperature", "1e-300"]),
        ("--out-dir /proc/x", ["diffusion", "sample", "--ckpt", diff, "--n", "10", "--out-dir", "/proc/x"]),
        ("report --out /proc/x", ["report", "--quick", "--out", "/proc/x"]),
        (
            "lm invert --tokens --prompt-len 1e9",
            ["lm", "invert", "--tokens", "--target", "Alice", "--ckpt", lm, "--prompt-len", "1000000000"],
        ),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="archive,checkpoint,size,mistake")
    groups = set(ap.parse_args().only.split(","))
    print(f"# {cpu_line()}; limit {LIMIT_S} s; holds: one line, exit 2, < {MEMORY_CAP_MB} MB (or a long run)")
    print("| group | probe | exit | lines | s | peak MB | holds | last line |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "t.txt").write_text("Alice was beginning to get very tired of sitting by her sister.\n" * 200)
        run = [sys.executable, "-m", "gencli"]
        subprocess.run([*run, "lm", "train", "--corpus", "t.txt", "--ckpt", "lm", *LM_TINY], cwd=work, check=True)
        subprocess.run([*run, "diffusion", "train", "--ckpt", "diff", *DIFF_TINY], cwd=work, check=True)
        lm, diff = work / "lm", work / "diff"
        table = []
        if "archive" in groups:
            table += [("archive", *p) for p in archives(work, lm)]
        if "checkpoint" in groups:
            table += [("checkpoint", *p) for p in checkpoints(work, lm, diff)]
        if "size" in groups:
            table += [("size", *p) for p in sizes(work, lm, diff)]
        if "mistake" in groups:
            table += [("mistake", *p) for p in mistakes(work, lm, diff)]
        for group, name, args in table:
            code, lines, seconds, peak, last = gencli(*args, cwd=work)
            long_ok = "(long: runs)" in name and code == "running"
            holds = long_ok or (code == 2 and lines == 1 and seconds < LIMIT_S and peak < MEMORY_CAP_MB)
            print(
                f"| {group} | {name} | {code} | {lines} | {seconds:.1f} | {peak:.0f} | {'yes' if holds else 'NO'} | "
                f"{json.dumps(last)[1:-1].replace('|', '/')} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
