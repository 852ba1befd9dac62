"""Continuations of a prompt: temperature, top-k, top-p or greedy."""

from __future__ import annotations

import torch

from gencli.core.errors import ParameterError
from gencli.lm.analyses.common import (
    encode_fitting,
)
from gencli.lm.data.texts import ATTENTION_PROMPT, EXERCISE_SENTENCE  # noqa: F401  (the analyses' defaults)
from gencli.lm.inference.generate import generate
from gencli.lm.model.store import TrainedLM
from gencli.lm.results import (
    Generation,
)


def check_sampling(temperature: float, top_p: float | None) -> None:
    """Temperature > 0 and top-p in (0, 1]; an error naming the option otherwise."""
    if not temperature > 0:
        raise ParameterError("temperature", f"must be > 0, got {temperature}")
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
) -> Generation:
    """Continuations of `prompt` (the context is cropped to the block size as the text grows)."""
    check_sampling(temperature, top_p)
    ids = encode_fitting(lm, prompt, "prompt")
    gen = torch.Generator().manual_seed(seed)
    samples = [
        lm.tokenizer.decode(generate(lm.model, ids, max_new_tokens, temperature, top_k, top_p, greedy, gen))
        for _ in range(1 if greedy else num_samples)
    ]
    settings = {
        "max_new_tokens": max_new_tokens,
        "temperature": temperature,
        "top_k": top_k,
        "top_p": top_p,
        "greedy": greedy,
        "seed": seed,
    }
    return Generation(prompt, samples, settings)
