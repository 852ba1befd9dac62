"""The diffusion model's typed config (defaults are the course exercise's settings)."""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass
from typing import Literal

from gencli.core.config import ConfigSources, excerpt, field
from gencli.core.errors import ParameterError
from gencli.diffusion.datasets.catalog import DEFAULT as DEFAULT_DATASET
from gencli.diffusion.datasets.catalog import is_builtin as is_builtin_dataset
from gencli.diffusion.datasets.catalog import names as dataset_names
from gencli.diffusion.sampling.steps import ALL_SAMPLER_NAMES, sampler_help

Sampler = Literal[ALL_SAMPLER_NAMES]  # the registered samplers, in the order of gencli/diffusion/sampling/steps.py
Objective = Literal["vesde", "flow", "flow-ot"]
Schedule = Literal["uniform", "karras"]
Start = Literal["matched", "standard"]


def sampler_pairs(items: list[str], param: str = "compare") -> list[tuple[str, str]]:
    """'euler/uniform', 'heun/karras', ... as (sampler, schedule) pairs (the schedule defaults to uniform)."""
    samplers, schedules = typing.get_args(Sampler), typing.get_args(Schedule)
    pairs = []
    for item in filter(None, (i.strip() for i in items)):
        s, _, g = item.partition("/")
        if s not in samplers or (g or "uniform") not in schedules:
            raise ParameterError(
                param,
                f"expected SAMPLER/SCHEDULE with SAMPLER one of {', '.join(samplers)} "
                f"and SCHEDULE one of {', '.join(schedules)}",
                repr(item),
            )
        pairs.append((s, g or "uniform"))
    if not pairs:
        raise ParameterError(
            param, "expected SAMPLER/SCHEDULE pairs, e.g. euler/uniform,heun/karras", repr(",".join(items))
        )
    return pairs


@dataclass
class DataConfig:
    """The training points: a built-in 2D set drawn from a seed, or your own points from a CSV file."""

    name: str = field(
        DEFAULT_DATASET, f"a built-in set ({dataset_names()}) or a CSV file of x,y[,label] rows with a header"
    )
    n_points: int = field(3000, "number of training points of a built-in set (the exercise uses 1000 to 3000)")
    seed: int = field(0, "seed of the training points (of a file: of its split into training and held-out points)")
    holdout: float = field(0.1, "a file's share of points held out from training, to measure samples against")
    standardize: Literal["auto", "on", "off"] = field(
        "auto",
        "on: the model sees the points centred and scaled to the spread of the exercise's square (its noise "
        "schedule scales with them); auto: on for every set but the square, whose coordinates are the exercise's",
    )
    half_width: float = field(1.0, "the square: [-half_width, half_width]^2")
    grid_rows: int = field(3, "the square: rows of the class grid (conditional model); class = cols * row + col")
    grid_cols: int = field(3, "the square: columns of the class grid (conditional model)")

    @property
    def is_file(self) -> bool:
        """True when the points come from a file (not a built-in set)."""
        return not is_builtin_dataset(self.name)

    def problems(self) -> list[str]:
        out = []
        if self.is_file and not self.name.lower().endswith(".csv"):
            out.append(f"name: must be one of {dataset_names()} or a .csv file, got {excerpt(self.name)}")
        if self.n_points < 2:
            out.append(f"n_points: must be >= 2, got {self.n_points}")
        if not 0 < self.holdout < 1:
            out.append(f"holdout: must be in (0, 1), got {self.holdout}")
        if not (self.half_width > 0 and math.isfinite(self.half_width)):
            out.append(f"half_width: must be > 0, got {self.half_width}")
        if self.grid_rows < 1 or self.grid_cols < 1 or self.grid_rows * self.grid_cols < 5:
            out.append(f"grid_rows x grid_cols: need at least 5 classes, got {self.grid_rows}x{self.grid_cols}")
        return out


@dataclass
class ModelConfig:
    """A small fully connected network D(x_t, t[, c]): the noise eps (VE-SDE) or the velocity (flow) it predicts."""

    objective: Objective = field(
        "vesde",
        "vesde: eps-prediction under the VE SDE (the exercise); flow: flow matching on the straight path "
        "x_s = (1 - s) x0 + s x1 from N(0, I) to the data, predicting the velocity x1 - x0; flow-ot: the same with "
        "minibatch optimal-transport pairs of noise and data (within each class for the conditional model)",
    )
    conditional: bool = field(False, "add a class Embedding (class-conditional model)")
    hidden: int = field(64, "width of the hidden layers (the conditional model's default is 128)")
    n_layers: int = field(3, "number of fully connected layers (2 or more)")
    fourier: int = field(
        0,
        "random Fourier features of the point fed beside it (sin and cos of each; 0: none, the "
        "exercise's plain (x, y, t) input)",
    )
    fourier_scale: float = field(1.0, "the features' frequency spread, in cycles per unit of the standardised data")
    class_dim: int = field(16, "size of the class embedding (conditional model)")
    n_classes: int = field(
        0, "classes of the conditional model: set from the data when it is trained (0: from the data)"
    )

    def problems(self) -> list[str]:
        out = []
        if self.hidden < 1:
            out.append(f"hidden: must be >= 1, got {self.hidden}")
        if self.n_layers < 2:
            out.append(f"n_layers: must be >= 2, got {self.n_layers}")
        if not 0 <= self.fourier <= 1024:
            out.append(f"fourier: must be in 0..1024, got {self.fourier}")
        if not (self.fourier_scale > 0 and math.isfinite(self.fourier_scale)):
            out.append(f"fourier_scale: must be > 0, got {self.fourier_scale}")
        if self.class_dim < 1:
            out.append(f"class_dim: must be >= 1, got {self.class_dim}")
        return out


@dataclass
class SDEConfig:
    """sigma(t) = sigma_min^(1-t) * sigma_max^t; the exercise's exp(5 (t - 1)) is the default."""

    sigma_min: float = field(math.exp(-5.0), "sigma(0)")
    sigma_max: float = field(1.0, "sigma(1)")

    def problems(self) -> list[str]:
        out = []
        if not (self.sigma_min > 0 and math.isfinite(self.sigma_min)):
            out.append(f"sigma_min: the sigma schedule must be positive, got {self.sigma_min}")
        if not (self.sigma_max > 0 and math.isfinite(self.sigma_max)):
            out.append(f"sigma_max: the sigma schedule must be positive, got {self.sigma_max}")
        if not out and self.sigma_max <= self.sigma_min:
            out.append(f"sigma_max: must exceed sigma_min ({self.sigma_min}), got {self.sigma_max}")
        return out


@dataclass
class TrainConfig:
    """Full-batch Adam on the eps-prediction loss."""

    epochs: int = field(3000, "optimizer steps: full-batch epochs, or minibatch steps with batch_size > 0")
    batch_size: int = field(0, "points per step (0: all of them, the exercise's full batch)")
    lr_schedule: Literal["constant", "cosine"] = field(
        "constant", "the learning rate: constant (the exercise's), or a cosine decay to 0 over train.epochs"
    )
    lr: float = field(5e-3, "Adam learning rate (the exercise uses 1e-3; the conditional model's default is 3e-3)")
    ema: float = field(
        0.005, "weight of each step in an exponential moving average of the weights used for sampling (0: off)"
    )
    seed: int = field(0, "seed of the weights and of the training noise")
    class_dropout: float = field(
        0.0,
        "probability that a training point's class is replaced by the null class, so that the conditional model "
        "also predicts unconditionally (classifier-free guidance, Ho and Salimans 2022)",
    )

    def problems(self) -> list[str]:
        out = []
        if not 0 <= self.class_dropout < 1:
            out.append(f"class_dropout: must be in [0, 1), got {self.class_dropout}")
        if self.epochs < 1:
            out.append(f"epochs: must be >= 1, got {self.epochs}")
        if self.batch_size < 0:
            out.append(f"batch_size: must be >= 0 (0: full batch), got {self.batch_size}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            out.append(f"lr: must be > 0, got {self.lr}")
        if not 0 <= self.ema <= 1:
            out.append(f"ema: must be in [0, 1], got {self.ema}")
        return out


@dataclass
class SampleConfig:
    """Defaults of the samplers (each also a command-line option)."""

    steps: int = field(1000, "number of reverse steps T")
    sampler: Sampler = field("euler", sampler_help())
    schedule: Schedule = field("uniform", "time grid: uniform in t (exercise) or Karras et al. 2022 eq. 5 in sigma")
    rho: float = field(7.0, "rho of the Karras time grid")
    start: Start = field(
        "matched",
        "initial noise: matched N(mean, (sigma_max^2 + var) I) of the data (per class if conditional), "
        "or standard N(0, I) as in the exercise",
    )

    guidance: float = field(
        0.0,
        "classifier-free guidance weight W: eps = (1 + W) eps(x, t, c) - W eps(x, t, null); 0 is plain conditional "
        "sampling (needs a conditional model trained with train.class_dropout > 0)",
    )
    guidance_interval: list[float] = field(
        [0.0, 0.4],
        "the times [lo, hi] in which guidance applies (Kynkaanniemi et al. 2024); outside, plain conditional. "
        "Guidance at high noise collapses each class to its cell's centre; [0, 0.4] (sigma <= 0.05) keeps the spread",
    )

    def problems(self) -> list[str]:
        out = []
        if self.steps < 1:
            out.append(f"steps: must be >= 1, got {self.steps}")
        if not self.rho > 0:
            out.append(f"rho: must be > 0, got {self.rho}")
        if not (self.guidance >= 0 and math.isfinite(self.guidance)):
            out.append(f"guidance: must be >= 0, got {self.guidance}")
        lo_hi = self.guidance_interval
        if len(lo_hi) != 2 or not 0 <= lo_hi[0] < lo_hi[1] <= 1:
            out.append(f"guidance_interval: must be [lo, hi] with 0 <= lo < hi <= 1, got {lo_hi}")
        return out


@dataclass
class DiffusionConfig:
    """Everything a diffusion checkpoint needs to be rebuilt and sampled."""

    data: DataConfig = field(DataConfig(), "training data")
    model: ModelConfig = field(ModelConfig(), "denoiser network")
    sde: SDEConfig = field(SDEConfig(), "noise schedule")
    train: TrainConfig = field(TrainConfig(), "training")
    sample: SampleConfig = field(SampleConfig(), "sampling defaults")

    @property
    def n_classes(self) -> int:
        """Classes of the conditional model (0 for the unconditional one): as trained, else the square's grid."""
        if not self.model.conditional:
            return 0
        return self.model.n_classes or self.data.grid_rows * self.data.grid_cols

    @property
    def is_flow(self) -> bool:
        """True for a flow-matching model (flow or flow-ot)."""
        return self.model.objective != "vesde"

    @property
    def null_class(self) -> bool:
        """True when the model has a null class (conditional, trained with class dropout)."""
        return bool(self.n_classes) and self.train.class_dropout > 0


# Defaults of the conditional model where they differ from the unconditional one's (chosen by measurement,
# see the README): they sit between the built-in defaults and a YAML file, so every source can override them.
CONDITIONAL_DEFAULTS: dict = {"model": {"hidden": 128}, "train": {"epochs": 8000, "lr": 3e-3, "class_dropout": 0.2}}

# Defaults for every set but the exercise's square, chosen by measurement on shapes no built-in has (star, smiley,
# clusters) and on the built-ins (docs/defaults.md, bench/diffusion_sets.py): a wider net (three layers, as
# the square's) that also sees random Fourier features of the point, 16,000 minibatch steps with a cosine decay. The
# square keeps the exercise's recipe; these sit where the conditional defaults sit.
SET_DEFAULTS: dict = {
    "data": {"n_points": 20000},
    "model": {"hidden": 128, "fourier": 32},
    "train": {"epochs": 16000, "batch_size": 1024, "lr": 3e-3, "lr_schedule": "cosine", "ema": 0.0},
}
SET_CONDITIONAL_DEFAULTS: dict = {"train": {"class_dropout": 0.2}}


# A flow model's defaults, over the set's (chosen by measurement, bench/flow_recipe.py, docs/benchmarks.md): small
# minibatches (the exact OT assignment of a batch costs O(B^3): 128 points take 3 ms, 256 take 14 ms, and on the
# square and moons 128 sampled as well or better), a cosine decay, 4,000 steps (the square: 2,000 at lr 5e-3), and
# sampling from N(0, I) with 32 Euler steps (flow-ot is as good at 8; plain flow's curved paths need more).
FLOW_DEFAULTS: dict = {
    "train": {"batch_size": 128, "epochs": 4000, "lr_schedule": "cosine", "ema": 0.0},
    "sample": {"start": "standard", "steps": 32},
}
FLOW_SQUARE_DEFAULTS: dict = {"model": {"hidden": 128}, "train": {"epochs": 2000, "lr": 5e-3}}
# The conditional flow pairs within each class, so its batches are larger (256: about 28 points per class of the
# square's nine); on the square it keeps the conditional model's 8,000 steps at lr 3e-3 (own cell 0.992 at 8 Euler
# steps, against 0.948 with the unconditional recipe; bench/flow_recipe.py --conditional).
FLOW_CONDITIONAL_DEFAULTS: dict = {"train": {"batch_size": 256}}


def default_layer(data_name: str, conditional: bool, objective: str = "vesde") -> dict:
    """The defaults between the built-in ones and a YAML file: the conditional square's, or any other set's, and a
    flow model's over either."""
    if data_name != DEFAULT_DATASET:
        layer = {k: dict(v) for k, v in SET_DEFAULTS.items()}
        if conditional:
            layer["train"].update(SET_CONDITIONAL_DEFAULTS["train"])
    else:
        layer = {k: dict(v) for k, v in (CONDITIONAL_DEFAULTS if conditional else {}).items()}
    if objective != "vesde":
        extra = [FLOW_DEFAULTS]
        if conditional:
            extra.append(FLOW_CONDITIONAL_DEFAULTS)
            if data_name == DEFAULT_DATASET:  # the conditional square's own steps and lr stay
                extra.append({"train": {"epochs": CONDITIONAL_DEFAULTS["train"]["epochs"]}})
        elif data_name == DEFAULT_DATASET:
            extra.append(FLOW_SQUARE_DEFAULTS)
        for part in extra:
            for section, values in part.items():
                layer.setdefault(section, {}).update(values)
    return layer


def resolve_diffusion(sources: ConfigSources = ConfigSources(), base: dict | None = None) -> DiffusionConfig:
    """The config from defaults < the set's, the conditional model's or the flow's defaults < base < YAML < --set
    < explicit."""
    first = sources.resolve(DiffusionConfig, base)
    if base is not None:
        return first
    layer = default_layer(first.data.name, first.model.conditional, first.model.objective)
    return sources.resolve(DiffusionConfig, layer) if layer else first
