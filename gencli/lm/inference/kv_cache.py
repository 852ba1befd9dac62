"""Incremental decoding: the next-token logits of a growing sequence from cached keys and values.

Every attention layer sees the last block_size tokens: each block keeps the keys and values of at most
block_size - 1 earlier tokens, and the newest token attends to them and to itself (a rolling buffer). With rotary
positions (the default) the keys are cached rotated at their absolute positions; since a rotary score depends only
on the distance between two tokens, the buffer is exactly the sliding-window attention of the whole sequence
(GPT.forward with its band mask past the block size) as it slides, one token per step. With learned positions the
window's positions restart at 0 whenever it slides, changing every hidden state, so past the block size each step
rebuilds the cache from the last block_size tokens (the uncached path's cost and its result).
"""

from __future__ import annotations

import torch
from torch import Tensor

from gencli.lm.model.gpt import GPT


class IncrementalLogits:
    """`logits(ids)`: the logits (V,) after the last of `ids`, for a sequence that grows by one token a call (the
    generation loop's); a call whose `ids` is not one longer than the last, ending in the token fed last, rebuilds
    the cache from its window."""

    def __init__(self, model: GPT):
        self.model = model
        self.block = model.shape.block_size
        self.rotary = model.pos_emb is None
        self.device = model.tok_emb.weight.device
        self.caches: list[dict] | None = None
        self.length, self.last = 0, None  # how many tokens the cache has seen, and the last of them
        self.rebuilds = 0

    def _fresh(self) -> list[dict]:
        return [{"keep": self.block - 1} for _ in self.model.blocks]

    @torch.no_grad()
    def logits(self, ids: list[int]) -> Tensor:
        n = len(ids)
        extends = self.caches is not None and n == self.length + 1 and ids[-2] == self.last
        if extends and (self.rotary or n <= self.block):
            out = self.model.step(torch.tensor([ids[-1:]], device=self.device), n - 1, self.caches)
        elif not self.rotary and n > self.block:  # learned positions past the block: the window re-run, no cache
            self.caches = None
            out = self.model(torch.tensor([ids[-self.block :]], device=self.device))
        else:
            window = ids[-self.model.reach() :]  # every token the last one's logits depend on
            self.caches = self._fresh()
            self.rebuilds += 1
            start = n - len(window) if self.rotary else 0
            out = self.model.step(torch.tensor([window], device=self.device), start, self.caches)
        self.length, self.last = n, ids[-1]
        return out[0, -1]
