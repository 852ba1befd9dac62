"""The checkpoint directory: weights, resolved config, meta, train state; atomic save, checked load.

Layout:
    model.safetensors   weights (safetensors: no pickle)
    config.yaml         the resolved config, enough to rebuild the model
    meta.json           kind, format version, step, metrics, library versions
    train_state.pt      optimizer, step, RNG states; tensors and builtins only,
                        loaded with torch.load(weights_only=True)
    ...                 anything else the trainer adds (metrics.csv, figures, tokenizer.json)

A save writes a complete new directory beside the target and swaps it in with
renames, so an interrupted save never leaves a half-written checkpoint. A reader that
meets a swap in progress (the folder briefly missing, or its meta.json changed while it
read) reads again. One writer at a time: training holds an exclusive OS lock on
`.NAME.lock` beside the folder (released when the process ends, however it ends).
"""

from __future__ import annotations

import errno
import json
import os
import platform
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from gencli import __version__
from gencli.core.config import MAX_CONFIG_BYTES, parse_yaml
from gencli.core.errors import GencliError, WriteFailed

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows: no lock there
    fcntl = None

FORMAT_VERSION = 1
KINDS = ("diffusion", "lm")
META = "meta.json"
WEIGHTS = "model.safetensors"
CONFIG = "config.yaml"
TRAIN_STATE = "train_state.pt"
READ_TRIES = 50  # a reader that meets a swap in progress tries again this often, READ_PAUSE_S apart
READ_PAUSE_S = 0.02


class CheckpointError(GencliError):
    """A checkpoint directory that is missing, of the wrong kind, or corrupt."""


@dataclass
class Checkpoint:
    """A loaded checkpoint directory."""

    path: Path
    kind: str
    config: dict
    meta: dict
    weights: dict[str, torch.Tensor]
    extra_weights: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    texts: dict[str, str | None] = field(default_factory=dict)  # text files read with the rest (None: missing)

    def load_train_state(self) -> dict:
        """The resumable training state (optimizer, step, RNG), loaded without pickle."""
        path = self.path / TRAIN_STATE
        if not path.is_file():
            raise CheckpointError(f"{path}: no training state to resume from")
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # a crafted or corrupt file must never run code
            raise CheckpointError(f"{path}: unreadable or unsafe training state ({type(e).__name__})") from None


def library_versions() -> dict[str, str]:
    """Versions worth recording beside weights."""
    import safetensors
    import tokenizers

    return {
        "gencli": __version__,
        "torch": torch.__version__,
        "safetensors": safetensors.__version__,
        "tokenizers": tokenizers.__version__,
        "python": platform.python_version(),
    }


def check_writable_target(path: Path, kind: str) -> None:
    """Refuse to overwrite anything but a checkpoint of the same kind."""
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
        other = json.loads(meta_path.read_text())["kind"]
    except Exception:
        raise CheckpointError(f"{meta_path}: unreadable meta.json; refusing to overwrite {path}") from None
    if other != kind:
        raise CheckpointError(
            f"{path}: holds a {other} checkpoint; refusing to overwrite it with a {kind} one (choose another --ckpt)"
        )


_held_locks: dict[Path, tuple[int, Path]] = {}


def lock_for_writing(path: Path) -> None:
    """Take the exclusive writer lock of checkpoint folder `path` for this process (a no-op when it holds it already).

    Another process holding it is refused at once, in one line naming the folder and that
    process's pid. The OS releases the lock when its process ends, so a killed writer never
    blocks the next one; the lock file is removed when the lock is given back.
    """
    key = Path(path).absolute()
    if fcntl is None or key in _held_locks:
        return
    key.parent.mkdir(parents=True, exist_ok=True)
    lock_path = key.parent / f".{key.name}.lock"
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise CheckpointError(f"{path}: another gencli process (pid {holder}) is writing this checkpoint; wait for "
                                  "it to finish or choose another --ckpt") from None
        try:
            same = os.stat(lock_path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:  # else the holder removed the file between our open and our lock: take the new one
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    _held_locks[key] = (fd, lock_path)


def release_writer_lock(path: Path) -> None:
    """Give back the writer lock of `path` if this process holds it (and remove its lock file)."""
    held = _held_locks.pop(Path(path).absolute(), None)
    if held is not None:
        fd, lock_path = held
        lock_path.unlink(missing_ok=True)
        os.close(fd)


def _swap_in_progress(path: Path) -> bool:
    """True while a save of `path` is between writing its new folder and removing the old one."""
    return any(path.parent.glob(f".{path.name}.tmp-*")) or any(path.parent.glob(f".{path.name}.old-*"))


def _atomic_dir_write(path: Path, fill: Callable[[Path], None]) -> None:
    """Create `path` with contents written by `fill(tmpdir)`, swapped in by rename."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    except OSError as e:
        raise WriteFailed(f"could not write the checkpoint {path} ({e.strerror}); nothing there was changed") from None
    try:
        fill(tmp)
        old = None
        if path.exists():
            old = path.parent / f".{path.name}.old-{os.getpid()}"
            if old.exists():
                shutil.rmtree(old)
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        why = "the disk is full" if e.errno == errno.ENOSPC else e.strerror
        raise WriteFailed(f"could not write the checkpoint {path} ({why}); the previous checkpoint there is intact") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def save_checkpoint(
    path: Path,
    kind: str,
    weights: dict[str, torch.Tensor],
    config: dict,
    meta: dict[str, Any],
    train_state: dict | None = None,
    extra_weights: dict[str, dict[str, torch.Tensor]] | None = None,
    files: dict[str, bytes | str | Path] | None = None,
) -> None:
    """Write a complete checkpoint directory atomically.

    `extra_weights` maps a file name (e.g. "last.safetensors") to more tensors;
    `files` maps a file name to its bytes, text, or a path to copy.
    """
    assert kind in KINDS

    def fill(tmp: Path) -> None:
        # clone: tied weights share memory, and safetensors stores each tensor on its own
        save_file({k: v.detach().cpu().clone().contiguous() for k, v in weights.items()}, str(tmp / WEIGHTS))
        for name, tensors in (extra_weights or {}).items():
            save_file({k: v.detach().cpu().clone().contiguous() for k, v in tensors.items()}, str(tmp / name))
        (tmp / CONFIG).write_text(yaml.safe_dump(config, sort_keys=False))
        full_meta = {"kind": kind, "format_version": FORMAT_VERSION, **meta, "versions": library_versions(),
                     "save_id": uuid.uuid4().hex}
        (tmp / META).write_text(json.dumps(full_meta, indent=2))
        if train_state is not None:
            torch.save(train_state, tmp / TRAIN_STATE)
        for name, content in (files or {}).items():
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                shutil.copyfile(content, target)
            elif isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)

    _atomic_dir_write(path, fill)


def _load_weights(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise CheckpointError(f"{path}: missing weights file")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path}: corrupt weights file ({str(e).splitlines()[0][:80]})") from None


def load_checkpoint(path: Path, kind: str, extra: tuple[str, ...] = (), texts: tuple[str, ...] = ()) -> Checkpoint:
    """Load and verify a checkpoint directory of the expected kind (with the `extra` weight files and `texts` text
    files); a read that overlapped a save is done again."""
    path = Path(path)
    for _ in range(READ_TRIES):
        try:
            ckpt = _load_once(path, kind, extra, texts)
            if _save_id(path) == ckpt.meta.get("save_id"):
                return ckpt
        except (CheckpointError, OSError):
            if not _swap_in_progress(path):
                break
        time.sleep(READ_PAUSE_S)
    try:
        return _load_once(path, kind, extra, texts)
    except OSError as e:
        raise CheckpointError(f"{path}: unreadable checkpoint ({e.strerror})") from None


def _save_id(path: Path) -> str | None:
    try:
        return json.loads((path / META).read_text()).get("save_id")
    except (OSError, ValueError, AttributeError):
        return None


def _load_once(path: Path, kind: str, extra: tuple[str, ...], texts: tuple[str, ...]) -> Checkpoint:
    hint = f"train one first with `gencli {kind} train --ckpt {path}`"
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {path}; {hint}")
    if not path.is_dir():
        raise CheckpointError(f"{path}: a checkpoint is a directory, this is a file")
    meta_path = path / META
    if not meta_path.is_file():
        raise CheckpointError(f"{path}: not a gencli checkpoint (no {META}); {hint}")
    try:
        meta = json.loads(meta_path.read_text())
        if not isinstance(meta, dict):
            raise ValueError
    except (ValueError, UnicodeDecodeError):
        raise CheckpointError(f"{meta_path}: corrupt meta.json") from None
    if meta.get("kind") != kind:
        raise CheckpointError(f"{path}: this is a {meta.get('kind')!s} checkpoint, expected a {kind} one")
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format {meta.get('format_version')} is not supported (expected {FORMAT_VERSION})"
        )
    config_path = path / CONFIG
    if not config_path.is_file():
        raise CheckpointError(f"{config_path}: missing config")
    try:
        if config_path.stat().st_size > MAX_CONFIG_BYTES:
            raise ValueError
        config = parse_yaml(config_path.read_text())
        if not isinstance(config, dict):
            raise ValueError
    except (yaml.YAMLError, ValueError, UnicodeDecodeError):
        raise CheckpointError(f"{config_path}: corrupt config.yaml") from None
    weights = _load_weights(path / WEIGHTS)
    extra_weights = {name: _load_weights(path / name) for name in extra}
    read = {name: (path / name).read_text(encoding="utf-8") if (path / name).is_file() else None for name in texts}
    return Checkpoint(path=path, kind=kind, config=config, meta=meta, weights=weights, extra_weights=extra_weights,
                      texts=read)


def frozen_model(model: torch.nn.Module, weights: dict[str, torch.Tensor], path: Path, device: torch.device | str):
    """`model` with the checkpoint's `weights` loaded, on `device`, in eval mode, without gradients; weights that do
    not fit the config are a one-line CheckpointError naming the weights file."""
    try:
        model.load_state_dict(weights)
    except RuntimeError as e:
        first = str(e).splitlines()[0]
        raise CheckpointError(f"{Path(path) / WEIGHTS}: weights do not fit the config ({first[:100]})") from None
    model.to(device).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def resolved_config(ckpt: Checkpoint, cls: type):
    """The checkpoint's config.yaml as a validated `cls`; a bad one is a CheckpointError naming the file."""
    from gencli.core.config import ConfigError, resolve

    try:
        return resolve(cls, base=ckpt.config)
    except ConfigError as e:
        raise CheckpointError(f"{ckpt.path / CONFIG}: {e}") from None


def metrics_rows(ckpt: Checkpoint) -> list[dict[str, str]]:
    """The rows of the checkpoint's metrics.csv (the training curve); a missing, unreadable or empty file is a
    one-line CheckpointError naming it."""
    import csv

    path = ckpt.path / "metrics.csv"
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error):
        raise CheckpointError(f"{path}: missing or unreadable training metrics") from None
    if not rows:
        raise CheckpointError(f"{path}: holds no training steps")
    return rows


@contextmanager
def training_into(path: Path, step: Callable[[], int], save_interrupted: Callable[[], None] | None) -> Iterator[None]:
    """The body of a training that writes checkpoint `path`: Ctrl-C saves a resumable state (`save_interrupted`, None
    in a process that does not write) and becomes TrainingInterrupted at `step()`; the writer lock is given back
    however the body ends."""
    from gencli.core.errors import TrainingInterrupted

    try:
        try:
            yield
        except KeyboardInterrupt:
            if save_interrupted is not None:
                save_interrupted()
            raise TrainingInterrupted(step(), path) from None
    finally:
        release_writer_lock(path)
