"""Train a diffusion checkpoint end to end: resolve the config, resume, run, save with its figures."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from gencli.checkpoint.lock import writer_lock
from gencli.checkpoint.save import save_checkpoint
from gencli.checkpoint.training import check_writable_target, training_into
from gencli.core.config import ConfigSources, require_unchanged, to_dict
from gencli.core.datafiles import FigureWriter, result_files
from gencli.core.errors import GencliError
from gencli.diffusion.analyses.training import data_result
from gencli.diffusion.config import DiffusionConfig, resolve_diffusion
from gencli.diffusion.datasets import POINTS_FILE
from gencli.diffusion.datasets.points import write_points
from gencli.diffusion.model.store import KIND, load_trained
from gencli.diffusion.results import TrainingCurve, TrainingData
from gencli.diffusion.training.trainer import DiffusionTrainer, check_training_memory


def prepare(
    path: Path,
    resume: bool,
    sources: ConfigSources = ConfigSources(),
    device: torch.device | str = "cpu",
    force: bool = False,
) -> DiffusionTrainer:
    """A trainer for `path`: fresh (refusing to replace a trained checkpoint unless `force`, and anything but a
    diffusion checkpoint always) or resumed.

    Takes the writer lock of `path` (given back by `fit`, or when the process ends)."""
    with writer_lock(path):
        return _prepare(path, resume, sources, device, force)


def _prepare(path: Path, resume: bool, sources: ConfigSources, device, force: bool = False) -> DiffusionTrainer:
    if resume:
        trained = load_trained(path)
        cfg = sources.resolve(DiffusionConfig, to_dict(trained.cfg))
        require_unchanged(cfg, trained.cfg, ("data", "model", "sde"), f"when resuming {path}")
        check_training_memory(cfg)
        trainer = DiffusionTrainer(cfg, device)
        trainer.load_state_dict(trained.checkpoint.load_train_state())
    else:
        cfg = resolve_diffusion(sources)
        check_writable_target(path, "diffusion", force)
        check_training_memory(cfg)
        trainer = DiffusionTrainer(cfg, device)
    if trainer.epoch >= cfg.train.epochs:
        raise GencliError(
            f"--epochs {cfg.train.epochs}: the checkpoint in {path} already has {trainer.epoch} epochs; ask for more"
        )
    return trainer


def save_trained(trainer: DiffusionTrainer, path: Path, files: dict | None = None, interrupted: bool = False) -> None:
    """Write the trainer's sampling weights, config, meta and resumable state to `path`."""
    losses = trainer.losses
    tail = losses[-100:]
    data = trainer.dataset
    meta = {
        "data": {
            "name": trainer.cfg.data.name,
            "title": data.title,
            "scale": float(trainer.model.input_scale),
            "shift": trainer.model.input_shift.tolist(),
        },
        "step": trainer.epoch,
        "interrupted": interrupted,
        "metrics": {
            "final_loss": losses[-1] if losses else None,
            "final_loss_avg100": sum(tail) / len(tail) if tail else None,
            "wall_s": trainer.wall_s,
        },
    }
    files = dict(files or {})
    if trainer.cfg.data.is_file:  # the checkpoint keeps its own copy of the points, and says how they were split
        files[POINTS_FILE] = write_points(data.points, data.labels)
        meta["data"].update(
            {
                "points": len(data.points),
                "train": len(data.train_idx),
                "held_out": len(data.held_idx),
                "split_seed": trainer.cfg.data.seed,
                "sha256": hashlib.sha256(files[POINTS_FILE]).hexdigest(),
            }
        )
    save_checkpoint(
        path, KIND, trainer.sampling_weights(), to_dict(trainer.cfg), meta, trainer.state_dict(), files=files
    )


def training_results(trainer: DiffusionTrainer) -> tuple[TrainingCurve, TrainingData]:
    """U2 and C1 from a trainer: the loss curve and the training data."""
    cfg = trainer.cfg
    curve = TrainingCurve(np.asarray(trainer.losses), trainer.wall_s, cfg.model.conditional)
    return curve, data_result(cfg, trainer.dataset, trainer.x, trainer.labels, trainer.model)


def fit(
    trainer: DiffusionTrainer,
    path: Path,
    on_step: Callable[[int, float], None] | None = None,
    write_figures: FigureWriter | None = None,
) -> tuple[TrainingCurve, TrainingData]:
    """Train to `train.epochs`; save the checkpoint with metrics.csv, data.csv and the figures `write_figures` draws.

    Ctrl-C saves a resumable state and raises TrainingInterrupted; a NaN loss raises
    TrainingDiverged and leaves the checkpoint as it was.
    """
    with training_into(path, lambda: trainer.epoch, lambda: save_trained(trainer, path, interrupted=True)):
        trainer.run(trainer.cfg.train.epochs, on_step)
        results = training_results(trainer)
        save_trained(
            trainer, path, files=result_files(list(results), path.parent / f".{path.name}.figures", write_figures)
        )
        return results
