"""L1: the training curves kept in the checkpoint."""

from __future__ import annotations

import numpy as np

from gencli.checkpoint.load import metrics_rows
from gencli.core.errors import GencliError
from gencli.lm.data.texts import ATTENTION_PROMPT, EXERCISE_SENTENCE  # noqa: F401  (the analyses' defaults)
from gencli.lm.model.store import TrainedLM
from gencli.lm.results import (
    LMTrainingSummary,
)


def floats(values: list[str]) -> np.ndarray:
    return np.asarray([float(v) for v in values], dtype=float)


def training_summary(lm: TrainedLM) -> LMTrainingSummary:
    """L1 from a checkpoint: its metrics.csv (train and validation curves) and meta.json metrics."""
    rows = metrics_rows(lm.checkpoint)
    try:
        steps = np.asarray([int(r["step"]) for r in rows])
        train = floats([r["train_loss"] for r in rows])
        evals = [r for r in rows if r["val_loss"] != ""]
        eval_steps = np.asarray([int(r["step"]) for r in evals])
        eval_train, eval_val = floats([r["train_estimate"] for r in evals]), floats([r["val_loss"] for r in evals])
    except (KeyError, ValueError, TypeError):
        raise GencliError(f"{lm.checkpoint.path / 'metrics.csv'}: unreadable training metrics") from None
    n_layer, n_head, n_embd = lm.cfg.model.sizes()
    meta = lm.checkpoint.meta
    corpus = str(meta.get("corpus", lm.cfg.data.corpus)).replace("\\", "/").rsplit("/", 1)[-1]
    return LMTrainingSummary(
        steps,
        train,
        eval_steps,
        eval_train,
        eval_val,
        dict(meta.get("metrics") or {}),
        f"GPT {n_layer}/{n_head}/{n_embd}",
        corpus,
    )
