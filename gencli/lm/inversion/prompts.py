"""A prompt of real tokens whose greedy continuation is a target: Greedy Coordinate Gradient search.

GCG (Zou et al. 2023): the gradient of the target's loss with respect to the one-hot prompt
ranks, per position, the tokens whose swap would lower the loss most (the top-k most negative
entries); a batch of candidates, each the current prompt with one random position swapped for
one of its top-k tokens, is scored in one forward pass, and the best is kept. Candidates whose
text does not re-tokenize to the same ids are dropped, so the prompt found is a string a user
can type. The loss is a margin on the greedy choice (the target token's logit against the best
other one) plus a little cross-entropy: greedy decoding reproduces the target exactly when every
margin is positive, which is also when the search stops.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from gencli.core.budget import check_fits
from gencli.lm.data.tokenizer import END_OF_TEXT, TextTokenizer
from gencli.lm.inversion.vectors import inversion_loss
from gencli.lm.model.gpt import GPT


@dataclass
class PromptSearch:
    success: bool
    prompt_ids: list[int]
    target_ids: list[int]
    steps: int
    losses: list[float]  # the best prompt's loss after each step
    continuation_ids: list[int]  # the greedy continuation of the best prompt, as long as the target
    seconds: float


def _target_logits(model: GPT, prompts: Tensor, target: Tensor) -> Tensor:
    """Logits (B, n, V) that predict each target token after prompt + the target tokens before it."""
    seq = torch.cat([prompts, target.expand(prompts.shape[0], -1)], dim=1)[:, :-1]
    return model(seq)[:, prompts.shape[1] - 1 :]


@torch.no_grad()
def greedy_continuation(model: GPT, prompt: list[int], n: int) -> list[int]:
    """The n tokens greedy decoding writes after `prompt`."""
    out = list(prompt)
    for _ in range(n):
        out.append(int(model(torch.tensor([out[-model.shape.block_size :]]))[0, -1].argmax()))
    return out[len(prompt) :]


def _stable_start(tok: TextTokenizer, n: int, allowed: Tensor, gen: torch.Generator) -> list[int]:
    """n copies of one allowed token whose text re-tokenizes to the same n ids (" x x x ...", as nanoGCG starts), so
    that single swaps from it are checked against a prompt a user could type."""
    pool = allowed.nonzero()[:, 0]
    tries = [tok.encode(" x")[0], tok.encode(" the")[0]] + pool[torch.randperm(len(pool), generator=gen)].tolist()
    for t in tries:
        if allowed[t] and tok.encode(tok.decode([t] * n)) == [t] * n:
            return [t] * n
    raise ValueError("no token of the vocabulary repeats into a prompt that re-tokenizes to itself")


def _random_start(
    tok: TextTokenizer, n: int, allowed: Tensor, gen: torch.Generator, tries: int = 50
) -> list[int] | None:
    """n random allowed tokens whose text re-tokenizes to the same ids (None when `tries` draws all fail)."""
    pool = allowed.nonzero()[:, 0]
    for _ in range(tries):
        ids = pool[torch.randint(len(pool), (n,), generator=gen)].tolist()
        if tok.encode(tok.decode(ids)) == ids:
            return ids
    return None


def search_prompt(
    model: GPT,
    tok: TextTokenizer,
    target: list[int],
    prompt_len: int = 20,
    steps: int = 500,
    topk: int = 64,
    candidates: int = 128,
    forbidden: set[int] | None = None,
    seed: int = 0,
    on_step: Callable[[int, float, list[int]], None] | None = None,
    restart_after: int = 0,
) -> PromptSearch:
    """GCG over prompts of `prompt_len` real tokens (none from `forbidden`) for the greedy continuation `target`.

    With `restart_after` > 0, a run whose best loss has not improved for that many steps starts again from
    a random prompt; `steps` is the budget of all runs together, and the best prompt of any run is kept."""
    t0 = time.perf_counter()
    emb = model.tok_emb.weight  # (V, C)
    V, C = emb.shape
    per_token = 4 * (16 * C * len(model.blocks) + 2 * V)  # a forward pass's activations and its logits
    seq = prompt_len + len(target)
    check_fits(candidates * seq * per_token, f"scoring {candidates:,} prompts at once", "candidates", candidates)
    for p in model.parameters():
        p.requires_grad_(False)
    y = torch.tensor(target)
    gen = torch.Generator().manual_seed(seed)
    allowed = torch.ones(V, dtype=torch.bool)
    for i in forbidden or ():
        allowed[i] = False
    eot = tok.tok.token_to_id(END_OF_TEXT)
    if eot is not None:
        allowed[eot] = False  # the end-of-text token is no text a user can type
    allowed[tok.vocab_size :] = False
    prompt = torch.tensor(_stable_start(tok, prompt_len, allowed, gen))
    best_ids, best_loss = prompt.clone(), float("inf")
    losses: list[float] = []
    step = 0
    run_best, run_improved = float("inf"), 0  # this run's best loss and the step it was reached
    for step in range(1, steps + 1):
        if restart_after and step - run_improved > restart_after:
            fresh = _random_start(tok, prompt_len, allowed, gen)
            if fresh is not None:
                prompt, run_best, run_improved = torch.tensor(fresh), float("inf"), step
        one_hot = F.one_hot(prompt, V).to(emb.dtype).requires_grad_(True)  # (L, V)
        x = torch.cat([one_hot @ emb, emb[y[:-1]]])[None]  # (1, L + n - 1, C)
        logits = model(inputs_embeds=x)[:, prompt_len - 1 :]
        inversion_loss(logits, y, "margin").sum().backward()
        grad = one_hot.grad.masked_fill(~allowed, float("inf"))  # (L, V)
        top = (-grad).topk(topk, dim=1).indices  # (L, topk): the swaps that lower the loss most
        pos = torch.randint(prompt_len, (candidates,), generator=gen)
        pick = top[pos, torch.randint(topk, (candidates,), generator=gen)]
        batch = prompt.expand(candidates, -1).clone()
        batch[torch.arange(candidates), pos] = pick
        keep = [i for i in range(candidates) if tok.encode(tok.decode(batch[i].tolist())) == batch[i].tolist()]
        if not keep:
            losses.append(best_loss)
            continue
        batch = batch[keep]
        with torch.no_grad():
            logits = _target_logits(model, batch, y)
            scores = inversion_loss(logits, y, "margin")
            won = (logits.argmax(-1) == y).all(-1)
        i = int(won.float().argmax()) if bool(won.any()) else int(scores.argmin())
        prompt = batch[i]
        if float(scores[i]) < run_best:
            run_best, run_improved = float(scores[i]), step
        if float(scores[i]) < best_loss or bool(won[i]):
            best_ids, best_loss = prompt.clone(), float(scores[i])
        losses.append(best_loss)
        if on_step is not None:
            on_step(step, best_loss, best_ids.tolist())
        if bool(won[i]):
            break
    ids = best_ids.tolist()
    continuation = greedy_continuation(model, ids, len(target))
    return PromptSearch(
        continuation == target and tok.encode(tok.decode(ids)) == ids,
        ids,
        list(target),
        step,
        losses,
        continuation,
        time.perf_counter() - t0,
    )
