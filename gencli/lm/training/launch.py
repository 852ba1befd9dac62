"""`gencli lm train --nproc N`: launch the same training as N data-parallel processes through torch.distributed.run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from gencli.core.config import ConfigSources, to_dict
from gencli.core.errors import GencliError
from gencli.lm.config import LMConfig
from gencli.lm.model.store import load_trained
from gencli.lm.training import worker_report
from gencli.lm.training.distributed import Distributed


def launcher_command(
    nproc: int, path: Path, resume: bool, sources: ConfigSources, device: str, as_json: bool, force: bool = False
) -> list[str]:
    """`python -m torch.distributed.run --standalone --nproc_per_node N -m gencli lm train ...` with the same
    options."""
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={nproc}",
        "-m",
        "gencli",
        "lm",
        "train",
        "--ckpt",
        str(path),
        "--device",
        device,
    ]
    explicit = sources.explicit
    if explicit.get("data.corpus") is not None:
        cmd += ["--corpus", str(explicit["data.corpus"])]
    if explicit.get("train.max_iters") is not None:
        cmd += ["--max-iters", str(explicit["train.max_iters"])]
    if explicit.get("train.seed") is not None:
        cmd += ["--seed", str(explicit["train.seed"])]
    if sources.yaml_path is not None:
        cmd += ["--config", str(sources.yaml_path)]
    for s in sources.sets:
        cmd += ["--set", s]
    return cmd + (["--resume"] if resume else []) + (["--force"] if force else []) + (["--json"] if as_json else [])


def check_split(nproc: int, path: Path, resume: bool, sources: ConfigSources) -> None:
    """Resolve the config as the processes will and check that the global batch splits across them."""
    base = to_dict(load_trained(path).cfg) if resume else None
    cfg = sources.resolve(LMConfig, base)
    Distributed(0, nproc, 0, None).shard(cfg.train.batch_size, cfg.train.grad_accum)


def first_error(records: list[dict], stderr: str) -> tuple[str, int]:
    """The one-line error of a failed job and its exit code: a user's mistake (2) first, else the first failure;
    without any record, the last line the launcher printed."""
    errors = [r for r in records if r["kind"] == "error"]
    if errors:
        chosen = next((r for r in errors if r["code"] == 2), errors[0])
        return chosen["message"], chosen["code"] or 1
    tail = [line.strip() for line in stderr.splitlines() if line.strip()]
    return f"data-parallel training failed ({tail[-1][:200] if tail else 'no message'})", 1


def launch(
    nproc: int, path: Path, resume: bool, sources: ConfigSources, device: str, as_json: bool, force: bool = False
) -> int:
    """Run the training in `nproc` processes on this node; the exit code of the job (one error line on failure)."""
    check_split(nproc, path, resume, sources)
    with tempfile.TemporaryDirectory(prefix="gencli-ddp-") as folder:
        env = {
            **os.environ,
            worker_report.ENV: folder,
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc))),
        }
        proc = subprocess.Popen(
            launcher_command(nproc, path, resume, sources, device, as_json, force),
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _, stderr = proc.communicate()
            interrupted = False
        except KeyboardInterrupt:  # the processes got the interrupt too: let them save and stop
            _, stderr = proc.communicate()
            interrupted = True
        records = worker_report.read(Path(folder))
    notes = [r["message"] for r in records if r["kind"] == "note" and r["rank"] == 0]  # the main process's remarks
    if interrupted or proc.returncode == 0:
        for line in notes:
            sys.stderr.write(line + "\n")
        return 130 if interrupted else 0
    message, code = first_error(records, stderr)
    raise GencliError(message) if code == 2 else RuntimeError(message)


def interrupt_on_sigterm() -> None:
    """Turn the SIGTERM that torchrun sends on Ctrl-C into KeyboardInterrupt, so training saves a resumable state."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
