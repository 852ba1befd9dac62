"""Reading a checkpoint directory: verified, of the expected kind, and never half of a save in progress."""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

import torch
import yaml
from safetensors import SafetensorError
from safetensors.torch import load_file

from gencli.checkpoint.format import (
    CONFIG,
    FORMAT_VERSION,
    META,
    METRICS,
    WEIGHTS,
    Checkpoint,
    CheckpointError,
)
from gencli.checkpoint.lock import writer_of
from gencli.checkpoint.swap import recover, swap_in_progress
from gencli.core.config import MAX_CONFIG_BYTES, parse_yaml

READ_TRIES = 50  # a reader that meets a swap in progress tries again this often, READ_PAUSE_S apart
READ_PAUSE_S = 0.02


MAX_TEXT_BYTES = 64 * 2**20  # meta.json, a tokenizer: far above any real one, far below what would hurt


def read_small_text(path: Path, what: str, cap: int = MAX_TEXT_BYTES) -> str:
    """The UTF-8 text of a regular file of at most `cap` bytes (a link to a device, a FIFO, a huge file: refused)."""
    if not path.is_file():
        kind = "not a regular file" if path.exists() else "missing"
        raise CheckpointError(f"{path}: {what} is {kind}")
    with path.open("rb") as f:
        data = f.read(cap + 1)
    if len(data) > cap:
        raise CheckpointError(f"{path}: {what} is larger than {cap // 2**20} MB; refusing to read it")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CheckpointError(f"{path}: {what} is not UTF-8 text") from None


def check_size_claim(claimed: int, weights: dict[str, torch.Tensor], path: Path) -> None:
    """Refuse a config whose model would be far larger than the weights stored beside it (a config edited by hand)
    before that model is built: `claimed` is the config's parameter count, estimated from its sizes."""
    held = sum(t.numel() for t in weights.values())
    if claimed > 2 * held + 1_000_000:
        raise CheckpointError(
            f"{path / CONFIG}: describes a model of about {claimed:,} weights, but {WEIGHTS} holds {held:,}; "
            "the config does not belong to these weights"
        )


def _load_weights(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise CheckpointError(f"{path}: missing weights file" if not path.exists() else f"{path}: not a regular file")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path}: corrupt weights file ({str(e).splitlines()[0][:80]})") from None


def load_checkpoint(
    path: Path, kind: str, extra: tuple[str, ...] = (), texts: tuple[str, ...] = (), train_hint: str | None = None
) -> Checkpoint:
    """Load and verify a checkpoint directory of the expected kind (with the `extra` weight files and `texts` text
    files); a read that overlapped a save is done again. A missing one names the command that trains it
    (`train_hint`), or the process that is writing it."""
    path = Path(path)
    try:
        recover(path)  # a save that was killed mid-swap: put the old checkpoint back, clear its scratch
    except OSError:
        pass
    for _ in range(READ_TRIES):
        try:
            ckpt = _load_once(path, kind, extra, texts, train_hint)
            if _save_id(path) == ckpt.meta.get("save_id"):
                return ckpt
        except (CheckpointError, OSError):
            if not swap_in_progress(path):
                break
        time.sleep(READ_PAUSE_S)
    try:
        return _load_once(path, kind, extra, texts, train_hint)
    except OSError as e:
        raise CheckpointError(f"{path}: unreadable checkpoint ({e.strerror})") from None


def _save_id(path: Path) -> str | None:
    try:
        return json.loads((path / META).read_text()).get("save_id")
    except (OSError, ValueError, AttributeError):
        return None


def _load_once(
    path: Path, kind: str, extra: tuple[str, ...], texts: tuple[str, ...], train_hint: str | None = None
) -> Checkpoint:
    hint = f"train one first with `{train_hint or f'gencli {kind} train --ckpt {path}'}`"
    writer = writer_of(path)
    if writer is not None and not (path / META).is_file():
        raise CheckpointError(f"{path}: being written by a training (gencli, pid {writer}); wait for its first save")
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {path}; {hint}")
    if not path.is_dir():
        raise CheckpointError(f"{path}: a checkpoint is a directory, this is a file")
    meta_path = path / META
    if not meta_path.is_file():
        raise CheckpointError(f"{path}: not a gencli checkpoint (no {META}); {hint}")
    try:
        meta = json.loads(read_small_text(meta_path, META))
        if not isinstance(meta, dict):
            raise ValueError
    except (ValueError, UnicodeDecodeError, RecursionError):
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
        config = parse_yaml(read_small_text(config_path, CONFIG, MAX_CONFIG_BYTES))
        if not isinstance(config, dict):
            raise ValueError
    except (yaml.YAMLError, ValueError, UnicodeDecodeError, RecursionError):
        raise CheckpointError(f"{config_path}: corrupt config.yaml") from None
    weights = _load_weights(path / WEIGHTS)
    extra_weights = {name: _load_weights(path / name) for name in extra}
    read = {name: read_small_text(path / name, name) if os.path.lexists(path / name) else None for name in texts}
    return Checkpoint(
        path=path, kind=kind, config=config, meta=meta, weights=weights, extra_weights=extra_weights, texts=read
    )


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
    path = ckpt.path / METRICS
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error):
        raise CheckpointError(f"{path}: missing or unreadable training metrics") from None
    if not rows:
        raise CheckpointError(f"{path}: holds no training steps")
    return rows
