"""Training analyses: the training data (C1) and the loss curve kept in the checkpoint (U2)."""

from __future__ import annotations

import numpy as np

from gencli.checkpoint.load import metrics_rows
from gencli.core.errors import GencliError
from gencli.diffusion.analyses.common import (
    class_grid,
)
from gencli.diffusion.config import DiffusionConfig
from gencli.diffusion.model.store import TrainedDiffusion
from gencli.diffusion.results import (
    TrainingCurve,
    TrainingData,
)
from gencli.diffusion.training.trainer import make_dataset


def training_data(cfg: DiffusionConfig) -> TrainingData:
    """C1: the training points (and classes) the config describes."""
    x, labels = make_dataset(cfg)
    return TrainingData(x.numpy(), labels.numpy() if labels is not None else None, cfg.n_classes, class_grid(cfg))


def training_curve(trained: TrainedDiffusion) -> TrainingCurve:
    """U2: the loss curve kept in the checkpoint's metrics.csv."""
    rows = metrics_rows(trained.checkpoint)
    try:
        losses = [float(row["loss"]) for row in rows]
    except (KeyError, ValueError, TypeError):
        raise GencliError(f"{trained.checkpoint.path / 'metrics.csv'}: unreadable training metrics") from None
    wall = float((trained.checkpoint.meta.get("metrics") or {}).get("wall_s") or 0.0)
    return TrainingCurve(np.asarray(losses), wall, trained.cfg.model.conditional)
