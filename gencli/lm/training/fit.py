"""Train a language-model checkpoint end to end: corpus, tokenizer, resume, run, save with its figures."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gencli.checkpoint.lock import writer_lock
from gencli.checkpoint.save import save_checkpoint
from gencli.checkpoint.training import check_writable_target, training_into
from gencli.core.config import ConfigError, ConfigSources, require_unchanged, to_dict
from gencli.core.datafiles import FigureWriter, result_files
from gencli.core.errors import GencliError
from gencli.lm.config import LMConfig
from gencli.lm.data.augment import dropout_stream
from gencli.lm.data.corpus import read_corpus
from gencli.lm.data.split import encode_split, split_text
from gencli.lm.data.tokenizer import TextTokenizer
from gencli.lm.model.store import KIND, LAST, TOKENIZER, load_trained
from gencli.lm.results import LMTrainingSummary
from gencli.lm.training.distributed import Distributed
from gencli.lm.training.trainer import LMTrainer, bits_per_byte


@dataclass
class LMRun:
    """A trainer with its tokenizer, corpus and checkpoint path, ready to run."""

    trainer: LMTrainer
    tokenizer: TextTokenizer
    source: Path
    path: Path
    n_tokens: int
    val_bytes: int

    def describe(self) -> str:
        t = self.trainer
        n_layer, n_head, n_embd = t.cfg.model.sizes()
        return (
            f"{self.source}: {self.n_tokens} tokens (vocabulary {self.tokenizer.vocab_size}); GPT "
            f"{n_layer}/{n_head}/{n_embd}, "
            f"{t.model.n_params() / 1e6:.2f}M parameters, numeric path {t.choose_path().describe()}, {t.device}"
            + (f" x {t.dist.world} processes" if t.dist.world > 1 else "")
        )

    def meta(self) -> dict:
        t, h = self.trainer, self.trainer.history
        n_val = len(t.val_data)
        val = h.eval_val[-1] if h.eval_val else None
        best = t.best_val if h.eval_val else None
        return {
            "corpus": str(self.source),
            "metrics": {
                "train_loss": h.eval_train[-1] if h.eval_train else None,
                "val_loss": val,
                "best_val_loss": best,
                "best_step": t.best_step,
                "val_bpb": bits_per_byte(val, n_val, self.val_bytes) if val is not None else None,
                "best_val_bpb": bits_per_byte(best, n_val, self.val_bytes) if best is not None else None,
                "tokens_per_s": t.tokens_per_s(),
                "train_s": t.train_s,
                "stopped_early": t.out_of_patience() and t.step < t.cfg.train.max_iters,
                "numeric_path": t.choose_path().to_dict(),
            },
        }


def save_trained(
    trainer: LMTrainer, tokenizer: TextTokenizer, path: Path, meta: dict, files: dict | None = None
) -> None:
    """model.safetensors holds the best weights by validation loss; last.safetensors the latest (the moving
    average of the weights when train.ema > 0; train_state.pt then holds the weights themselves)."""
    last = trainer.weights()
    best = trainer.best_weights or last
    save_checkpoint(
        path,
        KIND,
        best,
        to_dict(trainer.cfg),
        {"step": trainer.step, **meta},
        trainer.state_dict(),
        extra_weights={LAST: last},
        files={TOKENIZER: tokenizer.to_json(), **(files or {})},
    )


def prepare(
    path: Path,
    resume: bool,
    sources: ConfigSources = ConfigSources(),
    device: torch.device | str = "cpu",
    dist: Distributed | None = None,
    force: bool = False,
) -> LMRun:
    """Read the corpus, train (or reload) the tokenizer and build a fresh or resumed trainer for `path`.

    Under torchrun (`dist` with several processes) every process builds the same tokenizer and
    trainer; only the main one checks and later writes the checkpoint, and holds its writer lock
    (given back by `fit`, or when the process ends).
    """
    if dist is not None and not dist.is_main:
        return _prepare(path, resume, sources, device, dist, force)
    with writer_lock(path):
        return _prepare(path, resume, sources, device, dist, force)


def _prepare(path: Path, resume: bool, sources: ConfigSources, device, dist, force: bool = False) -> LMRun:
    if resume:
        trained = load_trained(path, with_last=True)
        cfg = sources.resolve(LMConfig, to_dict(trained.cfg))
        require_unchanged(cfg, trained.cfg, ("model", "tokenizer", "data"), f"when resuming {path}")
        tok = trained.tokenizer
    else:
        cfg = sources.resolve(LMConfig)
        if dist is None or dist.is_main:
            check_writable_target(path, "lm", force)
    if cfg.train.bpe_dropout > 0 and cfg.tokenizer.kind != "bpe":
        raise ConfigError("train.bpe_dropout: needs tokenizer.kind bpe (a char tokenizer has no merges to skip)")
    source, text = read_corpus(cfg.data.corpus)
    train_text, val_text = split_text(text, cfg.data.val_fraction)
    if not resume:
        tok = TextTokenizer.train(train_text, cfg.tokenizer.kind, cfg.tokenizer.vocab_size)  # never sees val_text
    train_tokens, val_tokens = encode_split(tok, train_text, val_text, cfg.model.block_size, str(source))
    stream = (
        dropout_stream(tok, train_tokens, cfg.train.bpe_dropout, cfg.train.seed) if cfg.train.bpe_dropout > 0 else None
    )
    trainer = LMTrainer(cfg, tok.vocab_size, train_tokens, val_tokens, torch.device(device), dist, stream)
    if resume:
        trainer.load_state_dict(
            trained.checkpoint.extra_weights[LAST], trained.checkpoint.weights, trained.checkpoint.load_train_state()
        )
    if trainer.step >= cfg.train.max_iters:
        raise GencliError(
            f"--max-iters {cfg.train.max_iters}: the checkpoint in {path} already has {trainer.step} steps; "
            "ask for more"
        )
    trainer.choose_path()  # measured here (once per machine), before any progress bar
    return LMRun(trainer, tok, source, path, len(train_tokens) + len(val_tokens), len(val_text.encode("utf-8")))


def summary_of(run: LMRun, wall_s: float | None = None) -> LMTrainingSummary:
    """L1 from a run's history and metrics."""
    h, t = run.trainer.history, run.trainer
    n_layer, n_head, n_embd = t.cfg.model.sizes()
    return LMTrainingSummary(
        np.asarray(h.steps),
        np.asarray(h.train),
        np.asarray(h.eval_steps),
        np.asarray(h.eval_train),
        np.asarray(h.eval_val),
        run.meta()["metrics"],
        f"GPT {n_layer}/{n_head}/{n_embd}",
        Path(str(run.source)).name,
        wall_s,
    )


def fit(
    run: LMRun,
    on_step: Callable[[int, float, float | None], None] | None = None,
    write_figures: FigureWriter | None = None,
) -> LMTrainingSummary:
    """Train to `train.max_iters`; save the checkpoint (best and last weights) with metrics.csv and the loss figure.

    Ctrl-C saves a resumable state and raises TrainingInterrupted; a NaN loss raises
    TrainingDiverged and leaves the checkpoint as it was.
    """
    t0 = time.perf_counter()
    main = run.trainer.dist.is_main
    save = (
        (lambda: save_trained(run.trainer, run.tokenizer, run.path, {**run.meta(), "interrupted": True}))
        if main
        else None
    )
    with training_into(run.path, lambda: run.trainer.step, save):
        run.trainer.run(run.trainer.cfg.train.max_iters, on_step)
        summary = summary_of(run, time.perf_counter() - t0)
        if not main:
            return summary
        files = result_files([summary], run.path.parent / f".{run.path.name}.figures", write_figures)
        save_trained(run.trainer, run.tokenizer, run.path, run.meta(), files=files)
        return summary
