"""Per-token log-probabilities of a text under the model, summed in log space (never multiplied)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from gencli.lm.model.gpt import GPT


@dataclass
class TokenScore:
    position: int
    token_id: int
    logprob: float
    prob: float
    rank: int


@torch.no_grad()
def score_tokens(model: GPT, ids: list[int], n_context: int = 0) -> list[TokenScore]:
    """log p(ids[j] | ids[:j]) for every j >= max(1, n_context), in fp32.

    The first token has nothing before it to be predicted from, so it is not scored
    unless a context precedes the text. Longer than the block: the windows of `window_plan`
    with stride block/2, so each token sees at least half a block of context; a text that
    fits in one block is scored in one piece.
    """
    block = model.shape.block_size
    wanted = max(1, n_context)
    scores: list[TokenScore] = []
    for start, first, end in window_plan(len(ids), block, max(1, block // 2)):
        logits = model(torch.tensor([ids[start:end]], device=model.tok_emb.weight.device))[0].float()  # (T, V)
        logp = torch.log_softmax(logits, dim=-1)
        for j in range(max(first, wanted), end):
            row, tok = logp[j - start - 1], ids[j]
            rank = int((row > row[tok]).sum()) + 1
            scores.append(TokenScore(j, tok, row[tok].item(), float(torch.exp(row[tok])), rank))
    return scores


def window_plan(n_tokens: int, block: int, stride: int) -> list[tuple[int, int, int]]:
    """(start, first scored position, end) of each window that scores a text of n_tokens.

    Windows of `block` tokens start every `stride` tokens; each scores the positions the
    previous ones have not, so every token after the first is scored once, with as much of
    its window before it as there is (at least block - stride tokens once the text is long).
    """
    plan, start, done = [], 0, 1
    while done < n_tokens:
        end = min(start + block, n_tokens)
        plan.append((start, done, end))
        done = end
        start += stride
    return plan


@torch.no_grad()
def score_stream(model: GPT, ids: list[int], stride: int, batch: int = 32) -> Tensor:
    """log p(ids[j] | the window before j) for j = 1..len(ids)-1 (fp32), windows batched for speed."""
    block = model.shape.block_size
    if not 1 <= stride <= block - 1:
        raise ValueError(f"stride must be in 1..{block - 1}, got {stride}")
    device = model.tok_emb.weight.device
    plan = window_plan(len(ids), block, stride)
    out = torch.empty(max(len(ids) - 1, 0))
    data = torch.tensor(ids)
    for a in range(0, len(plan), batch):
        chunk = plan[a : a + batch]
        width = max(end - start for start, _, end in chunk)
        x = torch.zeros(len(chunk), width, dtype=torch.long)
        for i, (start, _, end) in enumerate(chunk):
            x[i, : end - start] = data[start:end]
        logp = torch.log_softmax(model(x.to(device)).float(), dim=-1).cpu()  # (b, width, V)
        for i, (start, first, end) in enumerate(chunk):
            pos = torch.arange(first, end)
            out[pos - 1] = logp[i, pos - start - 1, data[pos]]
    return out
