"""A trained GPT (best or last weights) and its tokenizer loaded back from a checkpoint directory (no trainer
imported)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from gencli.checkpoint.format import Checkpoint
from gencli.checkpoint.load import check_size_claim, frozen_model, load_checkpoint, resolved_config
from gencli.lm.config import LMConfig
from gencli.lm.data.tokenizer import TextTokenizer
from gencli.lm.model.gpt import GPT, build_gpt, estimated_parameters

KIND = "lm"
LAST = "last.safetensors"
TOKENIZER = "tokenizer.json"
PRIME = "prime.txt"  # the end of the training text: what lm compress's byte models learn before a text
PRIME_TOKENS = 300_000  # about a megabyte


@dataclass
class TrainedLM:
    cfg: LMConfig
    model: GPT
    tokenizer: TextTokenizer
    checkpoint: Checkpoint
    prime: bytes = b""  # PRIME's bytes (none in a checkpoint written before it existed)

    @property
    def device(self) -> torch.device:
        return self.model.tok_emb.weight.device


def with_position_kind(config: dict) -> dict:
    """A checkpoint config written before model.positions existed had learned positions: say so (in place)."""
    model = config.get("model") if isinstance(config, dict) else None
    if isinstance(model, dict) and "positions" not in model:
        model["positions"] = "learned"
    return config


def load_trained(path: Path, with_last: bool = False, device: torch.device | str = "cpu") -> TrainedLM:
    """Rebuild the GPT (on `device`) and its tokenizer from a checkpoint directory."""
    ckpt = load_checkpoint(path, KIND, extra=(LAST,) if with_last else (), texts=(TOKENIZER, PRIME))
    with_position_kind(ckpt.config)
    cfg = resolved_config(ckpt, LMConfig)
    tokenizer = TextTokenizer.load(path / TOKENIZER, ckpt.texts[TOKENIZER])
    check_size_claim(estimated_parameters(cfg, tokenizer.vocab_size), ckpt.weights, Path(path))
    model = frozen_model(build_gpt(cfg, tokenizer.vocab_size), ckpt.weights, path, device)
    prime = (ckpt.texts.get(PRIME) or "").encode("utf-8")
    return TrainedLM(cfg, model, tokenizer, ckpt, prime)
