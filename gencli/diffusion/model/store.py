"""A trained diffusion model loaded back from its checkpoint directory, ready for sampling (no trainer imported)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from gencli.checkpoint.format import Checkpoint, CheckpointError
from gencli.checkpoint.load import check_size_claim, frozen_model, load_checkpoint, resolved_config
from gencli.diffusion.config import DiffusionConfig
from gencli.diffusion.datasets import POINTS_FILE, dataset_for
from gencli.diffusion.datasets.base import Dataset
from gencli.diffusion.model.denoiser import Denoiser, estimated_parameters
from gencli.diffusion.process.choice import process_for
from gencli.diffusion.process.flow import LinearFlow
from gencli.diffusion.process.sde import VESDE

KIND = "diffusion"


@dataclass
class TrainedDiffusion:
    """A denoiser ready for sampling, with its config, its process (the noise schedule of the VE-SDE or the flow's
    path, in the data's units) and its data set."""

    cfg: DiffusionConfig
    model: Denoiser
    sde: VESDE | LinearFlow
    checkpoint: Checkpoint
    dataset: Dataset

    @property
    def device(self) -> torch.device:
        return self.model.data_mean.device


def with_frame(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Weights with the standardisation buffers; a checkpoint written before them (the square only) gets the
    identity."""
    return {"input_shift": torch.zeros(2), "input_scale": torch.ones(()), **weights}


def load_trained(path: Path, device: torch.device | str = "cpu", train_hint: str | None = None) -> TrainedDiffusion:
    """Rebuild the denoiser on `device` and its data set from a checkpoint directory (exit-2 errors when unusable;
    `train_hint` is the command a missing one is trained with)."""
    ckpt = load_checkpoint(path, KIND, train_hint=train_hint)
    cfg = resolved_config(ckpt, DiffusionConfig)
    if cfg.data.is_file and not (Path(path) / POINTS_FILE).is_file():
        raise CheckpointError(f"{Path(path) / POINTS_FILE}: missing (the points the model was trained on)")
    check_size_claim(estimated_parameters(cfg.model), ckpt.weights, Path(path))
    model = frozen_model(Denoiser(cfg.model, cfg.n_classes, cfg.null_class), with_frame(ckpt.weights), path, device)
    sde = process_for(cfg, float(model.input_scale), model.input_shift.tolist())
    return TrainedDiffusion(cfg, model, sde, ckpt, dataset_for(cfg.data, Path(path) if cfg.data.is_file else None))
