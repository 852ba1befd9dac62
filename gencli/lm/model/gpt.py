"""A GPT-2 style decoder: token embeddings with learned position embeddings (GPT-2) or rotary positions (RoPE, Su
et al. 2021, the default of new models), pre-LayerNorm blocks, a linear head (tied to the token embedding by
default).

Rotary positions rotate each head's queries and keys by angles proportional to their positions, so an attention
score depends only on the distance between the two tokens: keys cached at their absolute positions stay valid as the
context window slides (gencli.lm.inference.kv_cache), where a learned position embedding changes every token's
hidden state once the window moves.

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
    positions: str = "learned"  # "learned": a position embedding (GPT-2); "rotary": RoPE in every attention layer


ROPE_BASE = 10000.0


def rotary_tables(positions: Tensor, head_dim: int, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    """cos and sin (T, head_dim) of the angles pos * base^(-2i / head_dim), each frequency for a pair of channels
    (the first and second halves, GPT-NeoX's layout); computed in float64, then cast."""
    half = head_dim // 2
    inv_freq = ROPE_BASE ** (-torch.arange(half, dtype=torch.float64, device=positions.device) / half)
    angles = positions.to(torch.float64)[:, None] * inv_freq[None, :]  # (T, half)
    angles = torch.cat([angles, angles], dim=1)
    return angles.cos().to(dtype), angles.sin().to(dtype)


def rotate(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """x (B, nh, T, hs) rotated pairwise: (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin) per frequency."""
    x1, x2 = x.chunk(2, dim=-1)
    return x * cos + torch.cat([-x2, x1], dim=-1) * sin


class CausalSelfAttention(nn.Module):
    def __init__(self, s: GPTShape):
        super().__init__()
        self.n_head = s.n_head
        self.qkv = nn.Linear(s.n_embd, 3 * s.n_embd)
        self.proj = nn.Linear(s.n_embd, s.n_embd)
        self.dropout = s.attn_dropout
        self.drop_keys = s.attn_dropout_mode == "keys"
        self.attn_drop = Dropout(s.attn_dropout)  # on the attention weights, or on whole keys (their value rows)

    def forward(
        self,
        x: Tensor,
        explicit: bool = False,
        rope: tuple[Tensor, Tensor] | None = None,
        cache: dict | None = None,
        band: Tensor | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        """The attention branch (before its residual dropout) and, on the explicit path, the weights.

        `band`: a (T, T) mask for a sequence longer than the block (each query sees the last block_size keys up to
        itself: sliding-window attention); otherwise the plain causal mask.

        `rope`: the rotary tables of the T positions (queries and keys are rotated). `cache`: this layer's keys and
        values of earlier tokens ({"k", "v"}, (B, nh, L, hs), already rotated), extended here by the T new ones and
        cut to the last `cache["keep"]`; the new queries attend to every kept key before them (inference only)."""
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        if rope is not None:
            q, k = rotate(q, *rope), rotate(k, *rope)
        if cache is not None:
            return self._cached(q, k, v, cache), None
        p = self.dropout if self.training else 0.0
        if self.drop_keys and p > 0:
            # dropping key j's column of the weights after the softmax (per example and head) is zeroing its value row
            keep = self.attn_drop(torch.ones((B, self.n_head, T, 1), dtype=v.dtype, device=v.device))
            v, p = v * keep, 0.0
        att = None
        if explicit:
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))  # (B, nh, T, T)
            allowed = torch.ones(T, T, dtype=torch.bool, device=q.device).tril() if band is None else band
            scores = scores.masked_fill(~allowed, float("-inf"))
            att = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)  # (B, nh, T, T)
            y = (self.attn_drop(att) if p > 0 else att) @ v  # (B, nh, T, hs)
        elif band is not None:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=band)  # inference past the block: no dropout
        else:
            y = self._fused(q, k, v, p)  # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        return self.proj(y), att

    def _cached(self, q: Tensor, k: Tensor, v: Tensor, cache: dict) -> Tensor:
        """Attention of the new queries over the cached keys and the new ones (no dropout: inference)."""
        if "k" in cache:
            k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
        keep = cache["keep"]
        T, L = q.shape[2], k.shape[2]
        if T == 1 and L <= keep + 1:  # one new token sees every kept key
            y = F.scaled_dot_product_attention(q, k, v)
        else:  # query i sits at key position L - T + i and sees the keep + 1 keys up to it
            at = torch.arange(L - T, L, device=q.device)[:, None]
            j = torch.arange(L, device=q.device)[None, :]
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=(j <= at) & (at - j <= keep))
        cache["k"], cache["v"] = k[:, :, -keep:], v[:, :, -keep:]
        B, _, _, hs = y.shape
        return self.proj(y.transpose(1, 2).contiguous().view(B, T, self.n_head * hs))

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

    def forward(
        self,
        x: Tensor,
        explicit: bool = False,
        rope: tuple[Tensor, Tensor] | None = None,
        cache: dict | None = None,
        band: Tensor | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        a, att = self.attn(self.ln1(x), explicit, rope, cache, band)
        x = self.resid_drop.add(x, a)
        return self.resid_drop.add(x, self.mlp(self.ln2(x))), att


class GPT(nn.Module):
    """forward(idx | inputs_embeds) -> logits (B, T, vocab) for every position."""

    def __init__(self, s: GPTShape):
        super().__init__()
        self.shape = s
        self.tok_emb = nn.Embedding(s.vocab_size, s.n_embd)
        self.pos_emb = nn.Embedding(s.block_size, s.n_embd) if s.positions == "learned" else None
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

    def _hidden(
        self,
        idx: Tensor | None,
        inputs_embeds: Tensor | None,
        explicit: bool,
        start: int = 0,
        caches: list[dict] | None = None,
    ) -> tuple[Tensor, list[Tensor]]:
        x = self.tok_emb(idx) if inputs_embeds is None else inputs_embeds  # (B, T, C)
        T, W = x.shape[1], self.shape.block_size
        band = None
        if T > W and (self.pos_emb is not None or caches is not None):  # step() feeds a cache block by block
            raise ValueError(f"sequence of {T} tokens is longer than the block size {W}")
        if T > W:  # rotary positions: sliding-window attention, each token sees the last W tokens at every layer
            at = torch.arange(T, device=x.device)
            band = (at[:, None] >= at[None, :]) & (at[:, None] - at[None, :] < W)
        positions = torch.arange(start, start + T, device=x.device)
        rope = None
        if self.pos_emb is not None:
            x = x + self.pos_emb(positions)  # (B, T, C)
        else:
            rope = rotary_tables(positions, self.shape.n_embd // self.shape.n_head, x.dtype)
        x = self.drop(x)
        maps = []
        for i, block in enumerate(self.blocks):
            x, att = block(x, explicit, rope, caches[i] if caches is not None else None, band)
            maps.append(att)
        return self.ln_f(x), maps  # (B, T, C)

    def reach(self) -> int:
        """How many tokens back the last position's logits can depend on: the block for learned positions; for
        rotary ones, sliding-window attention reaches block_size - 1 tokens further at every layer."""
        W = self.shape.block_size
        return W if self.pos_emb is not None else self.shape.n_layer * (W - 1) + 1

    def step(self, idx: Tensor, start: int, caches: list[dict]) -> Tensor:
        """Logits (B, T, vocab) of tokens `idx` at positions start .. start + T - 1 given the keys and values of the
        tokens before them in `caches` (one dict per block, extended in place): incremental decoding. With learned
        positions the positions must stay below the block size (the caller rebuilds once the window slides)."""
        return self.head(self.step_hidden(idx, start, caches))

    def step_hidden(self, idx: Tensor, start: int, caches: list[dict]) -> Tensor:
        """The final hidden states (B, T, C) of `step` (step = head(step_hidden)); fed a block at a time."""
        if self.pos_emb is not None and start + idx.shape[1] > self.shape.block_size:
            raise ValueError("learned positions: the cache cannot slide past the block size")
        W = self.shape.block_size
        chunks = [self._hidden(idx[:, i : i + W], None, False, start + i, caches)[0] for i in range(0, idx.shape[1], W)]
        return torch.cat(chunks, dim=1)

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
    positions = cfg.model.block_size if cfg.model.positions == "learned" else 0
    return 12 * n_layer * d * d + (vocab_size + positions) * d


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
                cfg.model.positions,
            )
        )
