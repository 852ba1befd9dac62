"""Train a language-model checkpoint end to end: corpus, tokenizer, resume, run, save with its figures."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from gencli.checkpoint.lock import writer_lock
from gencli.checkpoint.save import save_checkpoint
from gencli.checkpoint.training import check_writable_target, training_into
from gencli.core.budget import check_fits
from gencli.core.config import ConfigError, ConfigSources, require_unchanged, to_dict
from gencli.core.datafiles import FigureWriter, result_files
from gencli.core.errors import GencliError
from gencli.core.peak import device_peak
from gencli.lm.config import LMConfig
from gencli.lm.data import large_corpus
from gencli.lm.data.augment import dropout_stream
from gencli.lm.data.corpus import read_corpus, resolve_corpus
from gencli.lm.data.split import check_lengths, split_point
from gencli.lm.data.token_cache import cached_ids, corpus_key, token_ids, tokenizer_sample
from gencli.lm.data.tokenizer import TextTokenizer
from gencli.lm.model.gpt import estimated_parameters
from gencli.lm.model.store import KIND, LAST, PRIME, PRIME_TOKENS, TOKENIZER, load_trained
from gencli.lm.results import LMTrainingSummary
from gencli.lm.training.distributed import Distributed
from gencli.lm.training.flops import training_flops_per_token
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
    prime: str = ""  # the end of the training text, kept in the checkpoint for lm compress (PRIME)

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
                **utilisation(t),
            },
        }


def utilisation(t: LMTrainer) -> dict:
    """Model FLOPs utilisation: the model FLOP/s training achieved (6 N + 12 L T d a token) and its share of the
    device's peak at the path's precision, where the peak is known (gencli.core.peak)."""
    per_token = training_flops_per_token(t.model)
    achieved = per_token * t.tokens_per_s()
    bf16 = t.choose_path().path.precision == "bf16"
    gpu = torch.cuda.get_device_name(t.device) if t.device.type == "cuda" else None
    peak = device_peak(t.device.type, bf16, torch.get_num_threads(), gpu)
    return {
        "model_flops_per_token": per_token,
        "achieved_tflops": achieved / 1e12,
        "peak_tflops": peak.flops / 1e12 if peak else None,
        "mfu": achieved / peak.flops if peak else None,
        "peak": peak.how if peak else "unknown for this device",
    }


def save_trained(
    trainer: LMTrainer, tokenizer: TextTokenizer, path: Path, meta: dict, files: dict | None = None, prime: str = ""
) -> None:
    """model.safetensors holds the best weights by validation loss; last.safetensors the latest (the moving
    average of the weights when train.ema > 0; train_state.pt then holds the weights themselves); prime.txt the
    end of the training text (what `lm compress` primes its byte models with)."""
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
        files={TOKENIZER: tokenizer.to_json(), **({PRIME: prime} if prime else {}), **(files or {})},
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


def training_tokens(cfg: LMConfig, tok: TextTokenizer | None) -> tuple[Path, TextTokenizer, Tensor, Tensor, int]:
    """(corpus path, tokenizer, training ids, validation ids, validation bytes): the tokenizer is trained here when
    `tok` is None, on the training part only (a long text: a bounded sample of it). A corpus of more than
    LARGE_CORPUS_BYTES is read in blocks and never held whole; a smaller one as text."""
    path = resolve_corpus(cfg.data.corpus)
    kind, vocab, block = cfg.tokenizer.kind, cfg.tokenizer.vocab_size, cfg.model.block_size
    if path.stat().st_size > large_corpus.LARGE_CORPUS_BYTES:
        size, digest = large_corpus.scan(path)
        cut = large_corpus.byte_split(path, size, cfg.data.val_fraction)
        tok = tok or TextTokenizer.train(large_corpus.tokenizer_text(path, cut), kind, vocab)
        key = corpus_key(size, digest, tok, cut)
        train, _ = cached_ids(key, "train", lambda out: large_corpus.encode_range(tok, path, 0, cut, out))
        val, _ = cached_ids(key, "val", lambda out: large_corpus.encode_range(tok, path, cut, size, out))
        check_lengths(len(train), len(val), block, str(path))
        return path, tok, torch.from_numpy(train), torch.from_numpy(val), size - cut
    source, text = read_corpus(cfg.data.corpus)
    cut = split_point(text, cfg.data.val_fraction)
    tok = tok or TextTokenizer.train(tokenizer_sample(text, cut), kind, vocab)  # never sees the validation part
    train, val = corpus_tokens(tok, source, text, cut, block)
    return source, tok, train, val, len(text[cut:].encode("utf-8"))


def corpus_tokens(tok: TextTokenizer, source: Path, text: str, cut: int, block: int) -> tuple[torch.Tensor, ...]:
    """The ids of the training and validation parts as int32 tensors: memory-mapped from the token cache (keyed by the
    corpus file's size and hash, the tokenizer and the split; written on the first run), or encoded in chunks when
    the cache cannot be written."""
    key = None
    try:
        with Path(source).open("rb") as f:  # streamed: the file is not held twice
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        key = corpus_key(Path(source).stat().st_size, digest, tok, cut)
        train, val, _ = token_ids(tok, text, cut, key)
    except OSError:  # no cache folder to write: encode in memory
        train, val, _ = token_ids(tok, text, cut, None)
    check_lengths(len(train), len(val), block, str(source))
    return torch.from_numpy(train), torch.from_numpy(val)


def check_training_memory(cfg: LMConfig) -> None:
    """Refuse, before the corpus is read or anything built, a model or batch that cannot fit in free memory: the
    weights with gradients, Adam's moments and the best copy; a batch's activations kept for the backward pass (per
    token and block about 34 widths, after Korthikanti et al. 2022, and the logits three times over)."""
    vocab = max(cfg.tokenizer.vocab_size, 256)
    params = estimated_parameters(cfg, vocab)
    check_fits(params * 4 * 6, f"a model of about {params:,} weights", "model", params)
    n_layer, n_head, d = cfg.model.sizes()
    tokens = cfg.train.batch_size * cfg.model.block_size
    per_token = 4 * (34 * d * n_layer + 3 * vocab) + 8 * cfg.model.block_size * n_head * n_layer  # with attention rows
    check_fits(tokens * per_token, f"a batch of {tokens:,} tokens", "train.batch_size", cfg.train.batch_size)


def _prepare(path: Path, resume: bool, sources: ConfigSources, device, dist, force: bool = False) -> LMRun:
    if resume:
        trained = load_trained(path, with_last=True)
        cfg = sources.resolve(LMConfig, to_dict(trained.cfg))
        require_unchanged(cfg, trained.cfg, ("model", "tokenizer", "data"), f"when resuming {path}")
        tok = trained.tokenizer
    else:
        cfg = sources.resolve(LMConfig)
        tok = None  # trained below, on the training part
        if dist is None or dist.is_main:
            check_writable_target(path, "lm", force)
    check_training_memory(cfg)
    if cfg.train.bpe_dropout > 0 and cfg.tokenizer.kind != "bpe":
        raise ConfigError("train.bpe_dropout: needs tokenizer.kind bpe (a char tokenizer has no merges to skip)")
    source, tok, train_tokens, val_tokens, val_bytes = training_tokens(cfg, tok)
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
    prime = trained.prime.decode("utf-8", "replace") if resume else prime_text(tok, train_tokens)
    return LMRun(trainer, tok, source, path, len(train_tokens) + len(val_tokens), val_bytes, prime)


def prime_text(tok: TextTokenizer, train_tokens: Tensor) -> str:
    """The text of the last PRIME_TOKENS training tokens (the whole training part of a book)."""
    return tok.decode(train_tokens[-PRIME_TOKENS:].tolist())


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
        (
            lambda: save_trained(
                run.trainer, run.tokenizer, run.path, {**run.meta(), "interrupted": True}, prime=run.prime
            )
        )
        if main
        else None
    )
    with training_into(run.path, lambda: run.trainer.step, save):
        run.trainer.run(run.trainer.cfg.train.max_iters, on_step)
        summary = summary_of(run, time.perf_counter() - t0)
        if not main:
            return summary
        files = result_files([summary], run.path.parent / f".{run.path.name}.figures", write_figures)
        save_trained(run.trainer, run.tokenizer, run.path, run.meta(), files=files, prime=run.prime)
        return summary
