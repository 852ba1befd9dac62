"""Training analyses: the training data (C1) and the loss curve kept in the checkpoint (U2)."""

from __future__ import annotations

import numpy as np

from gencli.checkpoint.load import metrics_rows
from gencli.core.budget import check_fits
from gencli.core.errors import GencliError
from gencli.diffusion.config import DiffusionConfig
from gencli.diffusion.datasets import dataset_for
from gencli.diffusion.model.store import TrainedDiffusion
from gencli.diffusion.results import (
    TrainingCurve,
    TrainingData,
)
from gencli.diffusion.training.trainer import standard_frame, training_set


def data_result(cfg: DiffusionConfig, dataset, x, labels, model) -> TrainingData:
    """C1 from training points (and classes) of `dataset`, with the standardisation `model` applies."""
    scale = float(model.input_scale)
    shift = tuple(float(v) for v in model.input_shift)
    frame = None if scale == 1.0 and shift == (0.0, 0.0) else (shift, scale)
    return TrainingData(
        x.cpu().numpy(),
        labels.cpu().numpy() if labels is not None else None,
        cfg.n_classes,
        dataset.data_view(),
        dataset.describe(len(x)),
        frame,
    )


def training_data(trained: TrainedDiffusion) -> TrainingData:
    """C1: the training points (and classes) of the checkpoint's set."""
    x, labels = training_set(trained.cfg, trained.dataset)
    return data_result(trained.cfg, trained.dataset, x, labels, trained.model)


def training_curve(trained: TrainedDiffusion) -> TrainingCurve:
    """U2: the loss curve kept in the checkpoint's metrics.csv."""
    rows = metrics_rows(trained.checkpoint)
    try:
        losses = [float(row["loss"]) for row in rows]
    except (KeyError, ValueError, TypeError):
        raise GencliError(f"{trained.checkpoint.path / 'metrics.csv'}: unreadable training metrics") from None
    wall = float((trained.checkpoint.meta.get("metrics") or {}).get("wall_s") or 0.0)
    return TrainingCurve(np.asarray(losses), wall, trained.cfg.model.conditional)


def draw_data(cfg: DiffusionConfig) -> TrainingData:
    """The points of the config's set, with their classes where it has them, as a model would train on them (a file:
    its training part), and the standardisation the model would apply."""
    check_fits(cfg.data.n_points * 64, f"{cfg.data.n_points:,} points", "n", cfg.data.n_points)
    dataset = dataset_for(cfg.data)
    x, labels = dataset.training_points(cfg.data.n_points, cfg.data.seed)
    shift, scale = standard_frame(cfg, dataset, x)
    frame = None if scale == 1.0 and not shift.any() else (tuple(float(v) for v in shift), scale)
    return TrainingData(
        x.numpy(),
        labels.numpy() if labels is not None else None,
        dataset.n_classes if labels is not None else 0,
        dataset.data_view(),
        dataset.describe(len(x)),
        frame,
    )
