"""Classic compressors as a yardstick for the model: the bytes each needs for a text, given the text before it.

A compressor codes `text` after `given` (the training text: what the model learned from) at the cost
size(given + text) - size(given): the fair comparison with a model trained on `given`.
PPMd (order 8, the `pyppmd` package) is a context model that adapts while it codes, as the model's
adaptive coding does; bzip2 and xz come with Python; zpaq (context mixing, `-m5`) runs when the
`zpaq` program is installed (Debian package zpaq).
"""

from __future__ import annotations

import bz2
import lzma
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path


def _ppmd(data: bytes) -> bytes:
    import pyppmd

    return pyppmd.compress(data, max_order=8, mem_size=64 << 20)


def _zpaq(data: bytes) -> bytes:
    """zpaq -m5 archive of one file holding `data`."""
    with tempfile.TemporaryDirectory() as d:
        src, arch = Path(d) / "text", Path(d) / "a.zpaq"
        src.write_bytes(data)
        subprocess.run(["zpaq", "a", str(arch), str(src), "-m5"], cwd=d, check=True, capture_output=True, timeout=600)
        return arch.read_bytes()


def classic_coders() -> dict[str, Callable[[bytes], bytes]]:
    """Name -> compress function of each classic compressor available here (zpaq only where installed)."""
    coders: dict[str, Callable[[bytes], bytes]] = {
        "PPMd order 8": _ppmd,
        "bzip2 -9": lambda b: bz2.compress(b, 9),
        "xz -9e": lambda b: lzma.compress(b, preset=9 | lzma.PRESET_EXTREME),
    }
    if shutil.which("zpaq"):
        coders["zpaq -m5"] = _zpaq
    return coders


def conditional_sizes(texts: dict[str, bytes], given: bytes) -> dict[tuple[str, str], int]:
    """(text name, coder name) -> bytes the coder spends on that text after `given`: size(given + text) - size(given),
    each coder's size(given) computed once."""
    sizes = {}
    for coder, compress in classic_coders().items():
        base = len(compress(given))
        for name, text in texts.items():
            sizes[name, coder] = len(compress(given + text)) - base
    return sizes
