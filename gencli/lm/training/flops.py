"""Model FLOPs of training a GPT, per token (PaLM, Chowdhery et al. 2022, appendix B): 6 N for the weights' forward
and backward matmuls (N: every weight matrix a token multiplies, the output head included, lookups not) plus
12 L T d for attention's QK^T and AV over a context of T (forward 4 L T d, backward twice that)."""

from __future__ import annotations

from torch import nn

from gencli.lm.model.gpt import GPT


def matmul_weights(model: GPT) -> int:
    """The weights a token passes through in matrix products: every linear layer's matrix, the output head
    included (tied or not); not the embedding lookups, biases or LayerNorm gains."""
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear))


def training_flops_per_token(model: GPT, context: int | None = None) -> float:
    """6 N + 12 L T d: the model FLOPs of one training token at context length T (the block size by default)."""
    s = model.shape
    T = context or s.block_size
    return 6.0 * matmul_weights(model) + 12.0 * s.n_layer * T * s.n_embd
