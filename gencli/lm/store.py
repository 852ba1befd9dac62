"""Saving a trained GPT (best and last weights, tokenizer) and loading it back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from gencli.checkpoint.format import Checkpoint
from gencli.checkpoint.load import frozen_model, load_checkpoint, resolved_config
from gencli.checkpoint.save import save_checkpoint
from gencli.core.config import to_dict
from gencli.lm.config import LMConfig
from gencli.lm.model import GPT
from gencli.lm.tokenizer import TextTokenizer
from gencli.lm.train import LMTrainer, build_gpt

KIND = "lm"
LAST = "last.safetensors"
TOKENIZER = "tokenizer.json"


@dataclass
class TrainedLM:
    cfg: LMConfig
    model: GPT
    tokenizer: TextTokenizer
    checkpoint: Checkpoint

    @property
    def device(self) -> torch.device:
        return self.model.tok_emb.weight.device


def save_trained(trainer: LMTrainer, tokenizer: TextTokenizer, path: Path, meta: dict, files: dict | None = None) -> None:
    """model.safetensors holds the best weights by validation loss; last.safetensors the latest (the moving
    average of the weights when train.ema > 0; train_state.pt then holds the weights themselves)."""
    last = trainer.weights()
    best = trainer.best_weights or last
    save_checkpoint(
        path, KIND, best, to_dict(trainer.cfg), {"step": trainer.step, **meta}, trainer.state_dict(),
        extra_weights={LAST: last}, files={TOKENIZER: tokenizer.to_json(), **(files or {})},
    )


def load_trained(path: Path, with_last: bool = False, device: torch.device | str = "cpu") -> TrainedLM:
    """Rebuild the GPT (on `device`) and its tokenizer from a checkpoint directory."""
    ckpt = load_checkpoint(path, KIND, extra=(LAST,) if with_last else (), texts=(TOKENIZER,))
    cfg = resolved_config(ckpt, LMConfig)
    tokenizer = TextTokenizer.load(path / TOKENIZER, ckpt.texts[TOKENIZER])
    model = frozen_model(build_gpt(cfg, tokenizer.vocab_size), ckpt.weights, path, device)
    return TrainedLM(cfg, model, tokenizer, ckpt)
