"""Sampling continuations: temperature, top-k, top-p (nucleus), greedy; context cropped to the block."""

from __future__ import annotations

import torch
from torch import Tensor

from gencli.lm.inference.kv_cache import IncrementalLogits
from gencli.lm.model.gpt import GPT


def filter_logits(logits: Tensor, top_k: int | None = None, top_p: float | None = None) -> Tensor:
    """Set to -inf every logit outside the top-k and outside the smallest set with mass >= top_p."""
    if top_k is not None and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        probs = torch.softmax(sorted_logits, dim=-1)
        drop = probs.cumsum(-1) - probs >= top_p  # mass before this token already reaches top_p
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    return logits


@torch.no_grad()
def generate(
    model: GPT,
    ids: list[int],
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    greedy: bool = False,
    generator: torch.Generator | None = None,
    stop=None,
    cached: bool = True,
) -> list[int]:
    """Append up to max_new_tokens tokens to ids; `stop(ids)` may end early.

    Every attention layer sees the last block_size tokens (for rotary positions past the block: sliding-window
    attention, Mistral's rule, so the newest token depends on up to n_layer (block_size - 1) + 1 tokens; learned
    positions: the last block_size tokens re-run). `cached` computes the logits incrementally from cached keys and
    values; otherwise every token runs all the tokens it can depend on through the model (the same logits up to
    rounding)."""
    out = list(ids)
    block = model.reach()
    device = model.tok_emb.weight.device
    incremental = IncrementalLogits(model) if cached else None
    for _ in range(max_new_tokens):
        if incremental is not None:
            logits = incremental.logits(out).float()  # (V,)
        else:
            logits = model(torch.tensor([out[-block:]], device=device))[0, -1].float()
        if greedy:
            nxt = int(logits.argmax())
        else:
            # shifted so the largest is 0 before dividing: a tiny temperature gives -inf, not inf - inf, to the others
            scaled = (logits.double() - logits.max()) / temperature  # float64: a float32 1e-300 would be 0

            probs = torch.softmax(filter_logits(scaled, top_k, top_p), dim=-1).float().cpu()  # CPU generator
            nxt = int(torch.multinomial(probs, 1, generator=generator))
        out.append(nxt)
        if stop is not None and stop(out):
            break
    return out
