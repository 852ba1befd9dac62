"""Wall time of `gencli report`: --quick from nothing and with its checkpoints; the full report likewise.

Each run is a separate process, as a user runs it, in a fresh temporary folder.
Run: GENCLI_DATA_DIR=../shared/data .venv/bin/python bench/report_bench.py [--full]
(--full also trains the full checkpoints from nothing: about 7 minutes on 2 cores.)
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GENCLI = str(Path(sys.executable).with_name("gencli"))


def timed(args: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(
        [GENCLI, *args, "--json"], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    if done.returncode:
        sys.exit(f"gencli {' '.join(args)} failed: {done.stderr.strip().splitlines()[-1]}")
    return time.perf_counter() - t0


def main() -> None:
    data = os.environ.get("GENCLI_DATA_DIR") or Path(__file__).resolve().parents[2] / "shared" / "data"
    os.environ["GENCLI_DATA_DIR"] = str(Path(data).resolve())  # the runs happen in another folder
    work = Path(tempfile.mkdtemp(prefix="gencli-report-bench-"))
    rows = [
        ("report --quick, from nothing", timed(["report", "--quick", "--out", "quick"], work)),
        ("report --quick, checkpoints present", timed(["report", "--quick", "--out", "quick"], work)),
    ]
    if "--full" in sys.argv:
        rows.append(("full report, from nothing", timed(["report", "--out", "full"], work)))
        rows.append(("full report, checkpoints present", timed(["report", "--out", "full"], work)))
    print(f"{'run':<36}  wall s\n{'-' * 36}  ------")
    for name, s in rows:
        print(f"{name:<36}  {s:6.1f}")
    print(f"(folder: {work}; {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
