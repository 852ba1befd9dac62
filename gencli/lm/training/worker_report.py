"""What the processes of a data-parallel job tell the launcher: their error lines and remarks, as JSON records.

`gencli lm train --nproc N` runs the processes under torch.distributed.run with their stderr captured (the
launcher's own messages are long). Each process that says something a user should read (an error with its exit
code, a remark) also appends it as one JSON line to `$GENCLI_WORKER_REPORT/rank<R>.jsonl`; the launcher reads
those records instead of searching the captured text.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

ENV = "GENCLI_WORKER_REPORT"


def record(kind: str, message: str, code: int | None = None) -> None:
    """Append one record (kind "error" or "note") for the launcher, when this process runs under one."""
    folder = os.environ.get(ENV)
    if not folder:
        return
    rank = int(os.environ.get("RANK", "0"))
    line = json.dumps({"rank": rank, "kind": kind, "message": message, "code": code})
    with open(Path(folder) / f"rank{rank}.jsonl", "a", encoding="utf-8") as f:
        f.write(line + "\n")


def read(folder: Path) -> list[dict]:
    """Every record the processes wrote, rank 0 first, each rank's in order."""
    out = []
    for path in sorted(Path(folder).glob("rank*.jsonl"), key=lambda p: int(p.stem[4:] or 0)):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a process killed while writing
    return out
