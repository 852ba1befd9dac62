"""The layout of a checkpoint directory: its file names, its format version, and what a load returns."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from pathlib import Path

import torch

from gencli import __version__
from gencli.core.errors import GencliError

FORMAT_VERSION = 1
KINDS = ("diffusion", "lm")
META = "meta.json"
WEIGHTS = "model.safetensors"
CONFIG = "config.yaml"
TRAIN_STATE = "train_state.pt"
METRICS = "metrics.csv"


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
