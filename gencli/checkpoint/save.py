"""Writing a complete checkpoint directory, atomically: a reader sees the old checkpoint or the new one."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import torch
import yaml
from safetensors.torch import save_file

from gencli.checkpoint.format import (
    CONFIG,
    FORMAT_VERSION,
    KINDS,
    META,
    TRAIN_STATE,
    WEIGHTS,
    library_versions,
)
from gencli.checkpoint.swap import write_dir_atomic


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
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")

    def fill(tmp: Path) -> None:
        # clone: tied weights share memory, and safetensors stores each tensor on its own
        save_file({k: v.detach().cpu().clone().contiguous() for k, v in weights.items()}, str(tmp / WEIGHTS))
        for name, tensors in (extra_weights or {}).items():
            save_file({k: v.detach().cpu().clone().contiguous() for k, v in tensors.items()}, str(tmp / name))
        (tmp / CONFIG).write_text(yaml.safe_dump(config, sort_keys=False))
        full_meta = {
            "kind": kind,
            "format_version": FORMAT_VERSION,
            **meta,
            "versions": library_versions(),
            "save_id": uuid.uuid4().hex,
        }
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

    write_dir_atomic(path, fill)
