"""Choosing the torch device from `auto|cpu|cuda|mps`."""

from __future__ import annotations

import torch

from gencli.core.errors import GencliError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str) -> torch.device:
    """The torch device for a user's choice; `auto` prefers cuda, then mps, then cpu."""
    if name not in DEVICE_CHOICES:
        raise GencliError(f"--device: must be one of {', '.join(DEVICE_CHOICES)}, got {name!r}")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise GencliError("--device cuda: no CUDA device is available here (use --device cpu)")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise GencliError("--device mps: no MPS device is available here (use --device cpu)")
    return torch.device(name)
