"""The processor a bench ran on: its model name and the flags that decide bf16 speed (avx512_bf16, amx_bf16)."""

from gencli.lm.training.numeric_path import processor


def cpu_line() -> str:
    name, flags = processor()
    marks = [f for f in ("avx512f", "avx512_bf16", "amx_bf16", "amx_tile") if f in flags]
    return f"{name}; flags: {', '.join(marks) or 'none of avx512f/avx512_bf16/amx'}"
