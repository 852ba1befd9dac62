"""What the diffusion analyses share: the sampler settings of a result, the (guided) model a sampler calls, the
class labels of a sampling, timed sampling, the training points, and the quality of samples against the data."""

from __future__ import annotations

import time

import torch

from gencli.core.errors import ParameterError
from gencli.diffusion.config import SampleConfig
from gencli.diffusion.model.guidance import guided
from gencli.diffusion.model.store import TrainedDiffusion
from gencli.diffusion.quality.measure import measure
from gencli.diffusion.results.quality import SampleQuality
from gencli.diffusion.sampling.applies import check_applies, check_sample_config
from gencli.diffusion.sampling.samplers import (
    sample_points,
    weighted_labels,
)
from gencli.diffusion.training.trainer import training_set


def sampler_settings(sc: SampleConfig) -> dict:
    out = {"steps": sc.steps, "sampler": sc.sampler, "schedule": sc.schedule, "start": sc.start}
    if sc.guidance:
        out.update({"guidance": sc.guidance, "guidance_interval": list(sc.guidance_interval)})
    return out


def sampling_model(trained: TrainedDiffusion, sc: SampleConfig):
    """The denoiser the sampler calls: guided when sample.guidance is set (refusing settings the model's objective
    cannot use)."""
    check_sample_config(trained.cfg.model.objective, sc)
    return guided(trained.model, sc.guidance, sc.guidance_interval)


def training_points(trained: TrainedDiffusion):
    """The checkpoint's training points (n, 2) and, for the conditional model, their classes."""
    return training_set(trained.cfg, trained.dataset)


def quality_of(trained: TrainedDiffusion, x: torch.Tensor, klass: int | str | None = None) -> SampleQuality:
    """The quality of samples against fresh data of the checkpoint's set, or of class `klass` alone."""
    data = trained.dataset.of_class(klass) if isinstance(klass, int) else trained.dataset
    return measure(x, data)


def class_labels(trained: TrainedDiffusion, n: int, klass: int | str | None = None) -> torch.Tensor | None:
    """Labels for n samples: None (unconditional), all `klass` ("none": the null class), or every class as often as
    the data has it (the built-in sets: equally often)."""
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
    return weighted_labels(n, trained.dataset.class_weights())


def sample_timed(
    trained: TrainedDiffusion, sc: SampleConfig, n: int, seed: int, labels, sampler=None, schedule=None, steps=None
):
    """Sample on the model's device; the points come back on the CPU with the wall time."""
    check_applies(trained.cfg.model.objective, sampler, schedule)
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
