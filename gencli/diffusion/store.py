"""Saving a trained diffusion model as a checkpoint directory and loading it back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from gencli.checkpoint.format import Checkpoint
from gencli.checkpoint.load import frozen_model, load_checkpoint, resolved_config
from gencli.checkpoint.save import save_checkpoint
from gencli.core.config import to_dict
from gencli.diffusion.config import DiffusionConfig
from gencli.diffusion.model import Denoiser
from gencli.diffusion.sde import VESDE
from gencli.diffusion.train import DiffusionTrainer

KIND = "diffusion"


@dataclass
class TrainedDiffusion:
    """A denoiser ready for sampling, with its config and noise schedule."""

    cfg: DiffusionConfig
    model: Denoiser
    sde: VESDE
    checkpoint: Checkpoint

    @property
    def device(self) -> torch.device:
        return self.model.data_mean.device


def save_trained(trainer: DiffusionTrainer, path: Path, files: dict | None = None, interrupted: bool = False) -> None:
    """Write the trainer's sampling weights, config, meta and resumable state to `path`."""
    losses = trainer.losses
    tail = losses[-100:]
    meta = {
        "step": trainer.epoch,
        "interrupted": interrupted,
        "metrics": {
            "final_loss": losses[-1] if losses else None,
            "final_loss_avg100": sum(tail) / len(tail) if tail else None,
            "wall_s": trainer.wall_s,
        },
    }
    save_checkpoint(
        path, KIND, trainer.sampling_weights(), to_dict(trainer.cfg), meta, trainer.state_dict(), files=files
    )


def load_trained(path: Path, device: torch.device | str = "cpu") -> TrainedDiffusion:
    """Rebuild the denoiser on `device` from a checkpoint directory (exit-2 errors when unusable)."""
    ckpt = load_checkpoint(path, KIND)
    cfg = resolved_config(ckpt, DiffusionConfig)
    model = frozen_model(Denoiser(cfg.model, cfg.n_classes, cfg.null_class), ckpt.weights, path, device)
    return TrainedDiffusion(cfg, model, VESDE(cfg.sde.sigma_min, cfg.sde.sigma_max), ckpt)
