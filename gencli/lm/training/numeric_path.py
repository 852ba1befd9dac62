"""The numeric path of training (bf16 or fp32 autocast; explicit or fused attention), chosen by measurement.

Which path is fastest depends on the processor, not on a flag one can read: bf16 autocast
was 2x faster than fp32 on an AMD EPYC with bf16, 1.5x slower on an Intel Xeon with
avx512_bf16 but no AMX (oneDNN emulates what the chip lacks), and 1.4x faster on a Xeon with
AMX. So `auto` times a few training steps of each candidate on the real model and batch
shape and keeps the fastest. The answer is cached per processor, torch version, thread
count and shape under the user cache folder, so only the first run on a machine pays for it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from gencli.core.atomic import write_text_atomic

PRECISIONS = ("bf16", "fp32")
ATTENTIONS = ("explicit", "fused")
CACHE_FILE = "numeric_paths.json"
TIMED_ROUNDS = 3  # timed steps per candidate, interleaved; the fastest is kept
GIVE_UP_RATIO = 3.0  # a candidate whose warm-up step is this much slower than the best one's is not timed further


@dataclass(frozen=True)
class NumericPath:
    precision: str  # "bf16" | "fp32"
    attention: str  # "explicit" | "fused"

    @property
    def name(self) -> str:
        return f"{self.precision}/{self.attention}"

    @classmethod
    def parse(cls, name: str) -> NumericPath:
        precision, attention = name.split("/")
        if precision not in PRECISIONS or attention not in ATTENTIONS:
            raise ValueError(f"not a numeric path: {name!r}")
        return cls(precision, attention)


@dataclass
class PathChoice:
    """The path training runs on, how it was chosen, and the tokens/s each candidate measured (when timed)."""

    path: NumericPath
    how: str  # "measured", "cached", "forced", "resumed" or "device rule"
    tokens_per_s: dict[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        text = f"{self.path.name} ({self.how}"
        if self.tokens_per_s:
            text += ": " + ", ".join(
                f"{k} {v:,.0f} tokens/s" for k, v in sorted(self.tokens_per_s.items(), key=lambda kv: -kv[1])
            )
        return text + ")"

    def to_dict(self) -> dict:
        return {"path": self.path.name, "how": self.how, "tokens_per_s": dict(self.tokens_per_s)}


def candidates(precision: str, attention: str) -> list[NumericPath]:
    """Every path the two settings allow (`auto` allows both values of its axis)."""
    precs = PRECISIONS if precision == "auto" else (precision,)
    atts = ATTENTIONS if attention == "auto" else (attention,)
    return [NumericPath(p, a) for p in precs for a in atts]


def device_rule(precision: str, attention: str, device: torch.device) -> NumericPath:
    """Off the CPU: bf16 where CUDA supports it, and the fused attention kernel."""
    bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    p = precision if precision != "auto" else ("bf16" if bf16 else "fp32")
    return NumericPath(p, attention if attention != "auto" else "fused")


def time_candidates(
    paths: list[NumericPath],
    step: Callable[[NumericPath], None],
    clock: Callable[[], float] = time.perf_counter,
    rounds: int = TIMED_ROUNDS,
) -> dict[NumericPath, float]:
    """Seconds of one `step(path)` for each path: a warm-up step each, then `rounds` interleaved timed steps (so a
    change in the machine's speed hits all alike), the fastest kept. A path whose warm-up is GIVE_UP_RATIO times slower
    than the best warm-up keeps that time (an emulated bf16 can take seconds a step)."""
    warm = {}
    for p in paths:
        t0 = clock()
        step(p)
        warm[p] = clock() - t0
    best_warm = min(warm.values())
    timed = [p for p in paths if warm[p] <= GIVE_UP_RATIO * best_warm]
    seconds = {p: warm[p] for p in paths if p not in timed}
    for _ in range(rounds):
        for p in timed:
            t0 = clock()
            step(p)
            seconds[p] = min(seconds.get(p, float("inf")), clock() - t0)
    return seconds


def processor() -> tuple[str, list[str]]:
    """The processor's model name and its flags (from /proc/cpuinfo where there is one)."""
    name, flags = platform.processor() or platform.machine(), []
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = line.split(":", 1)[1].split()
                break
    except OSError:
        pass
    return name, flags


def machine_key(device: torch.device, shape: dict) -> str:
    """What the fastest path depends on: the processor (name and flags), torch, threads, device and shape."""
    cpu, flags = processor()
    digest = hashlib.sha256(" ".join(flags).encode()).hexdigest()[:12]
    dims = ",".join(f"{k}={shape[k]}" for k in sorted(shape))
    return (
        f"{cpu} [flags {digest}] | torch {torch.__version__} | {torch.get_num_threads()} threads | {device.type} | "
        f"{dims}"
    )


def read_cache(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def choose(
    precision: str,
    attention: str,
    device: torch.device,
    shape: dict,
    tokens_per_step: int,
    step: Callable[[NumericPath], None],
    cache: Path | None,
    clock: Callable[[], float] = time.perf_counter,
) -> PathChoice:
    """The path to train on: forced when both settings name one, the device rule off the CPU, else the cached or newly
    measured fastest of the candidates (`step(path)` runs one training step on that path)."""
    paths = candidates(precision, attention)
    if len(paths) == 1:
        return PathChoice(paths[0], "forced")
    if device.type != "cpu":
        return PathChoice(device_rule(precision, attention, device), "device rule")
    key = f"{machine_key(device, shape)} | {precision}/{attention}"
    entry = read_cache(cache).get(key) if cache is not None else None
    if isinstance(entry, dict):
        try:
            return PathChoice(
                NumericPath.parse(entry["path"]), "cached", {k: float(v) for k, v in entry["tokens_per_s"].items()}
            )
        except (KeyError, ValueError, TypeError, AttributeError):
            pass  # a damaged entry is measured again
    seconds = time_candidates(paths, step, clock)
    rates = {p.name: tokens_per_step / max(s, 1e-9) for p, s in seconds.items()}
    best = min(seconds, key=seconds.get)
    choice = PathChoice(best, "measured", rates)
    if cache is not None:
        data = read_cache(cache)
        data[key] = {"path": best.name, "tokens_per_s": rates}
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(cache, json.dumps(data, indent=1, sort_keys=True))
        except OSError:
            pass  # a cache that cannot be written costs a measurement next time, nothing else
    return choice


def default_cache() -> Path | None:
    """numeric_paths.json in the user cache folder (core.paths.cache_dir); GENCLI_NO_PATH_CACHE=1 turns it off."""
    if os.environ.get("GENCLI_NO_PATH_CACHE"):
        return None
    from gencli.core.paths import cache_dir

    return cache_dir() / CACHE_FILE
