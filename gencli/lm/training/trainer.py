"""Training the GPT on a token stream: random windows, AdamW, the measured numeric path, best-by-validation."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from gencli.core.errors import TrainingDiverged
from gencli.lm.config import LMConfig
from gencli.lm.model.gpt import GPT, build_gpt
from gencli.lm.training.distributed import Distributed
from gencli.lm.training.numeric_path import (
    NumericPath,
    PathChoice,
    candidates,
    choose,
    default_cache,
)

TIMING_SEED = 7  # the batch and dropout masks of the path measurement (never the run's own generators)
EVAL_SEED = 12345  # the fixed windows every validation estimate uses


def learning_rate(step: int, cfg: LMConfig) -> float:
    """The learning rate of optimizer step `step` (0-based): linear warmup over train.warmup_iters, then constant or
    a cosine decay to train.min_lr (at most train.lr) at train.max_iters (Loshchilov and Hutter 2017, no restarts)."""
    b = cfg.train
    if step < b.warmup_iters:
        return b.lr * (step + 1) / b.warmup_iters
    if b.lr_schedule == "constant":
        return b.lr
    span = max(1, b.max_iters - b.warmup_iters)
    progress = min(1.0, (step - b.warmup_iters) / span)
    floor = min(b.min_lr, b.lr)
    return floor + 0.5 * (b.lr - floor) * (1 + math.cos(math.pi * progress))


def get_batch(data: Tensor, block: int, batch: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """Example i is data[i : i+block], its target data[i+1 : i+block+1], for random i."""
    ix = torch.randint(len(data) - block, (batch,), generator=gen)
    offsets = torch.arange(block)
    x = data[ix[:, None] + offsets].long()  # (B, T); the corpus may be held as int32
    y = data[ix[:, None] + offsets + 1].long()  # (B, T)
    return x, y


def autocast(device: torch.device, dtype: torch.dtype | None):
    """torch.autocast to `dtype` on the device, or nothing for fp32 (None)."""
    return nullcontext() if dtype is None else torch.autocast(device.type, dtype=dtype)


@dataclass
class History:
    steps: list[int] = field(default_factory=list)
    train: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    eval_train: list[float] = field(default_factory=list)
    eval_val: list[float] = field(default_factory=list)


class LMTrainer:
    """Everything a run needs to continue; `state_dict()` is consistent after any step."""

    def __init__(
        self,
        cfg: LMConfig,
        vocab_size: int,
        train: Tensor,
        val: Tensor,
        device: torch.device,
        dist: Distributed | None = None,
        stream: Tensor | None = None,
    ):
        """`train` and `val` are the evaluated token splits; batches come from `stream` (default: `train`)."""
        self.dist = dist or Distributed.single(device)
        self.cfg, self.device = cfg, self.dist.device
        device = self.device
        self.shard = self.dist.shard(cfg.train.batch_size, cfg.train.grad_accum)
        self.train_data, self.val_data = train, val
        self.stream = train if stream is None else stream
        self.model = build_gpt(cfg, vocab_size).to(device)
        self.net = self.dist.wrap(self.model)  # what training calls: DistributedDataParallel with several processes
        decay = [p for n, p in self.model.named_parameters() if p.dim() >= 2]
        no_decay = [p for n, p in self.model.named_parameters() if p.dim() < 2]
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": cfg.train.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=cfg.train.lr,
            betas=(0.9, 0.95),
            **({"fused": True} if cfg.train.fused_adamw and device.type in ("cpu", "cuda") else {}),
        )
        # Polyak averaging: average <- (1 - a) average + a weights after each step (the first step copies)
        self.average = None
        if cfg.train.ema > 0:
            self.average = AveragedModel(self.model, multi_avg_fn=get_ema_multi_avg_fn(1.0 - cfg.train.ema))
            self.average.module.eval()
        self.gen = torch.Generator().manual_seed(cfg.train.seed + 1)
        self.dropout_gen = torch.Generator().manual_seed(cfg.train.seed + 2)  # every dropout mask of training
        self.model.use_generator(self.dropout_gen)
        self.path_choice: PathChoice | None = None  # settled by choose_path() before the first step
        self.path_cache = default_cache()
        self.step = 0
        self.history = History()
        self.best_val = math.inf
        self.best_step = 0
        self.best_weights: dict[str, Tensor] | None = None
        self.train_s = 0.0

    @property
    def path(self) -> NumericPath:
        return self.choose_path().path

    @property
    def dtype(self) -> torch.dtype | None:
        """The autocast dtype (None: fp32)."""
        return torch.bfloat16 if self.path.precision == "bf16" else None

    @property
    def explicit(self) -> bool:
        return self.path.attention == "explicit"

    def choose_path(self, clock=time.perf_counter) -> PathChoice:
        """The numeric path (train.precision, train.attention; `auto` measured once per machine and shape)."""
        if self.path_choice is None:
            b, (n_layer, n_head, n_embd) = self.cfg.train, self.cfg.model.sizes()
            shape = {
                "n_layer": n_layer,
                "n_head": n_head,
                "n_embd": n_embd,
                "block": self.cfg.model.block_size,
                "rows": self.shard,
                "vocab": self.model.shape.vocab_size,
                "dropout": self.cfg.model.dropout,
                "attn_dropout": self.cfg.model.attn_dropout,
                "attn_mode": self.cfg.model.attn_dropout_mode,
            }
            choice = (
                choose(
                    b.precision,
                    b.attention,
                    self.device,
                    shape,
                    self.shard * self.cfg.model.block_size,
                    self._timing_step(),
                    self.path_cache,
                    clock,
                )
                if self.dist.is_main
                else None
            )
            if self.dist.world > 1:  # one process measures, every one trains on its answer
                paths = candidates(b.precision, b.attention)
                index = self.dist.main_index(paths.index(choice.path) if choice is not None else 0)
                choice = choice or PathChoice(paths[index], "chosen by the main process")
            self.path_choice = choice
        return self.path_choice

    def _timing_step(self):
        """One forward and backward pass on a candidate path, on a copy of the model (the run's weights, optimizer
        and generators are untouched)."""
        state: dict = {}

        def step(path: NumericPath) -> None:
            if not state:
                model = copy.deepcopy(self.model).train()
                model.use_generator(torch.Generator().manual_seed(TIMING_SEED))
                x, y = get_batch(
                    self.stream, self.cfg.model.block_size, self.shard, torch.Generator().manual_seed(TIMING_SEED)
                )
                state.update(model=model, x=x.to(self.device), y=y.to(self.device))
            model = state["model"]
            with torch.enable_grad(), autocast(self.device, torch.bfloat16 if path.precision == "bf16" else None):
                logits = model(state["x"], explicit=path.attention == "explicit")
                F.cross_entropy(logits.float().flatten(0, 1), state["y"].flatten()).backward()
            for p in model.parameters():
                p.grad = None

        return step

    def _autocast(self):
        return autocast(self.device, self.dtype)

    @property
    def eval_model(self) -> GPT:
        """The weights that are evaluated and saved: the moving average when train.ema > 0, else the current ones."""
        return self.average.module if self.average is not None else self.model

    def weights(self) -> dict[str, Tensor]:
        """The current evaluated weights on the CPU (last.safetensors)."""
        return {k: v.detach().clone().cpu() for k, v in self.eval_model.state_dict().items()}

    def loss(self, x: Tensor, y: Tensor, net: torch.nn.Module | None = None) -> Tensor:
        """Mean next-token cross-entropy of `net` (default: the training network) on a batch."""
        net = self.net if net is None else net
        with self._autocast():
            logits = net(x.to(self.device), explicit=self.explicit)  # (B, T, V)
        return F.cross_entropy(logits.float().flatten(0, 1), y.to(self.device).flatten())

    def _rows(self, micro: int, per: int) -> slice:
        """This process's rows of the global batch in micro-step `micro`: every row belongs to one (micro, rank)."""
        start = (micro * self.dist.world + self.dist.rank) * per
        return slice(start, start + per)

    @torch.no_grad()
    def estimate(self, data: Tensor, batches: int | None = None) -> float:
        """Mean loss over `batches` (default: eval_batches) batches of fixed windows (the same windows every
        time), split across the processes."""
        model = self.eval_model
        model.eval()
        gen = torch.Generator().manual_seed(EVAL_SEED)
        b = self.cfg.train
        per = b.batch_size // self.dist.world
        losses = []
        for _ in range(b.eval_batches if batches is None else batches):
            x, y = get_batch(data, self.cfg.model.block_size, b.batch_size, gen)
            rows = self._rows(0, per)
            losses.append(self.loss(x[rows], y[rows], model).item())
        self.model.train()
        return self.dist.mean(sum(losses) / len(losses))

    def evaluate(self) -> float:
        val = self.estimate(self.val_data)
        train = self.estimate(self.train_data, self.cfg.train.eval_train_batches)  # a cheaper curve than validation's
        h = self.history
        h.eval_steps.append(self.step)
        h.eval_train.append(train)
        h.eval_val.append(val)
        if val < self.best_val:
            self.best_val, self.best_step = val, self.step
            self.best_weights = self.weights()
        return val

    def run(
        self,
        max_iters: int,
        on_step: Callable[[int, float, float | None], None] | None = None,
        eval_at_end: bool = True,
    ) -> None:
        """Train until `max_iters` steps in total, evaluating every eval_every steps and (by default) at the end.

        With train.patience > 0, stop early once that many evaluations in a row brought no new
        best validation loss.
        """
        b = self.cfg.train
        self.model.train()
        if (
            self.step
            and self.step % b.eval_every == 0
            and (not self.history.eval_steps or self.history.eval_steps[-1] != self.step)
        ):
            self.evaluate()  # an interrupt came during this step's evaluation; do it now, as one run would have
        while self.step < max_iters and not self.out_of_patience():
            value = self._step()
            at_end = eval_at_end and self.step == max_iters
            val = self.evaluate() if (self.step % b.eval_every == 0 or at_end) else None
            if on_step is not None:
                on_step(self.step, value, val)

    def out_of_patience(self) -> bool:
        """True when train.patience evaluations in a row have not improved on the best validation loss."""
        p = self.cfg.train.patience
        return p > 0 and sum(s > self.best_step for s in self.history.eval_steps) >= p

    def _step(self) -> float:
        """One optimizer step; an interrupt before the update leaves the state (data RNG too) as it was."""
        b = self.cfg.train
        t0 = time.perf_counter()
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate(self.step, self.cfg)
        gen_state, dropout_state = self.gen.get_state(), self.dropout_gen.get_state()
        try:
            # every process draws the same global batch and trains on its own rows of it
            x, y = get_batch(self.stream, self.cfg.model.block_size, b.batch_size, self.gen)
            self.optimizer.zero_grad(set_to_none=True)
            value = 0.0
            for micro in range(b.grad_accum):
                rows = self._rows(micro, self.shard)
                last = micro == b.grad_accum - 1
                with nullcontext() if last or self.dist.world == 1 else self.net.no_sync():  # sync gradients once
                    loss = self.loss(x[rows], y[rows])
                    (loss / b.grad_accum).backward()
                value += loss.item() / b.grad_accum
            value = self.dist.mean(value)
            if not math.isfinite(value):
                raise TrainingDiverged(f"loss became {value} at step {self.step + 1}; lower train.lr (now {b.lr})")
            if b.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), b.grad_clip)
        except KeyboardInterrupt:
            self.gen.set_state(gen_state)
            self.dropout_gen.set_state(dropout_state)
            raise
        self.optimizer.step()
        if self.average is not None:
            self.average.update_parameters(self.model)
        self.train_s += time.perf_counter() - t0
        self.step += 1
        self.history.steps.append(self.step)
        self.history.train.append(value)
        return value

    def tokens_per_s(self) -> float:
        steps = len(self.history.steps)
        return steps * self.cfg.train.batch_size * self.cfg.model.block_size / self.train_s if self.train_s else 0.0

    def state_dict(self) -> dict:
        """Resumable state: tensors and builtins only (safe with weights_only=True)."""
        h = self.history
        averaged = {}
        if self.average is not None:  # last.safetensors holds the average; resuming needs the weights too
            averaged = {
                "weights": {k: v.detach().clone().cpu() for k, v in self.model.state_dict().items()},
                "n_averaged": int(self.average.n_averaged),
            }
        return {
            **averaged,
            "step": self.step,
            "optimizer": self.optimizer.state_dict(),
            "generator": self.gen.get_state(),
            "dropout_generator": self.dropout_gen.get_state(),
            "path": self.path.name,
            "history": {k: torch.tensor(getattr(h, k), dtype=torch.float64) for k in vars(h)},
            "best_val": self.best_val,
            "best_step": self.best_step,
            "train_s": self.train_s,
        }

    def load_state_dict(self, last: dict[str, Tensor], best: dict[str, Tensor], state: dict) -> None:
        self.model.load_state_dict(state.get("weights", last))  # "weights": saved when last holds an average
        if self.average is not None:
            self.average.module.load_state_dict(last)
            self.average.n_averaged.fill_(int(state.get("n_averaged", 1)))
        self.optimizer.load_state_dict(state["optimizer"])
        self.gen.set_state(state["generator"])
        if "dropout_generator" in state:
            self.dropout_gen.set_state(state["dropout_generator"])
        if "path" in state and self.path_choice is None:  # a resumed run keeps the numeric path it started on
            saved = NumericPath.parse(state["path"])
            if saved in candidates(self.cfg.train.precision, self.cfg.train.attention):
                self.path_choice = PathChoice(saved, "resumed")
        self.step = int(state["step"])
        self.history = History(
            **{
                k: [int(v) for v in t.tolist()] if k.endswith("steps") else t.tolist()
                for k, t in state["history"].items()
            }
        )
        self.best_val, self.best_step = float(state["best_val"]), int(state["best_step"])
        self.best_weights = best
        self.train_s = float(state["train_s"])


def bits_per_byte(loss_nats: float, n_tokens: int, n_bytes: int) -> float:
    """Loss in bits per byte of text: nats/token x tokens/byte / ln 2 (comparable across tokenizers)."""
    return loss_nats * n_tokens / n_bytes / math.log(2)
