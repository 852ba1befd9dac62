"""Training the eps-predicting denoiser: the exercise's full-batch loop (or minibatches), resumable."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import torch
from torch import Tensor

from gencli.core.budget import check_fits
from gencli.core.errors import GencliError, TrainingDiverged
from gencli.diffusion.config import DiffusionConfig
from gencli.diffusion.datasets import dataset_for
from gencli.diffusion.model.denoiser import Denoiser, estimated_parameters, input_width
from gencli.diffusion.model.store import with_frame
from gencli.diffusion.process.choice import process_for
from gencli.diffusion.process.flow import LinearFlow
from gencli.diffusion.process.sde import VESDE
from gencli.diffusion.quality.regions import class_moments
from gencli.diffusion.training.ema import ParameterEMA
from gencli.diffusion.training.flow_loss import flow_matching_loss
from gencli.diffusion.training.optim import Adam

EXERCISE_STD = 1 / math.sqrt(3)  # the per-dimension spread of points uniform in [-1, 1]^2


def training_set(cfg: DiffusionConfig, dataset) -> tuple[Tensor, Tensor | None]:
    """The training points (n, 2) of the set and, for the conditional model, their classes (n,)."""
    x, labels = dataset.training_points(cfg.data.n_points, cfg.data.seed)
    if not cfg.model.conditional:
        return x, None
    if labels is None:
        raise GencliError(f"--conditional: {dataset.title} has no labels (a CSV needs a label column)")
    return x, labels


def standard_frame(cfg: DiffusionConfig, dataset, x: Tensor) -> tuple[Tensor, float]:
    """(shift, scale) of the standardisation: the network sees (x - shift) / scale, which has the spread of the
    exercise's square (per-dimension std 1/sqrt(3), isotropic), and the noise schedule is scaled by the same factor.
    Off (0, 1) for the square under `auto`: its coordinates are the exercise's."""
    mode = cfg.data.standardize
    if mode == "off" or (mode == "auto" and dataset.name == "square"):
        return torch.zeros(2), 1.0
    rms = float(x.double().var(0).mean().sqrt())
    return x.double().mean(0).float(), max(rms, 1e-12) / EXERCISE_STD


def check_training_memory(cfg: DiffusionConfig) -> None:
    """Refuse, before anything is built, a config whose model or batch cannot fit in free memory: the weights with
    their gradients and Adam's two moments (and the moving average), the points, and one batch's activations kept
    for the backward pass."""
    m = cfg.model
    inputs = input_width(m, m.conditional)
    params = estimated_parameters(m)
    check_fits(params * 4 * 5, f"a denoiser of about {params:,} weights", "model.hidden", m.hidden)
    points = cfg.data.n_points
    check_fits(points * 64, f"{points:,} training points", "data.n_points", points)
    batch = cfg.train.batch_size or points
    per_point = 4 * (inputs + m.n_layers * m.hidden) * 4  # activations, their gradients, the optimizer's temporaries
    check_fits(batch * per_point, f"a batch of {batch:,} points", "train.batch_size", batch)


def untrained_process(cfg: DiffusionConfig) -> tuple[VESDE | LinearFlow, object]:
    """The forward process and data set a config describes, without a model (U1 needs no checkpoint)."""
    dataset = dataset_for(cfg.data)
    x, _ = dataset.training_points(cfg.data.n_points, cfg.data.seed)
    shift, scale = standard_frame(cfg, dataset, x)
    return process_for(cfg, scale, shift.tolist()), dataset


def resolve_classes(cfg: DiffusionConfig, dataset) -> DiffusionConfig:
    """The config with model.n_classes set from the data (the conditional model's class count is the set's)."""
    if not cfg.model.conditional:
        return cfg
    k = dataset.n_classes
    if cfg.model.n_classes not in (0, k):
        raise GencliError(f"model.n_classes: {cfg.model.n_classes}, but the data has {k} classes")
    return dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, n_classes=k))


def build_model(cfg: DiffusionConfig) -> Denoiser:
    """A freshly initialised denoiser, its weights drawn from train.seed (torch's global generator is left as it
    was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.train.seed)
        return Denoiser(cfg.model, cfg.n_classes, cfg.null_class)


def denoising_loss(
    model: Denoiser,
    x0: Tensor,
    labels: Tensor | None,
    sde: VESDE,
    gen: torch.Generator,
    class_dropout: float = 0.0,
) -> Tensor:
    """mean ||D(x_t, t[, c]) - eps||^2 with eps ~ N(0, I), t ~ U(0, 1) drawn per point.

    With class_dropout p, each point's class is replaced by the null class with probability p
    (classifier-free guidance training, Ho and Salimans 2022).
    """
    t = torch.rand(x0.shape[0], generator=gen).to(x0.device)  # drawn on the CPU: the same on every device
    eps = torch.randn(x0.shape, generator=gen).to(x0.device)
    if labels is not None and class_dropout > 0:
        drop = (torch.rand(x0.shape[0], generator=gen) < class_dropout).to(x0.device)
        labels = labels.masked_fill(drop, model.null_index)
    return ((model(sde.perturb(x0, t, eps), t, labels) - eps) ** 2).mean()


def cosine_lr(lr: float, step: int, steps: int) -> float:
    """lr (1 + cos(pi step / steps)) / 2: a cosine decay from lr to 0 over `steps` (Loshchilov and Hutter 2017)."""
    return lr * 0.5 * (1 + math.cos(math.pi * min(step, steps) / steps))


class DiffusionTrainer:
    """Holds everything a run needs to continue: model, optimizer, epoch, losses, RNG.

    `run()` can be interrupted (Ctrl-C) and `state_dict()` still describes a
    consistent point to resume from.
    """

    def __init__(self, cfg: DiffusionConfig, device: torch.device | str = "cpu", dataset=None):
        self.dataset = dataset if dataset is not None else dataset_for(cfg.data)
        cfg = resolve_classes(cfg, self.dataset)
        self.cfg = cfg
        self.device = torch.device(device)
        x, labels = training_set(cfg, self.dataset)
        if cfg.train.batch_size > len(x):
            raise GencliError(f"train.batch_size: {cfg.train.batch_size} is more than the {len(x):,} training points")
        shift, scale = standard_frame(cfg, self.dataset, x)
        self.sde = process_for(cfg, scale, shift.tolist())
        self.model = build_model(cfg)
        self.model.input_shift.copy_(shift)
        self.model.input_scale.fill_(scale)
        mean, var = class_moments(x, labels, cfg.n_classes)
        if cfg.null_class:  # the null class starts from the moments of all the data
            mean, var = torch.cat([mean, x.mean(0, keepdim=True)]), torch.cat([var, x.var(0, keepdim=True)])
        self.model.data_mean.copy_(mean)
        self.model.data_var.copy_(var)
        self.model.to(self.device)
        self.x = x.to(self.device)
        self.labels = labels.to(self.device) if labels is not None else None
        self.optimizer = Adam(self.model.parameters(), lr=cfg.train.lr)
        # the weights used for sampling: ema <- (1 - a) ema + a params after each step, from the initial weights
        self.ema = ParameterEMA(self.model, cfg.train.ema)
        self.gen = torch.Generator().manual_seed(cfg.train.seed + 1)
        self.epoch = 0
        self.losses: list[float] = []
        self.wall_s = 0.0

    def run(self, epochs: int, on_step: Callable[[int, float], None] | None = None) -> None:
        """Train until `epochs` optimizer steps are done in total."""
        start = time.perf_counter()
        try:
            while self.epoch < epochs:
                gen_state = self.gen.get_state()
                try:
                    x, labels = self.batch()
                    loss = self.loss(x, labels)
                    value = loss.item()
                    if not math.isfinite(value):
                        raise TrainingDiverged(
                            f"loss became {value} at epoch {self.epoch + 1}; lower train.lr (now {self.cfg.train.lr})"
                        )
                    self.optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                except KeyboardInterrupt:  # before the update: leave the state, noise RNG too, as it was
                    self.gen.set_state(gen_state)
                    raise
                if self.cfg.train.lr_schedule == "cosine":
                    self.optimizer.lr = cosine_lr(self.cfg.train.lr, self.epoch, self.cfg.train.epochs)
                self.optimizer.step()
                if self.cfg.train.ema > 0:
                    self.ema.update()
                self.epoch += 1
                self.losses.append(value)
                if on_step is not None:
                    on_step(self.epoch, value)
        finally:
            self.wall_s += time.perf_counter() - start

    def loss(self, x: Tensor, labels: Tensor | None) -> Tensor:
        """The objective's loss on one batch: eps-prediction under the VE-SDE, or flow matching."""
        dropout = self.cfg.train.class_dropout
        if self.cfg.is_flow:
            ot = self.cfg.model.objective == "flow-ot"
            return flow_matching_loss(self.model, x, labels, self.sde, self.gen, dropout, ot)
        return denoising_loss(self.model, x, labels, self.sde, self.gen, dropout)

    def batch(self) -> tuple[Tensor, Tensor | None]:
        """The points of this step: all of them (full batch), or train.batch_size drawn with replacement."""
        b = self.cfg.train.batch_size
        if b <= 0 or b >= len(self.x):
            return self.x, self.labels
        idx = torch.randint(len(self.x), (b,), generator=self.gen).to(self.x.device)
        return self.x[idx], (self.labels[idx] if self.labels is not None else None)

    def sampling_weights(self) -> dict[str, Tensor]:
        """The weights to sample with: the moving average when enabled, else the current ones."""
        state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        if self.cfg.train.ema > 0:
            state.update({n: p.detach().clone() for n, p in self.ema.module.named_parameters()})
        return state

    def state_dict(self) -> dict:
        """The resumable state: tensors and builtins only (safe with weights_only=True)."""
        return {
            "epoch": self.epoch,
            "model": {k: v.detach().clone() for k, v in self.model.state_dict().items()},
            "ema": [p.detach().clone() for p in self.ema.module.parameters()],
            "optimizer": self.optimizer.state_dict(),
            "losses": torch.tensor(self.losses, dtype=torch.float64),
            "generator": self.gen.get_state(),
            "wall_s": self.wall_s,
        }

    def load_state_dict(self, state: dict) -> None:
        """Continue from a checkpoint's train state."""
        self.model.load_state_dict(with_frame(state["model"]))
        with torch.no_grad():
            for p, saved in zip(self.ema.module.parameters(), state["ema"]):
                p.copy_(saved)
        self.optimizer.load_state_dict(state["optimizer"])
        self.epoch = int(state["epoch"])
        self.losses = state["losses"].tolist()
        self.gen.set_state(state["generator"])
        self.wall_s = float(state.get("wall_s", 0.0))
