"""What the diffusion analyses share: the sampler settings of a result, the (guided) model a sampler calls, the
class labels of a sampling, and timed sampling."""

from __future__ import annotations

import time

import torch

from gencli.core.errors import ParameterError
from gencli.diffusion.config import DiffusionConfig, SampleConfig
from gencli.diffusion.model.guidance import guided
from gencli.diffusion.model.store import TrainedDiffusion
from gencli.diffusion.sampling.samplers import (
    balanced_labels,
    sample_points,
)


def sampler_settings(sc: SampleConfig) -> dict:
    out = {"steps": sc.steps, "sampler": sc.sampler, "schedule": sc.schedule, "start": sc.start}
    if sc.guidance:
        out.update({"guidance": sc.guidance, "guidance_interval": list(sc.guidance_interval)})
    return out


def sampling_model(trained: TrainedDiffusion, sc: SampleConfig):
    """The denoiser the sampler calls: guided when sample.guidance is set."""
    return guided(trained.model, sc.guidance, sc.guidance_interval)


def class_grid(cfg: DiffusionConfig) -> tuple[int, int]:
    return (cfg.data.grid_rows, cfg.data.grid_cols) if cfg.n_classes else (0, 0)


def class_labels(trained: TrainedDiffusion, n: int, klass: int | str | None = None) -> torch.Tensor | None:
    """Labels for n samples: None (unconditional), all `klass` ("none": the null class), or every class equally
    often."""
    k = trained.cfg.n_classes
    if not k:
        if klass is not None:
            raise ParameterError("klass", "this checkpoint is unconditional (it has no classes)")
        return None
    if klass == "none":
        if trained.model.null_index is None:
            raise ParameterError(
                "klass", "this checkpoint has no null class (train with train.class_dropout > 0)", "none"
            )
        return torch.full((n,), trained.model.null_index, dtype=torch.long)
    if klass is not None:
        if not 0 <= klass < k:
            raise ParameterError("klass", f"out of range, this model has classes 0..{k - 1}", klass)
        return torch.full((n,), klass, dtype=torch.long)
    return balanced_labels(n, k)


def sample_timed(
    trained: TrainedDiffusion, sc: SampleConfig, n: int, seed: int, labels, sampler=None, schedule=None, steps=None
):
    """Sample on the model's device; the points come back on the CPU with the wall time."""
    t0 = time.perf_counter()
    x = sample_points(
        sampling_model(trained, sc),
        n,
        trained.sde,
        steps or sc.steps,
        sampler or sc.sampler,
        schedule or sc.schedule,
        sc.start,
        seed,
        labels,
        sc.rho,
    ).cpu()
    return x, time.perf_counter() - t0
