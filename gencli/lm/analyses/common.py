"""What the language-model analyses share: a text's token ids checked against the block, and the checkpoint's
own training and held-out text."""

from __future__ import annotations

from gencli.core.errors import GencliError, ParameterError
from gencli.lm.data.corpus import read_corpus
from gencli.lm.data.split import split_text
from gencli.lm.data.texts import ATTENTION_PROMPT, EXERCISE_SENTENCE  # noqa: F401  (the analyses' defaults)
from gencli.lm.model.store import TrainedLM


def encode_fitting(lm: TrainedLM, text: str, param: str, room: int = 0) -> list[int]:
    """The token ids of `text`; an error naming the parameter `param` when it is empty or longer than the block
    allows."""
    if not text:
        raise ParameterError(param, "must not be empty")
    ids = lm.tokenizer.encode(text)
    limit = lm.cfg.model.block_size - room
    if len(ids) > limit:
        raise ParameterError(param, f"{len(ids)} tokens is longer than the block size allows ({limit} tokens)")
    return ids


def fitting_words(lm: TrainedLM, text: str, room: int = 0) -> str:
    """The longest whole-word prefix of `text` whose tokens fit the model's block, less `room` tokens (the text itself
    when it fits)."""
    words = text.split()
    while words and len(lm.tokenizer.encode(" ".join(words))) > lm.cfg.model.block_size - room:
        words.pop()
    return " ".join(words)


def held_out_text(lm: TrainedLM, download: bool = True) -> tuple[str, str]:
    """(training text, held-out text) of the checkpoint's corpus, split as training split it (fetching the book
    when it is nowhere on this machine, if `download`)."""
    _, text = read_corpus(lm.cfg.data.corpus, download)
    return split_text(text, lm.cfg.data.val_fraction)


def text_start(text: str, limit: int) -> str:
    """The longest start of `text` whose UTF-8 form has at most `limit` bytes, in whole characters."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def training_text_if_readable(lm: TrainedLM) -> str | None:
    """The checkpoint's training text, or None when its corpus is not on this machine (nothing is downloaded)."""
    try:
        return held_out_text(lm, download=False)[0]
    except GencliError:
        return None
