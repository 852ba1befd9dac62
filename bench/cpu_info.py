"""The processor a bench ran on: its model name and the flags that decide bf16 speed (avx512_bf16, amx_bf16)."""

import platform
from pathlib import Path


def cpu_line() -> str:
    name, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    marks = [f for f in ("avx512f", "avx512_bf16", "amx_bf16", "amx_tile") if f in flags]
    return f"{name}; flags: {', '.join(marks) or 'none of avx512f/avx512_bf16/amx'}"
