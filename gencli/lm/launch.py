"""`gencli lm train --nproc N`: launch the same training as N data-parallel processes through torch.distributed.run."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from gencli.config import resolve, to_dict
from gencli.errors import GencliError
from gencli.lm.config import LMConfig
from gencli.lm.distributed import Distributed
from gencli.lm.store import load_trained


def launcher_command(nproc: int, path: Path, resume: bool, config: Path | None, sets: list[str] | None, explicit: dict,
                     device: str, as_json: bool) -> list[str]:
    """`python -m torch.distributed.run --standalone --nproc_per_node N -m gencli lm train ...` with the same options."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           "-m", "gencli", "lm", "train", "--ckpt", str(path), "--device", device]
    if explicit.get("data.corpus") is not None:
        cmd += ["--corpus", str(explicit["data.corpus"])]
    if explicit.get("train.max_iters") is not None:
        cmd += ["--max-iters", str(explicit["train.max_iters"])]
    if explicit.get("train.seed") is not None:
        cmd += ["--seed", str(explicit["train.seed"])]
    if config is not None:
        cmd += ["--config", str(config)]
    for s in sets or []:
        cmd += ["--set", s]
    return cmd + (["--resume"] if resume else []) + (["--json"] if as_json else [])


def check_split(nproc: int, path: Path, resume: bool, config: Path | None, sets: list[str] | None, explicit: dict) -> None:
    """Resolve the config as the processes will and check that the global batch splits across them."""
    base = to_dict(load_trained(path).cfg) if resume else None
    cfg = resolve(LMConfig, base=base, yaml_path=config, sets=sets, explicit=explicit)
    Distributed(0, nproc, 0, None).shard(cfg.train.batch_size, cfg.train.grad_accum)


def _first_error(stderr: str) -> tuple[str, int]:
    """The one-line error of the failing process (and its exit code) from the launcher's output."""
    codes = [int(c) for c in re.findall(r"exitcode\s*:\s*(-?\d+)", stderr)]
    ours = [line for line in stderr.splitlines() if line.startswith("error: ")]
    if ours:
        return ours[0][len("error: "):], 2 if 2 in codes else 1
    tail = [line.strip() for line in stderr.splitlines() if line.strip()]
    return f"data-parallel training failed ({tail[-1][:200] if tail else 'no message'})", 1


def launch(nproc: int, path: Path, resume: bool, config: Path | None, sets: list[str] | None, explicit: dict,
           device: str, as_json: bool) -> int:
    """Run the training in `nproc` processes on this node; the exit code of the job (one error line on failure)."""
    check_split(nproc, path, resume, config, sets, explicit)
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))}
    proc = subprocess.Popen(launcher_command(nproc, path, resume, config, sets, explicit, device, as_json),
                            env=env, stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = proc.communicate()
    except KeyboardInterrupt:  # the processes got the interrupt too: let them save and stop
        _, stderr = proc.communicate()
        sys.stderr.write(next((line + "\n" for line in stderr.splitlines() if "resumable state" in line), ""))
        return 130
    if proc.returncode == 0:
        for line in stderr.splitlines():  # the main process's own remarks, without the launcher's
            if " tokens (vocabulary " in line:
                sys.stderr.write(line + "\n")
        return 0
    message, code = _first_error(stderr)
    raise GencliError(message) if code == 2 else RuntimeError(message)


def interrupt_on_sigterm() -> None:
    """Turn the SIGTERM that torchrun sends on Ctrl-C into KeyboardInterrupt, so training saves a resumable state."""
    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
