"""Memory a request would need, checked before anything is allocated: a size that cannot fit in this machine's free
memory is refused in one line that says what it would need (a merely long request runs, and stops on Ctrl-C)."""

from __future__ import annotations

import os
from pathlib import Path

from gencli.core.errors import ParameterError

USABLE_SHARE = 0.9  # of the memory the system reports available


def _cgroup_limit() -> int | None:
    """The memory limit of this process's cgroup (v2 or v1), when one is set."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:
            return int(text)
    return None


def available_bytes() -> int:
    """The memory this process may still take: MemAvailable (Linux), capped by a cgroup limit; else physical RAM."""
    avail = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            avail = 1 << 40  # unknown: do not refuse
    limit = _cgroup_limit()
    return min(avail, limit) if limit else avail


def human_bytes(n: float) -> str:
    """1.5 GB, 320 MB, 12 kB (decimal units, as free(1) -H and file managers print them)."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} bytes"


def check_fits(nbytes: float, what: str, params: str | tuple[str, ...], value: object = None) -> None:
    """Refuse (ParameterError naming `params`) a request whose estimated memory `nbytes` exceeds what is free."""
    free = available_bytes() * USABLE_SHARE
    if nbytes > free:
        raise ParameterError(
            params,
            f"{what} would need about {human_bytes(nbytes)} of memory; this machine has {human_bytes(free)} free",
            value,
        )
