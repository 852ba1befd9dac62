"""BPE-dropout: several random segmentations of the training text (Provilkov, Emelianenko and Voita 2020).

Standard BPE merges the adjacent pair of lowest rank until none is left. BPE-dropout skips every
candidate merge with probability p at each step, so the same text reaches the model as many
different token sequences of the same bytes: a data augmentation for small corpora. Evaluation
and every command keep the deterministic segmentation.
"""

from __future__ import annotations

import json
import random

import torch
from torch import Tensor

from gencli.lm.data.tokenizer import TextTokenizer

COPIES = 16  # random segmentations of the training text, after the deterministic one


class BPESegmenter:
    """Applies a trained byte-level BPE's merges in Python, with optional dropout and an explicit seed."""

    def __init__(self, tokenizer: TextTokenizer):
        model = json.loads(tokenizer.to_json())["model"]
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.vocab = model["vocab"]
        self.pre_tokenizer = tokenizer.tok.pre_tokenizer

    def word(self, piece: str, p: float, rng: random.Random) -> list[int]:
        """Ids of one pre-tokenized piece: merge the lowest-rank pair among those that survive dropout, repeat."""
        symbols = list(piece)
        while len(symbols) > 1:
            best = None
            for i in range(len(symbols) - 1):
                rank = self.ranks.get((symbols[i], symbols[i + 1]))
                if rank is not None and (p == 0 or rng.random() >= p) and (best is None or rank < best[0]):
                    best = (rank, i)
            if best is None:
                break
            i = best[1]
            symbols[i : i + 2] = [symbols[i] + symbols[i + 1]]
        return [self.vocab[s] for s in symbols]

    def encode(self, text: str, p: float = 0.0, seed: int = 0) -> list[int]:
        """The ids of `text`; p = 0 gives the tokenizer's own segmentation."""
        rng = random.Random(seed)
        return [i for piece, _ in self.pre_tokenizer.pre_tokenize_str(text) for i in self.word(piece, p, rng)]


def dropout_stream(tokenizer: TextTokenizer, train_tokens: Tensor, p: float, seed: int, copies: int = COPIES) -> Tensor:
    """The training tokens followed by `copies` BPE-dropout segmentations of the same text (seeds seed, seed+1, ...)."""
    text = tokenizer.decode(train_tokens.tolist())
    seg = BPESegmenter(tokenizer)
    parts = [train_tokens] + [torch.tensor(seg.encode(text, p, seed + k), dtype=torch.long) for k in range(copies)]
    return torch.cat(parts)
