"""Dropout whose mask costs little on the CPU: one random byte per element, drawn eight at a time.

`F.dropout` on the CPU draws one random float per element; on a training step of the mini
GPT that was about a third of the step. Here the mask comes from the bytes of 64-bit random
integers: an element is kept when its byte u (uniform on 0..255) is >= round(256 p), so the
drop probability is p rounded to a multiple of 1/256 (0.2 -> 51/256 = 0.1992), and kept
elements are scaled by 256 / (256 - round(256 p)) so that the expected output equals the
input (inverted dropout, Srivastava et al. 2014). The mask is built in the input's dtype,
where one multiply applies it forward and one backward; on a residual branch the mask and its
scale ride on the residual addition itself (x + scale * branch * mask, one `addcmul`). Masks come from an explicit
`torch.Generator` (the trainer's, saved with the checkpoint), so a resumed run draws the
same masks. Off the CPU, torch's own fused dropout runs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LEVELS = 256  # one byte per element


def drop_threshold(p: float) -> int:
    """Elements whose byte is below this are dropped: the drop probability is drop_threshold(p) / 256."""
    return min(LEVELS - 1, max(0, round(p * LEVELS)))


def keep_scale(p: float) -> float:
    """The factor on kept elements: 256 / (256 - drop_threshold(p))."""
    return LEVELS / (LEVELS - drop_threshold(p))


def keep_mask(shape: torch.Size, p: float, dtype: torch.dtype, generator: torch.Generator | None) -> Tensor:
    """A CPU tensor of `shape` and `dtype`: 0 with probability drop_threshold(p) / 256, else 1."""
    n = shape.numel()
    words = torch.empty((n + 7) // 8, dtype=torch.int64)
    words.random_(-(2**63), 2**63 - 1, generator=generator)  # full 64-bit words: eight random bytes each
    u = words.view(torch.uint8)[:n].view(shape)
    return (u >= drop_threshold(p)).view(torch.uint8).to(dtype)


def scaled_mask(shape: torch.Size, p: float, dtype: torch.dtype, generator: torch.Generator | None) -> Tensor:
    """keep_mask times keep_scale: 0 or 256 / (256 - threshold)."""
    return keep_mask(shape, p, dtype, generator).mul_(keep_scale(p))


def dropout(x: Tensor, p: float, training: bool, generator: torch.Generator | None) -> Tensor:
    """Inverted dropout of `x` (the cheap mask on the CPU); the identity when not training or p rounds to 0."""
    if not training or drop_threshold(p) == 0:
        return x
    if x.device.type != "cpu":
        return F.dropout(x, p, True)
    return x * scaled_mask(x.shape, p, x.dtype, generator)


def dropout_add(x: Tensor, branch: Tensor, p: float, training: bool, generator: torch.Generator | None) -> Tensor:
    """x + dropout(branch), in one pass on the CPU: addcmul(x, branch, mask, value=scale)."""
    if not training or drop_threshold(p) == 0:
        return x + branch
    if x.device.type != "cpu":
        return x + F.dropout(branch, p, True)
    return torch.addcmul(x, branch, keep_mask(branch.shape, p, branch.dtype, generator), value=keep_scale(p))


class Dropout(nn.Module):
    """nn.Dropout with the cheap mask; `GPT.use_generator` sets its generator (None: torch's default one)."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p
        self.generator: torch.Generator | None = None

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training, self.generator)

    def add(self, x: Tensor, branch: Tensor) -> Tensor:
        """x + self(branch), fused on the CPU."""
        return dropout_add(x, branch, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p} (dropped: {drop_threshold(self.p)}/{LEVELS})"
