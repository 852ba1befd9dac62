"""A GPT-2 style decoder: token + position embeddings, pre-LayerNorm blocks, a linear head (tied to the
token embedding by default).

Attention has two paths that compute the same function: `fused` uses
torch's scaled_dot_product_attention; `explicit` computes softmax(QK^T / sqrt(d_head))
and can return the attention weights (for the attention analysis). Dropout masks come from
`gencli.lm.model.dropout` (cheap masks, an explicit generator) except inside the fused kernel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gencli.lm.config import LMConfig
from gencli.lm.model.dropout import Dropout


@dataclass
class GPTShape:
    vocab_size: int
    block_size: int
    n_layer: int
    n_head: int
    n_embd: int
    dropout: float = 0.0  # embeddings and residual branches
    attn_dropout: float = 0.0  # attention weights
    attn_dropout_mode: str = "weights"  # "weights": each weight; "keys": whole key columns per example and head
    tie_weights: bool = False  # the output head shares the token embedding matrix (Press and Wolf 2017)


class CausalSelfAttention(nn.Module):
    def __init__(self, s: GPTShape):
        super().__init__()
        self.n_head = s.n_head
        self.qkv = nn.Linear(s.n_embd, 3 * s.n_embd)
        self.proj = nn.Linear(s.n_embd, s.n_embd)
        self.dropout = s.attn_dropout
        self.drop_keys = s.attn_dropout_mode == "keys"
        self.attn_drop = Dropout(s.attn_dropout)  # on the attention weights, or on whole keys (their value rows)
        self.register_buffer(
            "causal", torch.ones(s.block_size, s.block_size, dtype=torch.bool).tril(), persistent=False
        )

    def forward(self, x: Tensor, explicit: bool = False) -> tuple[Tensor, Tensor | None]:
        """The attention branch (before its residual dropout) and, on the explicit path, the weights."""
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        p = self.dropout if self.training else 0.0
        if self.drop_keys and p > 0:
            # dropping key j's column of the weights after the softmax (per example and head) is zeroing its value row
            keep = self.attn_drop(torch.ones((B, self.n_head, T, 1), dtype=v.dtype, device=v.device))
            v, p = v * keep, 0.0
        att = None
        if explicit:
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))  # (B, nh, T, T)
            scores = scores.masked_fill(~self.causal[:T, :T], float("-inf"))
            att = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)  # (B, nh, T, T)
            y = (self.attn_drop(att) if p > 0 else att) @ v  # (B, nh, T, hs)
        else:
            y = self._fused(q, k, v, p)  # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        return self.proj(y), att

    def _fused(self, q: Tensor, k: Tensor, v: Tensor, p: float) -> Tensor:
        """scaled_dot_product_attention; its dropout mask (drawn from torch's global generator) is seeded from the
        dropout generator, so the fused path is as reproducible as the explicit one."""
        gen = self.attn_drop.generator
        if p == 0 or gen is None or q.device.type != "cpu":
            return F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        seed = int(torch.randint(0, 2**62, (1,), generator=gen))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)


class Block(nn.Module):
    def __init__(self, s: GPTShape):
        super().__init__()
        self.ln1 = nn.LayerNorm(s.n_embd)
        self.attn = CausalSelfAttention(s)
        self.ln2 = nn.LayerNorm(s.n_embd)
        self.mlp = nn.Sequential(nn.Linear(s.n_embd, 4 * s.n_embd), nn.GELU(), nn.Linear(4 * s.n_embd, s.n_embd))
        self.resid_drop = Dropout(s.dropout)  # on both residual branches, fused with their additions

    def forward(self, x: Tensor, explicit: bool = False) -> tuple[Tensor, Tensor | None]:
        a, att = self.attn(self.ln1(x), explicit)
        x = self.resid_drop.add(x, a)
        return self.resid_drop.add(x, self.mlp(self.ln2(x))), att


class GPT(nn.Module):
    """forward(idx | inputs_embeds) -> logits (B, T, vocab) for every position."""

    def __init__(self, s: GPTShape):
        super().__init__()
        self.shape = s
        self.tok_emb = nn.Embedding(s.vocab_size, s.n_embd)
        self.pos_emb = nn.Embedding(s.block_size, s.n_embd)
        self.drop = Dropout(s.dropout)
        self.blocks = nn.ModuleList([Block(s) for _ in range(s.n_layer)])
        self.ln_f = nn.LayerNorm(s.n_embd)
        self.head = nn.Linear(s.n_embd, s.vocab_size, bias=False)
        self.apply(self._init)
        if s.tie_weights:
            self.head.weight = self.tok_emb.weight
        for name, p in self.named_parameters():
            if name.endswith("proj.weight") or name.endswith("mlp.2.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * s.n_layer))  # GPT-2 residual scaling

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def forward(
        self,
        idx: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        explicit: bool = False,
        return_attention: bool = False,
    ) -> Tensor | tuple[Tensor, list[Tensor]]:
        """Logits for every position; `inputs_embeds` (B, T, C) replaces the token embedding output.

        With `return_attention`, also each block's attention weights (B, nh, T, T),
        computed by the explicit path.
        """
        hidden, maps = self._hidden(idx, inputs_embeds, explicit or return_attention)
        logits = self.head(hidden)  # (B, T, vocab)
        return (logits, maps) if return_attention else logits

    def hidden(self, idx: Tensor, explicit: bool = False) -> Tensor:
        """The final hidden states (B, T, C), after the last LayerNorm: forward() = head(hidden())."""
        return self._hidden(idx, None, explicit)[0]

    def _hidden(self, idx: Tensor | None, inputs_embeds: Tensor | None, explicit: bool) -> tuple[Tensor, list[Tensor]]:
        x = self.tok_emb(idx) if inputs_embeds is None else inputs_embeds  # (B, T, C)
        T = x.shape[1]
        if T > self.shape.block_size:
            raise ValueError(f"sequence of {T} tokens is longer than the block size {self.shape.block_size}")
        x = self.drop(x + self.pos_emb(torch.arange(T, device=x.device)))  # (B, T, C)
        maps = []
        for block in self.blocks:
            x, att = block(x, explicit)
            maps.append(att)
        return self.ln_f(x), maps  # (B, T, C)

    def use_generator(self, generator: torch.Generator | None) -> None:
        """Draw every dropout mask (but the fused kernel's) from `generator`."""
        for m in self.modules():
            if isinstance(m, Dropout):
                m.generator = generator

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def estimated_parameters(cfg: LMConfig, vocab_size: int) -> int:
    """About how many weights the GPT of `cfg` has (12 d^2 per block, the embeddings), computed without building it."""
    n_layer, _, d = cfg.model.sizes()
    return 12 * n_layer * d * d + (vocab_size + cfg.model.block_size) * d


def build_gpt(cfg: LMConfig, vocab_size: int) -> GPT:
    """A GPT of the configured size, its initial weights drawn from train.seed (torch's global generator is left as
    it was)."""
    n_layer, n_head, n_embd = cfg.model.sizes()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.train.seed)
        return GPT(
            GPTShape(
                vocab_size,
                cfg.model.block_size,
                n_layer,
                n_head,
                n_embd,
                cfg.model.dropout,
                cfg.model.attn_dropout,
                cfg.model.attn_dropout_mode,
                cfg.model.tie_weights,
            )
        )
