"""The reference every LM speed ratio is taken against: a plain fp32 PyTorch loop of the same model.

minGPT-style: fp32, explicit softmax(QK^T/sqrt(d)) attention, torch.nn.Dropout(0.1) everywhere (torch's
own masks), unfused AdamW, nothing measured or cached. Built through gencli.lm.training.fit.prepare so that the
model, data and batches are the same as gencli's.
"""

from pathlib import Path

import torch

from gencli.core.config import ConfigSources
from gencli.lm.model.dropout import Dropout
from gencli.lm.training.fit import prepare

PLAIN = [
    "train.precision=fp32",
    "train.attention=explicit",
    "train.fused_adamw=false",
    "model.dropout=0.1",
    "model.attn_dropout=0.1",
    "model.attn_dropout_mode=weights",
]


class TorchDropout(torch.nn.Dropout):
    """torch.nn.Dropout with the residual form the model calls: x + dropout(branch)."""

    def add(self, x: torch.Tensor, branch: torch.Tensor) -> torch.Tensor:
        return x + self(branch)


def use_torch_dropout(model: torch.nn.Module) -> None:
    """Swap gencli's cheap-mask dropout modules for torch.nn.Dropout."""
    for module in model.modules():
        for name, child in list(module.named_children()):
            if isinstance(child, Dropout):
                setattr(module, name, TorchDropout(child.p))


def plain_trainer(folder: Path, sets: list[str]):
    """A trainer of the plain loop (`folder` is never written)."""
    trainer = prepare(folder, False, ConfigSources(sets=tuple(sets + PLAIN))).trainer
    use_torch_dropout(trainer.model)
    return trainer
