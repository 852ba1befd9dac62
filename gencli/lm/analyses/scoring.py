"""L5 and whole files: log-probabilities as sums of per-token log-probabilities, and bits per byte."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from gencli.core.errors import ParameterError
from gencli.lm.data.corpus import read_corpus
from gencli.lm.data.texts import ATTENTION_PROMPT, EXERCISE_SENTENCE  # noqa: F401  (the analyses' defaults)
from gencli.lm.inference.generate import generate
from gencli.lm.inference.score import score_stream, score_tokens
from gencli.lm.model.store import TrainedLM
from gencli.lm.results import (
    TextScore,
    TokenLogProbs,
)


def sequence_logprob(
    lm: TrainedLM,
    text: str | None = None,
    context: str = "",
    sample: bool = False,
    max_new_tokens: int = 30,
    seed: int = 0,
) -> TokenLogProbs:
    """L5: log p(text | context) as the sum of per-token log-probabilities; with `sample`, of a sampled sentence."""
    if (text is None) == (not sample):
        raise ParameterError(("text", "sample"), "give exactly one")
    tok = lm.tokenizer
    ctx_ids = tok.encode(context) if context else []
    if sample:
        seed_ids = ctx_ids or tok.encode("Alice")
        out_ids = generate(lm.model, seed_ids, max_new_tokens, generator=torch.Generator().manual_seed(seed))
        text_ids = out_ids[len(ctx_ids) :] if ctx_ids else out_ids
        text = tok.decode(text_ids)
    else:
        if not text:
            raise ParameterError("text", "must not be empty")
        text_ids = tok.encode(text)
    scores = score_tokens(lm.model, ctx_ids + text_ids, n_context=len(ctx_ids))
    if not scores:
        raise ParameterError("text", "a single token with no context has nothing to score")
    return TokenLogProbs(
        text,
        [tok.piece(s.token_id) for s in scores],
        [s.logprob for s in scores],
        [s.prob for s in scores],
        [s.rank for s in scores],
        None if ctx_ids else tok.piece(text_ids[0]),
        [s.position - len(ctx_ids) for s in scores],
    )


def file_logprob(lm: TrainedLM, path: str, stride: int | None = None, adapt: bool = False) -> TextScore:
    """log p of a whole UTF-8 file, any length: a sliding window of the block size moved by `stride` tokens
    (default half a block), every token after the first scored once; and its bits per byte. With `adapt`, the
    distributions `lm compress --adapt` codes (gencli.lm.inference.lockstep; adaptive for learned positions), the
    first token included."""
    block = lm.cfg.model.block_size
    stride = stride or max(1, block // 2)
    if not 1 <= stride <= block - 1:
        raise ParameterError("stride", f"must be in 1..{block - 1} (the block size is {block})", stride)
    if not Path(path).is_file():  # a file, never a corpus name: `--file alice` reads ./alice or nothing
        raise ParameterError("path", "no such file", path)
    source, text = read_corpus(str(Path(path).resolve()))
    ids = lm.tokenizer.encode(text)
    if len(ids) < 2:
        raise ParameterError("path", "a single token has nothing to be predicted from", path)
    if adapt:
        segment = lm.cfg.adapt.segment_for(block)
        from gencli.lm.compression.codec import coded_log2probs  # numba, loaded when asked for

        logprobs = coded_log2probs(lm, ids, True) * math.log(2)
        return TextScore(str(source), len(ids), len(text.encode("utf-8")), segment, block, logprobs, adaptive=True)
    return TextScore(
        str(source), len(ids), len(text.encode("utf-8")), stride, block, score_stream(lm.model, ids, stride).numpy()
    )
