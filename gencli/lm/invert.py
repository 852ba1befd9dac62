"""Model inversion: input vectors (in place of token embeddings) whose greedy output is a target text.

The model is frozen; one vector per target token is optimised with Adam on the
cross-entropy of logits[i] against target[i] at every position, and the search stops
as soon as the greedy decode at every position equals the target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from gencli.lm.model import GPT


@dataclass
class LMInversion:
    success: bool
    steps: int
    losses: list[float]
    decoded_ids: list[list[int]]  # greedy decode after each step
    vectors: Tensor  # (n, C)
    nearest_ids: list[int]
    nearest_reproduces: bool


def invert_text(
    model: GPT,
    target: list[int],
    steps: int = 300,
    lr: float = 0.1,
    init: str = "random",
    seed: int = 0,
    on_step: Callable[[int, float, list[int]], None] | None = None,
) -> LMInversion:
    """Optimise v (n, C) so that argmax model(inputs_embeds=v)[i] == target[i] for all i."""
    for p in model.parameters():
        p.requires_grad_(False)
    emb = model.tok_emb.weight  # (V, C)
    n = len(target)
    y = torch.tensor(target, device=emb.device)
    gen = torch.Generator().manual_seed(seed)
    if init == "tokens":
        v0 = emb[y].clone()
    else:
        v0 = torch.randn((n, emb.shape[1]), generator=gen).to(emb.device) * emb.std()
    v = v0.clone().requires_grad_(True)
    opt = torch.optim.Adam([v], lr=lr)
    losses: list[float] = []
    decoded: list[list[int]] = []
    success = False
    step = 0
    for step in range(1, steps + 1):
        logits = model(inputs_embeds=v[None])[0]  # (n, V)
        loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            pred = model(inputs_embeds=v[None])[0].argmax(-1).tolist()
        losses.append(loss.item())
        decoded.append(pred)
        if on_step is not None:
            on_step(step, losses[-1], pred)
        if pred == target:
            success = True
            break
    vectors = v.detach()
    with torch.no_grad():
        nearest = torch.cdist(vectors, emb).argmin(dim=1).tolist()  # nearest real token (L2)
        reproduces = model(torch.tensor([nearest], device=emb.device))[0].argmax(-1).tolist() == target
    return LMInversion(success, step, losses, decoded, vectors, nearest, reproduces)
