"""Model inversion: input vectors (in place of token embeddings) whose greedy output is a target text.

The model is frozen; one vector per target token is optimised with Adam so that logits[i]
favour target[i] at every position, and the search stops as soon as the greedy decode at
every position equals the target. Two losses:

- `ce`, the exercise's: the mean cross-entropy of logits[i] against target[i];
- `margin` (the default): the mean hinge max(0, MARGIN - (logit of target[i] - best other
  logit)) plus CE_WEIGHT times the cross-entropy. The greedy decode is right exactly when every
  gap is positive, and the hinge spends no effort on positions already won, where the
  cross-entropy keeps pushing them; on small models trained a few hundred steps, cross-entropy
  alone stalled on most sentences and the margin loss reached them in tens of steps.

`restarts` independent random starts are optimised together as one batch; the first whose
decode equals the target wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from gencli.lm.model.gpt import GPT

MARGIN = 1.0  # logit gap the hinge asks of every position
CE_WEIGHT = 0.1  # the cross-entropy's share in the margin loss (keeps a gradient on won positions)
LOSSES = ("margin", "ce")


@dataclass
class LMInversion:
    success: bool
    steps: int
    losses: list[float]  # the followed start's loss after each step
    decoded_ids: list[list[int]]  # its greedy decode after each step
    vectors: Tensor  # (n, C), the followed start's vectors
    nearest_ids: list[int]
    nearest_reproduces: bool
    winner: int = 0  # which start reached the target (or got closest)
    free_run_ids: list[int] | None = None  # greedy generation from the first found vector alone


@torch.no_grad()
def free_run(model: GPT, first: Tensor, n: int) -> list[int]:
    """Greedy autoregressive generation of n tokens fed the found first vector, then the embeddings of its own
    predictions (what the model writes when it is not handed every found vector)."""
    inputs = [first]
    out: list[int] = []
    for _ in range(n):
        nxt = int(model(inputs_embeds=torch.stack(inputs)[None])[0, -1].argmax())
        out.append(nxt)
        inputs.append(model.tok_emb.weight[nxt])
    return out


def inversion_loss(logits: Tensor, target: Tensor, kind: str) -> Tensor:
    """Per start (K,): the loss of logits (K, n, V) against the target ids (n,)."""
    K, n, V = logits.shape
    ce = F.cross_entropy(logits.reshape(K * n, V), target.repeat(K), reduction="none").view(K, n).mean(1)
    if kind == "ce":
        return ce
    own = logits.gather(-1, target.expand(K, n)[..., None])[..., 0]  # (K, n)
    other = logits.scatter(-1, target.expand(K, n)[..., None], float("-inf")).amax(-1)  # (K, n)
    return F.relu(MARGIN - (own - other)).mean(1) + CE_WEIGHT * ce


def invert_text(
    model: GPT,
    target: list[int],
    steps: int = 300,
    lr: float = 0.1,
    init: str = "random",
    seed: int = 0,
    on_step: Callable[[int, float, list[int]], None] | None = None,
    restarts: int = 4,
    loss: str = "margin",
) -> LMInversion:
    """Optimise v (restarts, n, C) until argmax model(inputs_embeds=v[k])[i] == target[i] for all i, for some start
    k."""
    for p in model.parameters():
        p.requires_grad_(False)
    emb = model.tok_emb.weight  # (V, C)
    n = len(target)
    y = torch.tensor(target, device=emb.device)
    gen = torch.Generator().manual_seed(seed)
    K = restarts
    if init == "tokens":
        v0 = emb[y].detach().expand(K, n, -1).clone()
        v0[1:] += torch.randn((K - 1, n, emb.shape[1]), generator=gen).to(emb.device) * 0.1 * emb.std()
    else:
        v0 = torch.randn((K, n, emb.shape[1]), generator=gen).to(emb.device) * emb.std()
    v = v0.clone().requires_grad_(True)
    opt = torch.optim.Adam([v], lr=lr)
    losses: list[float] = []
    decoded: list[list[int]] = []
    success, step, winner = False, 0, 0
    for step in range(1, steps + 1):
        per_start = inversion_loss(model(inputs_embeds=v), y, loss)  # (K,)
        opt.zero_grad()
        per_start.sum().backward()
        opt.step()
        with torch.no_grad():
            logits = model(inputs_embeds=v)
            pred = logits.argmax(-1)  # (K, n)
            right = (pred == y).all(-1)
            after = inversion_loss(logits, y, loss)
        winner = int(right.float().argmax()) if bool(right.any()) else int(after.argmin())
        losses.append(float(after[winner]))
        decoded.append(pred[winner].tolist())
        if on_step is not None:
            on_step(step, losses[-1], decoded[-1])
        if bool(right.any()):
            success = True
            break
    vectors = v.detach()[winner]
    with torch.no_grad():
        nearest = torch.cdist(vectors, emb).argmin(dim=1).tolist()  # nearest real token (L2)
        reproduces = model(torch.tensor([nearest], device=emb.device))[0].argmax(-1).tolist() == target
    return LMInversion(
        success, step, losses, decoded, vectors, nearest, reproduces, winner, free_run(model, vectors[0], n)
    )
