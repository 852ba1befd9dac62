"""L3, L4: the head-averaged attention of chosen blocks at the prediction of a chosen word."""

from __future__ import annotations

import torch

from gencli.core.errors import ParameterError
from gencli.lm.analyses.common import (
    encode_fitting,
)
from gencli.lm.data.texts import ATTENTION_PROMPT, EXERCISE_SENTENCE  # noqa: F401  (the analyses' defaults)
from gencli.lm.inference.attention import (
    WRITE_LIMIT,
    attention_at_word,
    continue_to_words,
    word_starts,
)
from gencli.lm.model.store import TrainedLM
from gencli.lm.results import (
    AttentionMaps,
)


def attention_maps(
    lm: TrainedLM,
    prompt: str = ATTENTION_PROMPT,
    word: int = 12,
    extra_blocks: list[int] | None = None,
    greedy: bool = True,
    seed: int = 0,
    max_new: int = WRITE_LIMIT,
) -> AttentionMaps:
    """L3/L4: the model writes on to `word` words; the head-averaged attention of the first, last (and extra) blocks
    when it predicts that word.

    Whatever the model writes, a map is made: when greedy decoding does not reach word `word`
    within `max_new` tokens (a small model may write only newlines), a seeded sample tries; when
    that fails too, the maps are taken at the last word the text has, and the result says so.
    """
    ids = encode_fitting(lm, prompt, "prompt")
    n_layer = lm.cfg.model.sizes()[0]
    for b in extra_blocks or []:
        if not 0 <= b < n_layer:
            raise ParameterError("extra_blocks", f"out of range, this model has blocks 0..{n_layer - 1}", b)
    tok = lm.tokenizer
    how = "greedy" if greedy else "sampled"
    full = continue_to_words(lm.model, tok, ids, word, greedy, torch.Generator().manual_seed(seed), max_new)
    if len(word_starts(tok, full)) <= word and greedy:  # another word must start after word `word`: then it is whole
        sampled = continue_to_words(lm.model, tok, ids, word, False, torch.Generator().manual_seed(seed), max_new)
        if len(word_starts(tok, sampled)) > len(word_starts(tok, full)):
            full, how = sampled, "sampled"
    starts = word_starts(tok, full)
    used = word
    if len(starts) <= word:  # not reached: the last whole word (one followed by whitespace) with a token before it
        used = len(starts) if tok.decode(full)[-1:].isspace() else len(starts) - 1
        while used >= 1 and starts[used - 1] < 1:
            used -= 1
        how = "last word"
        if used < 1:
            raise ParameterError("prompt", "needs at least two tokens (a word to predict and one before it)")
    res = attention_at_word(lm.model, tok, full, used)
    names = {"first": 0, "last": n_layer - 1, **{f"block{b}": b for b in extra_blocks or []}}
    return AttentionMaps(
        res.text,
        res.tokens,
        res.query_index,
        used,
        res.predicted_word,
        {name: res.matrices[i].numpy() for name, i in names.items()},
        requested_word=word,
        how=how,
        prompt=prompt,
        new_tokens=len(full) - len(ids),
        max_new=max_new,
        query_word=res.query_word,
    )
