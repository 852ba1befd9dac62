"""What a training does around the checkpoint it writes: refuse to clobber what is there, save a resumable state on
Ctrl-C, and give the writer lock back however it ends."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from gencli.checkpoint.format import META, CheckpointError
from gencli.checkpoint.lock import release_writer_lock
from gencli.core.errors import TrainingInterrupted


def check_writable_target(path: Path, kind: str, force: bool = False) -> None:
    """Refuse to overwrite anything but a checkpoint of the same kind, and that one too unless `force`: a trained
    checkpoint is continued with --resume or replaced with --force, never replaced silently."""
    path = Path(path)
    if not path.exists():
        return
    if not path.is_dir():
        raise CheckpointError(f"{path}: exists and is not a directory; choose another --ckpt")
    meta_path = path / META
    if not meta_path.is_file():
        if any(path.iterdir()):
            raise CheckpointError(
                f"{path}: not empty and not a gencli checkpoint; refusing to overwrite it (choose another --ckpt)"
            )
        return
    try:
        meta = json.loads(meta_path.read_text())
        other = meta["kind"]
    except Exception:
        raise CheckpointError(f"{meta_path}: unreadable meta.json; refusing to overwrite {path}") from None
    if other != kind:
        raise CheckpointError(
            f"{path}: holds a {other} checkpoint; refusing to overwrite it with a {kind} one (choose another --ckpt)"
        )
    if not force:
        step = meta.get("step")
        raise CheckpointError(
            f"{path}: holds a trained {kind} checkpoint ({step} steps); use --resume to continue it "
            "or --force to train a new one in its place"
        )


@contextmanager
def training_into(path: Path, step: Callable[[], int], save_interrupted: Callable[[], None] | None) -> Iterator[None]:
    """The body of a training that writes checkpoint `path`: Ctrl-C saves a resumable state (`save_interrupted`, None
    in a process that does not write) and becomes TrainingInterrupted at `step()`; the writer lock is given back
    however the body ends."""
    try:
        try:
            yield
        except KeyboardInterrupt:
            if save_interrupted is not None:
                save_interrupted()
            raise TrainingInterrupted(step(), path) from None
    finally:
        release_writer_lock(path)
