"""One `python -m gencli ... --json` process, timed: what the benches that run gencli as a user does share."""

import json
import subprocess
import sys
import time


def run_json(*args: str, env: dict | None = None) -> tuple[dict | None, float, str]:
    """(the command's --json output, or None when it failed; wall seconds; the last line of its stderr)."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "gencli", *args, "--json"], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    last = (done.stderr.strip().splitlines() or [""])[-1]
    return (None if done.returncode else json.loads(done.stdout)), wall, last
