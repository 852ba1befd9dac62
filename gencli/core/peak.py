"""The device's peak FLOP/s for model FLOPs utilisation, where it is known: a small table, not a measurement.

CPU: FLOP per cycle and core by instruction set (vendor manuals: two 512-bit FMA ports on Intel Xeon, AVX-512 on
256-bit halves on AMD Zen 4, AMX's tile multiply 1,024 bf16 FLOP a cycle), times the cores used and the clock the
kernel reports. GPU: dense bf16 (or fp32) tensor throughput from the vendors' datasheets. None where the device is
not in the table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# dense TFLOP/s (bf16, fp32) from NVIDIA's datasheets (SXM parts; no sparsity)
GPU_TFLOPS = {
    "H200": (989.0, 67.0),
    "H100": (989.0, 67.0),
    "A100": (312.0, 19.5),
    "L40S": (362.0, 91.6),
    "L4": (121.0, 30.3),
    "A10": (125.0, 31.2),
    "RTX 4090": (165.0, 82.6),
}


@dataclass(frozen=True)
class Peak:
    """A peak FLOP/s and where it comes from."""

    flops: float
    how: str


def cpu_flags() -> tuple[set[str], str]:
    """The first CPU's feature flags and vendor from /proc/cpuinfo (empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")[:200_000]
    except OSError:
        return set(), ""
    flags, vendor = set(), ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags" and not flags:
            flags = set(value.split())
        elif key.strip() == "vendor_id" and not vendor:
            vendor = value.strip()
    return flags, vendor


def cpu_clock_hz() -> float | None:
    """The highest clock the kernel reports for cpu0 (cpufreq's maximum, else /proc/cpuinfo's MHz)."""
    try:
        return float(Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").read_text()) * 1e3
    except (OSError, ValueError):
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace")[:200_000].splitlines():
            if line.startswith("cpu MHz"):
                return float(line.partition(":")[2]) * 1e6
    except (OSError, ValueError):
        return None
    return None


def cpu_flops_per_cycle(flags: set[str], vendor: str, bf16: bool) -> tuple[int, str] | None:
    """FLOP per cycle and core of the widest matrix path the flags name, for bf16 or fp32 arithmetic."""
    amd = vendor == "AuthenticAMD"
    if bf16 and "amx_bf16" in flags:
        return 1024, "AMX bf16"
    if bf16 and "avx512_bf16" in flags:
        return (64, "AVX-512 bf16 (256-bit halves)") if amd else (128, "AVX-512 bf16")
    if "avx512f" in flags:
        return (32, "AVX-512 fp32 (256-bit halves)") if amd else (64, "AVX-512 fp32")
    if "avx2" in flags and "fma" in flags:
        return 32, "AVX2 fp32"
    return None


def device_peak(device_type: str, bf16: bool, threads: int | None = None, gpu_name: str | None = None) -> Peak | None:
    """The peak FLOP/s of the device at this precision, or None where the table does not know it."""
    if device_type == "cuda":
        for name, (b, f) in GPU_TFLOPS.items():
            if gpu_name and name in gpu_name:
                return Peak((b if bf16 else f) * 1e12, f"{name} datasheet, dense {'bf16' if bf16 else 'fp32'}")
        return None
    if device_type != "cpu":
        return None
    flags, vendor = cpu_flags()
    per_cycle = cpu_flops_per_cycle(flags, vendor, bf16)
    clock = cpu_clock_hz()
    if per_cycle is None or not clock:
        return None
    cores = threads or os.cpu_count() or 1
    return Peak(
        per_cycle[0] * clock * cores,
        f"{per_cycle[1]}: {per_cycle[0]} FLOP/cycle x {clock / 1e9:.2f} GHz x {cores} cores",
    )
