"""The held-out split of a corpus, made on the text before any tokenizer sees it.

The validation part is the last `val_fraction` of the characters, cut at the start of a line.
The BPE tokenizer is trained on the training part alone: trained on the whole text, its merges
would include words that occur only in the validation part, and a larger vocabulary would then
buy a lower validation loss with knowledge of the held-out text (a leak that grows with the
vocabulary size, which bits per byte is meant to compare fairly).
"""

from __future__ import annotations

import torch
from torch import Tensor

from gencli.lm.data.corpus import CorpusError


def split_point(text: str, val_fraction: float) -> int:
    """Where the validation part starts: the last val_fraction of the characters, moved back to the start of its
    line when that is near (within a tenth of the validation part)."""
    n_val = int(len(text) * val_fraction)
    cut = len(text) - n_val
    line_start = text.rfind("\n", 0, cut) + 1
    if line_start and cut - line_start <= n_val // 10:
        cut = line_start
    return cut


def split_text(text: str, val_fraction: float) -> tuple[str, str]:
    """(training text, validation text), split at `split_point`."""
    cut = split_point(text, val_fraction)
    return text[:cut], text[cut:]


def check_lengths(n_train: int, n_val: int, block_size: int, source: str) -> None:
    """Both parts must hold more than one block of tokens."""
    if n_train <= block_size or n_val <= block_size:
        raise CorpusError(
            f"corpus {source} is too short: {n_train + n_val} tokens give {n_train} for training and {n_val} "
            f"for validation, each needs more than one block ({block_size}); use a longer text or a smaller "
            "model.block_size"
        )


def encode_split(tok, train_text: str, val_text: str, block_size: int, source: str) -> tuple[Tensor, Tensor]:
    """Token ids of each part (encoded separately); both must hold more than one block."""
    train = torch.tensor(tok.encode(train_text), dtype=torch.long)
    val = torch.tensor(tok.encode(val_text), dtype=torch.long)
    check_lengths(len(train), len(val), block_size, source)
    return train, val
