"""L2: input vectors whose greedy output is a target sentence, and a prompt of real tokens whose greedy continuation is
it, with what the training text holds of the target."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from gencli.core.errors import ParameterError
from gencli.lm.analyses.common import (
    encode_fitting,
)
from gencli.lm.data.texts import ATTENTION_PROMPT, EXERCISE_SENTENCE  # noqa: F401  (the analyses' defaults)
from gencli.lm.inversion.prompts import search_prompt
from gencli.lm.inversion.vectors import LOSSES, invert_text
from gencli.lm.model.store import TrainedLM
from gencli.lm.results import (
    TextInversion,
    TokenPrompt,
)


def invert_sentence(
    lm: TrainedLM,
    target: str = EXERCISE_SENTENCE,
    steps: int = 300,
    lr: float = 0.1,
    init: str = "random",
    seed: int = 0,
    on_step: Callable[[int, float, str], None] | None = None,
    restarts: int = 4,
    loss: str = "margin",
) -> TextInversion:
    """L2: optimise one input vector per target token until the model's greedy output at every position is the target
    (`restarts` random starts at once; the margin loss by default, the exercise's cross-entropy with loss="ce")."""
    if not lr > 0:
        raise ParameterError("lr", f"must be > 0, got {lr}")
    if restarts < 1:
        raise ParameterError("restarts", f"must be >= 1, got {restarts}")
    if loss not in LOSSES:
        raise ParameterError("loss", f"must be one of {', '.join(LOSSES)}, got {loss!r}")
    ids = encode_fitting(lm, target, "target")
    tok = lm.tokenizer
    cb = (lambda step, value, pred: on_step(step, value, tok.decode(pred))) if on_step else None
    res = invert_text(lm.model, ids, steps, lr, init, seed, cb, restarts, loss)
    return TextInversion(
        target,
        res.success,
        res.steps,
        np.asarray(res.losses),
        [tok.decode(d) for d in res.decoded_ids],
        [tok.piece(i) for i in ids],
        [tok.piece(i) for i in res.nearest_ids],
        tok.decode(res.nearest_ids),
        res.nearest_reproduces,
        res.vectors.cpu().numpy(),
        loss=loss,
        restarts=restarts,
        max_steps=steps,
        free_run=tok.decode(res.free_run_ids or []),
        tied=lm.cfg.model.tie_weights,
    )


def text_words(text: str) -> list[str]:
    """The lower-case words of a text: runs of letters, digits and inner apostrophes ("--" and quotes split them)."""
    return [w for w in (part.strip("'") for part in re.findall(r"[\w']+", text.lower())) if w]


def copies_two_words(prompt: str, target: str) -> bool:
    """True when two consecutive words of the target appear consecutively in the prompt."""
    pairs = set(zip(text_words(target), text_words(target)[1:]))
    return any(pair in pairs for pair in zip(text_words(prompt), text_words(prompt)[1:]))


def sentence_evidence(sentence: str, text: str) -> dict:
    """How much of `sentence` a text shows a model: how often its words occur there in that order (case and
    punctuation ignored), its words that never occur, and its consecutive word pairs that never occur."""
    want, words = text_words(sentence), text_words(text)
    k = len(want)
    occurrences = sum(words[i : i + k] == want for i in range(len(words) - k + 1)) if k else 0
    vocab, pairs = set(words), set(zip(words, words[1:]))
    return {
        "occurrences": occurrences,
        "unseen_words": [w for w in dict.fromkeys(want) if w not in vocab],
        "unseen_pairs": [f"{a} {b}" for a, b in dict.fromkeys(zip(want, want[1:])) if (a, b) not in pairs],
    }


def real_token_prompt(
    lm: TrainedLM,
    target: str = EXERCISE_SENTENCE,
    prompt_len: int = 20,
    steps: int = 500,
    topk: int = 64,
    candidates: int = 128,
    forbid_target_words: bool = False,
    seed: int = 0,
    on_step: Callable[[int, float, str], None] | None = None,
    restart_after: int = 200,
    training_text: str | None = None,
) -> TokenPrompt:
    """L2 with real tokens: GCG search for a prompt of `prompt_len` tokens whose greedy continuation is `target`
    (starting again from a random prompt after `restart_after` steps without progress, when > 0). With the model's
    `training_text`, the result also says how much of the target that text holds (`sentence_evidence`)."""
    for name, v in (("prompt_len", prompt_len), ("topk", topk), ("candidates", candidates)):
        if v < 1:
            raise ParameterError(name, f"must be >= 1, got {v}")
    block = lm.cfg.model.block_size
    if prompt_len >= block:
        raise ParameterError(
            "prompt_len",
            f"must leave room for the target in the block of {block} tokens (at most {block - 1})",
            prompt_len,
        )
    ids = encode_fitting(lm, target, "target", room=prompt_len)
    tok = lm.tokenizer
    forbidden: set[int] = set()
    if forbid_target_words:
        words = set(text_words(target))
        forbidden = {i for i in range(tok.vocab_size) if tok.piece(i).strip().lower() in words}
    cb = (lambda step, value, prompt: on_step(step, value, tok.decode(prompt))) if on_step else None
    res = search_prompt(lm.model, tok, ids, prompt_len, steps, topk, candidates, forbidden, seed, cb, restart_after)
    right = next((i for i, (a, b) in enumerate(zip(res.continuation_ids, ids)) if a != b), len(ids))
    prompt = tok.decode(res.prompt_ids)
    return TokenPrompt(
        target,
        res.success,
        prompt,
        res.prompt_ids,
        ids,
        tok.decode(res.continuation_ids),
        right,
        res.steps,
        res.seconds,
        np.asarray(res.losses),
        forbid_target_words,
        copies_two_words(prompt, target),
        sentence_evidence(target, training_text) if training_text is not None else None,
    )
