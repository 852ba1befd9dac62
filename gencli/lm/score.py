"""Per-token log-probabilities of a text under the model, summed in log space (never multiplied)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gencli.lm.model import GPT


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
    unless a context precedes the text. Longer than the block: a sliding window of
    stride block/2, so each token sees at least half a block of context; a text that
    fits in one block is scored in one piece.
    """
    block = model.shape.block_size
    first = max(1, n_context)
    scores: list[TokenScore] = []
    stride = max(1, block // 2)
    start, done = 0, first  # `done`: next position still to score
    while done < len(ids):
        window = ids[start : start + block]
        logits = model(torch.tensor([window], device=model.tok_emb.weight.device))[0].float()  # (T, V)
        logp = torch.log_softmax(logits, dim=-1)
        for j in range(max(done, start + 1), start + len(window)):
            row = logp[j - start - 1]
            tok = ids[j]
            lp = row[tok].item()
            rank = int((row > row[tok]).sum()) + 1
            scores.append(TokenScore(j, tok, lp, float(torch.exp(row[tok])), rank))
        done = start + len(window)
        if done >= len(ids):
            break
        start += stride
    return scores
