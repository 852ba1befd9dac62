"""A trained diffusion model loaded back from its checkpoint directory, ready for sampling (no trainer imported)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from gencli.checkpoint.format import Checkpoint
from gencli.checkpoint.load import frozen_model, load_checkpoint, resolved_config
from gencli.diffusion.config import DiffusionConfig
from gencli.diffusion.model.denoiser import Denoiser
from gencli.diffusion.process.sde import VESDE

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


def load_trained(path: Path, device: torch.device | str = "cpu") -> TrainedDiffusion:
    """Rebuild the denoiser on `device` from a checkpoint directory (exit-2 errors when unusable)."""
    ckpt = load_checkpoint(path, KIND)
    cfg = resolved_config(ckpt, DiffusionConfig)
    model = frozen_model(Denoiser(cfg.model, cfg.n_classes, cfg.null_class), ckpt.weights, path, device)
    return TrainedDiffusion(cfg, model, VESDE(cfg.sde.sigma_min, cfg.sde.sigma_max), ckpt)
