"""Attention at the prediction of a chosen word: head-averaged softmax(QK^T / sqrt(d_head))."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from gencli.lm.data.tokenizer import TextTokenizer
from gencli.lm.inference.generate import generate
from gencli.lm.model.gpt import GPT

WRITE_LIMIT = 200  # new tokens the model may write to reach the chosen word


@dataclass
class AttentionAtWord:
    """The text, its tokens up to the query, and each block's head-averaged attention matrix."""

    text: str
    tokens: list[str]
    token_ids: list[int]
    query_index: int
    word_index: int
    predicted_word: str
    matrices: list[Tensor]  # per block (T, T), head-averaged
    query_word: str  # the word the query token belongs to (the one before the predicted word)


def word_starts(tok: TextTokenizer, ids: list[int]) -> list[int]:
    """Token index at which each whitespace-separated word starts."""
    starts, prev_space = [], True
    for i, t in enumerate(ids):
        piece = tok.piece(t)
        for ch in piece:
            if ch.isspace():
                prev_space = True
            elif prev_space:
                starts.append(i)
                prev_space = False
    # a token may start several words only if it holds spaces inside; keep each token once
    seen, out = set(), []
    for s in starts:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def n_words(text: str) -> int:
    return len(text.split())


def continue_to_words(
    model: GPT,
    tok: TextTokenizer,
    ids: list[int],
    words: int,
    greedy: bool,
    generator: torch.Generator,
    max_new: int = WRITE_LIMIT,
) -> list[int]:
    """Generate after the prompt ids until the text has more than `words` words (so word `words` is complete)."""
    return generate(
        model, ids, max_new, greedy=greedy, generator=generator, stop=lambda out: n_words(tok.decode(out)) > words
    )


@torch.no_grad()
def attention_at_word(model: GPT, tok: TextTokenizer, ids: list[int], word: int) -> AttentionAtWord:
    """Attention of every block when the model predicts the first token of word number `word` (1-based)."""
    starts = word_starts(tok, ids)
    if len(starts) < word:
        raise ValueError(f"the text has only {len(starts)} words, fewer than {word}")
    target = starts[word - 1]  # first token of that word
    query = target - 1  # the position whose output predicts it
    context = ids[:target][-model.shape.block_size :]
    offset = target - len(context)
    _, maps = model(torch.tensor([context], device=model.tok_emb.weight.device), return_attention=True)
    matrices = [m[0].float().mean(dim=0).cpu() for m in maps]  # (T, T) per block, averaged over heads
    word_text = tok.decode(ids[target : starts[word]] if len(starts) > word else ids[target:]).strip()
    before = tok.decode(ids[starts[word - 2] : target]).strip() if word >= 2 else tok.decode(ids[:target]).strip()
    return AttentionAtWord(
        text=tok.decode(ids),
        tokens=[tok.piece(i) for i in context],
        token_ids=context,
        query_index=query - offset,
        word_index=word,
        predicted_word=word_text,
        matrices=matrices,
        query_word=before,
    )
