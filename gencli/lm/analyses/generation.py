"""Continuations of a prompt: temperature, top-k, top-p or greedy."""

from __future__ import annotations

import math

import torch

from gencli.core.errors import ParameterError
from gencli.lm.data.texts import ATTENTION_PROMPT, EXERCISE_SENTENCE  # noqa: F401  (the analyses' defaults)
from gencli.lm.inference.generate import generate
from gencli.lm.model.store import TrainedLM
from gencli.lm.results import (
    Generation,
)

MIN_TEMPERATURE = 1e-3  # below it the softmax overflows in float32; --greedy is the limit of temperature -> 0


def check_sampling(temperature: float, top_p: float | None) -> None:
    """Temperature >= MIN_TEMPERATURE and top-p in (0, 1]; an error naming the option otherwise."""
    if not (temperature >= MIN_TEMPERATURE and math.isfinite(temperature)):
        raise ParameterError(
            "temperature",
            f"must be at least {MIN_TEMPERATURE:g} (--greedy is the limit of a "
            f"temperature near 0), got {temperature:g}",
        )
    if top_p is not None and not 0 < top_p <= 1:
        raise ParameterError("top_p", f"must be in (0, 1], got {top_p}")


def generate_text(
    lm: TrainedLM,
    prompt: str,
    max_new_tokens: int = 60,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    greedy: bool = False,
    num_samples: int = 1,
    seed: int = 0,
    stop: list[str] | None = None,
) -> Generation:
    """Continuations of `prompt`. A prompt longer than the block is cropped to its last block of tokens as context
    (the text keeps all of it), as the growing text is; each continuation ends before the first of the `stop` strings
    it writes (or after max_new_tokens)."""
    check_sampling(temperature, top_p)
    if not prompt:
        raise ParameterError("prompt", "must not be empty")
    ids = lm.tokenizer.encode(prompt)
    block = lm.cfg.model.block_size
    cropped = max(0, len(ids) - block)
    stops = [s for s in (stop or []) if s]

    def stopped(out: list[int]) -> bool:
        text = lm.tokenizer.decode(out[len(ids) :])
        return any(s in text for s in stops)

    gen = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(1 if greedy else num_samples):
        out = generate(
            lm.model, ids, max_new_tokens, temperature, top_k, top_p, greedy, gen, stopped if stops else None
        )
        continuation = lm.tokenizer.decode(out[len(ids) :])
        for s in stops:
            continuation = continuation.split(s, 1)[0]
        samples.append(prompt + continuation)
    settings = {
        "max_new_tokens": max_new_tokens,
        "temperature": temperature,
        "top_k": top_k,
        "top_p": top_p,
        "greedy": greedy,
        "seed": seed,
        "stop": stops,
        "prompt_tokens": len(ids),
        "cropped_tokens": cropped,
    }
    return Generation(prompt, samples, settings)
