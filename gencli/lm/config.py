"""The language model's typed config.

The defaults keep what the course exercise fixes (mini, block 64, batch 32, 2000 iterations,
peak lr 5e-4) with the training recipe chosen by measurement on Alice (README: "Language-model
quality at the exercise budget"); configs/lm-exercise.yaml holds the exercise's own recipe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from gencli.core.config import field, must

PRESETS = {"nano": (3, 3, 48), "micro": (4, 4, 128), "mini": (6, 6, 192)}


@dataclass
class ModelConfig:
    """A GPT-2 style decoder; `preset` fills n_layer/n_head/n_embd unless they are set."""

    preset: Literal["nano", "micro", "mini", "custom"] = field(
        "mini", "nano 3/3/48, micro 4/4/128, mini 6/6/192 (layers/heads/width)"
    )
    n_layer: int = field(0, "number of blocks (0: from the preset)")
    n_head: int = field(0, "attention heads per block (0: from the preset)")
    n_embd: int = field(0, "embedding width (0: from the preset)")
    block_size: int = field(64, "context length in tokens")
    dropout: float = field(
        0.2,
        "dropout on the embeddings and residual branches (the exercise: 0.1); rounded to a "
        "multiple of 1/256 on the CPU",
    )
    attn_dropout: float = field(0.3, "dropout on the attention (the exercise: 0.1, as `dropout`)")
    attn_dropout_mode: Literal["weights", "keys"] = field(
        "keys",
        "weights: each attention weight (the exercise, minGPT); keys: whole key columns per example and head, "
        "after the softmax (DropAttention's column mode, Lin et al. 2019), which equals zeroing those keys' "
        "value rows and costs 1/T of the random numbers",
    )
    tie_weights: bool = field(True, "share the token embedding matrix with the output head (Press and Wolf 2017)")
    positions: Literal["rotary", "learned"] = field(
        "rotary",
        "rotary: RoPE (Su et al. 2021), scores depend on token distances only, so generation caches keys past "
        "the block size; learned: a position embedding (GPT-2, the exercise; checkpoints written before this key)",
    )

    def sizes(self) -> tuple[int, int, int]:
        """(n_layer, n_head, n_embd) after applying the preset."""
        base = PRESETS.get(self.preset, (0, 0, 0))
        return (self.n_layer or base[0], self.n_head or base[1], self.n_embd or base[2])

    def problems(self) -> list[str]:
        out = []
        n_layer, n_head, n_embd = self.sizes()
        if self.preset == "custom" and not (self.n_layer and self.n_head and self.n_embd):
            out.append("preset: custom needs n_layer, n_head and n_embd")
        for name, v in (("n_layer", n_layer), ("n_head", n_head), ("n_embd", n_embd)):
            if v < 0 or (self.preset != "custom" and v < 1):
                out.append(f"{name}: must be >= 1, got {v}")
        if n_head >= 1 and n_embd >= 1 and n_embd % n_head:
            out.append(f"n_embd: must be divisible by n_head ({n_head}), got {n_embd}")
        if self.block_size < 2:
            out.append(f"block_size: must be >= 2, got {self.block_size}")
        return out + must(self, ("dropout", "attn_dropout"), lambda v: 0 <= v < 1, "in [0, 1)")


@dataclass
class TokenizerConfig:
    """Byte-level BPE trained on the corpus, or single bytes (character level)."""

    kind: Literal["bpe", "char"] = field("bpe", "bpe: byte-level BPE; char: one token per byte (character for ASCII)")
    vocab_size: int = field(
        1536,
        "BPE vocabulary size (at least 257: the 256 bytes and an end-of-text token), "
        "learned from the training part of the corpus only",
    )

    def problems(self) -> list[str]:
        if self.kind == "bpe" and self.vocab_size < 257:
            return [f"vocab_size: must be >= 257, got {self.vocab_size}"]
        return []


@dataclass
class DataConfig:
    """Where the text comes from and how it is split."""

    corpus: str = field("alice", "a UTF-8 text file, or `alice` (Alice in Wonderland, resolved as the README says)")
    val_fraction: float = field(
        0.1,
        "the last fraction of the text (cut at a line start) held out for validation; "
        "the tokenizer learns from the rest only",
    )

    def problems(self) -> list[str]:
        if not 0 < self.val_fraction < 1:
            return [f"val_fraction: must be in (0, 1), got {self.val_fraction}"]
        return []


@dataclass
class TrainConfig:
    """AdamW on random windows of the training tokens."""

    max_iters: int = field(2000, "optimizer steps")
    batch_size: int = field(32, "windows per step")
    lr: float = field(5e-4, "AdamW learning rate")
    weight_decay: float = field(1.0, "AdamW weight decay of the matrices (the exercise: 0.1)")
    lr_schedule: Literal["constant", "cosine"] = field("cosine", "constant, or cosine decay to min_lr at max_iters")
    warmup_iters: int = field(100, "steps of linear learning-rate warmup from 0")
    min_lr: float = field(5e-5, "the floor of the cosine decay (lr when lr is lower)")
    grad_clip: float = field(1.0, "clip the gradient norm (0: off)")
    eval_every: int = field(100, "steps between validation estimates (and best-checkpoint saves)")
    eval_batches: int = field(20, "batches per validation estimate")
    eval_train_batches: int = field(5, "batches per estimate of the training loss (the curve drawn beside validation)")
    precision: Literal["auto", "bf16", "fp32"] = field(
        "auto",
        "bf16 or fp32 autocast; auto: on the CPU, the faster of the two as timed on this machine (cached per "
        "machine), on a GPU bf16 where supported",
    )
    attention: Literal["auto", "fused", "explicit"] = field(
        "auto",
        "fused scaled_dot_product_attention, or explicit softmax(QK^T/sqrt(d)) matmuls; auto: on the CPU, the "
        "faster as timed with the precision, fused elsewhere",
    )
    bpe_dropout: float = field(
        0.0,
        "BPE-dropout: train on the text plus 16 segmentations that skip each merge with this "
        "probability (Provilkov et al. 2020; 0: off; bpe tokenizer only)",
    )
    ema: float = field(
        0.0,
        "weight of each step in an exponential moving average of the weights (Polyak averaging; "
        "0: off); with it, evaluation and both saved weights are the average's",
    )
    fused_adamw: bool = field(True, "use torch's fused AdamW kernel where the device has one")
    patience: int = field(
        0,
        "early stopping: evaluations without a new best validation loss before training stops "
        "(0: off, all max_iters steps run)",
    )
    grad_accum: int = field(
        1,
        "micro-steps per optimizer step: the global batch_size is split into this many parts "
        "(and across the processes of a data-parallel run)",
    )
    seed: int = field(0, "seed of the weights and the batches")

    def problems(self) -> list[str]:
        out = []
        for name in ("max_iters", "batch_size", "eval_every", "eval_batches", "eval_train_batches", "grad_accum"):
            if getattr(self, name) < 1:
                out.append(f"{name}: must be >= 1, got {getattr(self, name)}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            out.append(f"lr: must be > 0, got {self.lr}")
        if self.warmup_iters < 0 or self.min_lr < 0:
            out.append(f"warmup_iters, min_lr: must be >= 0, got {self.warmup_iters}, {self.min_lr}")
        if not 0 <= self.bpe_dropout < 1:
            out.append(f"bpe_dropout: must be in [0, 1), got {self.bpe_dropout}")
        if not 0 <= self.ema < 1:
            out.append(f"ema: must be in [0, 1), got {self.ema}")
        if self.patience < 0:
            out.append(f"patience: must be >= 0, got {self.patience}")
        if self.weight_decay < 0 or self.grad_clip < 0:
            out.append("weight_decay, grad_clip: must be >= 0")
        return out


@dataclass
class AdaptConfig:
    """How `lm compress` and `lm prob --file --adapt` predict a text: in segments, adapting to what came before."""

    segment: int = field(
        0,
        "tokens predicted per model call (0: half the block); each sees at least "
        "block_size - segment tokens before it (once the text is that long)",
    )
    streams: int = field(
        16,
        "the text is coded as this many streams that advance together, one batched model step for a token of each "
        "(encoder and decoder make the same calls, so they run at the same speed); fewer for a short text",
    )
    stream_tokens: int = field(256, "a stream holds at least this many tokens (a shorter text has fewer streams)")
    lr: float = field(
        3e-3,
        "dynamic evaluation (Krause et al. 2018): after each segment, one SGD step of this "
        "learning rate on its loss (0: off)",
    )
    decay: float = field(
        0.0,
        "dynamic evaluation: after each step, pull the weights this fraction of the way back "
        "to the trained ones (0: no pull)",
    )
    temperature: float = field(
        1.1,
        "the model's logits are divided by this before the mixture (above 1: less "
        "confident; a trained model is over-confident on text it did not see)",
    )
    cache_size: int = field(
        5000,
        "neural cache (Grave et al. 2017): the last hidden states kept, each with the token that followed it (0: off)",
    )
    cache_lambda: float = field(
        0.2,
        "weight of the cache's distribution in the mixture with the model's (where it starts when cache_lambda_lr > 0)",
    )
    cache_theta: float = field(0.03, "sharpness of the cache: a stored state h_i counts exp(theta * h_t . h_i)")
    cache_lambda_lr: float = field(
        0.01,
        "after each token, cache_lambda takes a gradient step of this size on the "
        "token's log-probability (kept in [0.01, 0.9]; 0: fixed)",
    )

    mix_orders: int = field(
        4,
        "context mixing (format 2): counts of the token after each context of 1..mix_orders tokens of the text so "
        "far, mixed with the network (0: off)",
    )
    mix_match: int = field(
        6, "context mixing: the match model follows the latest earlier occurrence of this many tokens (0: no match)"
    )
    mix_lr: float = field(0.02, "context mixing: step size of the mixing weights' gradient steps on each log p")
    byte_orders: int = field(
        6,
        "format 3: tokens coded bit by bit, the network mixed with context models of the bytes so far (orders "
        "0..byte_orders, two word contexts, a match model; 0: off, format 2)",
    )
    byte_match: int = field(
        6, "format 3: the match model follows the latest earlier occurrence of this many bytes (0: no match model)"
    )
    byte_lr: float = field(0.005, "format 3: step size of the bit mixer's weights")
    byte_limit: int = field(30, "format 3: a context's counter adapts as if seen at most this many times")
    byte_apm_rate: float = field(0.02, "format 3: step size of the APM stages that refine the mixed probability")

    def problems(self) -> list[str]:
        return (
            must(self, ("segment", "cache_size", "mix_orders", "mix_match"), lambda v: v >= 0, ">= 0")
            + must(self, ("byte_orders",), lambda v: 0 <= v <= 12, "in 0..12")
            + must(self, ("byte_match",), lambda v: 0 <= v <= 32, "in 0..32")
            + must(self, ("byte_limit",), lambda v: 1 <= v <= 255, "in 1..255")
            + must(self, ("byte_lr", "byte_apm_rate"), lambda v: 0 <= v <= 1, "in [0, 1]")
            + must(self, ("streams", "stream_tokens"), lambda v: 1 <= v <= 4096, "in 1..4096")
            + must(self, ("temperature",), lambda v: v > 0 and math.isfinite(v), "> 0")
            + must(
                self, ("lr", "cache_theta", "cache_lambda_lr", "mix_lr"), lambda v: v >= 0 and math.isfinite(v), ">= 0"
            )
            + must(self, ("cache_lambda", "decay"), lambda v: 0 <= v < 1, "in [0, 1)")
        )

    def segment_for(self, block: int) -> int:
        """The segment length with a model of this block size."""
        return self.segment or max(1, block // 2)


@dataclass
class GenerateConfig:
    """Defaults of `lm generate` (each also a command-line option)."""

    max_new_tokens: int = field(60, "tokens to add")
    temperature: float = field(1.0, "softmax temperature (at least 0.001; --greedy is its limit near 0)")
    top_k: int = field(0, "sample only among the k most likely tokens (0: all)")
    top_p: float = field(1.0, "sample only within the top-p probability mass, in (0, 1] (1: all)")

    def problems(self) -> list[str]:
        return (
            must(self, ("max_new_tokens",), lambda v: v >= 1, ">= 1")
            + must(self, ("top_k",), lambda v: v >= 0, ">= 0")
            + must(self, ("temperature",), lambda v: v >= 1e-3 and math.isfinite(v), ">= 0.001")
            + must(self, ("top_p",), lambda v: 0 < v <= 1, "in (0, 1]")
        )


@dataclass
class LMConfig:
    """Everything an lm checkpoint needs to be rebuilt."""

    model: ModelConfig = field(ModelConfig(), "the GPT")
    tokenizer: TokenizerConfig = field(TokenizerConfig(), "the tokenizer")
    data: DataConfig = field(DataConfig(), "the corpus")
    train: TrainConfig = field(TrainConfig(), "training")
    adapt: AdaptConfig = field(AdaptConfig(), "predicting a whole text: lm compress, lm prob --file --adapt")
    generate: GenerateConfig = field(GenerateConfig(), "continuing a prompt: lm generate")
