"""Choosing the torch device from `auto|cpu|cuda|mps` (torch is imported only when a device is resolved, so the
command line's choices come from here without loading it)."""

from __future__ import annotations

import typing
from typing import Literal

from gencli.core.errors import GencliError

Device = Literal["auto", "cpu", "cuda", "mps"]


def resolve_device(name: str):
    """The torch device for a user's choice; `auto` prefers cuda, then mps, then cpu."""
    import torch

    choices = typing.get_args(Device)
    if name not in choices:
        raise GencliError(f"--device: must be one of {', '.join(choices)}, got {name!r}")
    mps = getattr(torch.backends, "mps", None)
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise GencliError("--device cuda: no CUDA device is available here (use --device cpu)")
    if name == "mps" and not (mps is not None and mps.is_available()):
        raise GencliError("--device mps: no MPS device is available here (use --device cpu)")
    return torch.device(name)
