"""Rotary positions and the KV cache: relative scores, sliding-window attention by two code paths, incremental
decoding identical to the uncached path (greedy and sampled, short and long prompts, past the block size), and old
checkpoints (learned positions, no `positions` key) still loading."""

from __future__ import annotations

import pytest
import torch
import yaml

from gencli.lm.inference.generate import generate
from gencli.lm.inference.kv_cache import IncrementalLogits
from gencli.lm.model.gpt import GPT, GPTShape, rotary_tables, rotate

BLOCK = 8


def model(positions: str, seed: int = 0, sharpen: float = 1.0) -> GPT:
    torch.manual_seed(seed)
    m = GPT(GPTShape(50, BLOCK, 3, 2, 16, positions=positions)).eval()
    with torch.no_grad():  # a sharper output layer: greedy choices far from ties, as a trained model's are
        m.head.weight.mul_(sharpen)
    return m


def test_rotary_scores_depend_only_on_the_distance():
    g = torch.Generator().manual_seed(0)
    q, k = (
        torch.randn(1, 1, 1, 8, generator=g, dtype=torch.float64),
        torch.randn(1, 1, 1, 8, generator=g, dtype=torch.float64),
    )

    def score(m: int, n: int) -> float:
        cq, sq = rotary_tables(torch.tensor([m]), 8, torch.float64)
        ck, sk = rotary_tables(torch.tensor([n]), 8, torch.float64)
        return float((rotate(q, cq, sq) * rotate(k, ck, sk)).sum())

    assert score(5, 2) == pytest.approx(score(1005, 1002), abs=1e-9)
    assert score(5, 2) != pytest.approx(score(5, 3), abs=1e-6)
    cos, sin = rotary_tables(torch.tensor([3, 40]), 8, torch.float64)
    assert torch.allclose(rotate(q, cos[:1], sin[:1]).norm(), q.norm())  # a rotation keeps the length


def test_sliding_window_attention_agrees_between_the_fused_and_explicit_paths():
    """Past the block size a rotary model attends over a band: the fused kernel with its mask and softmax(QK^T)
    with the band written out give the same logits, and each position sees only the last block_size tokens."""
    m = model("rotary")
    x = torch.randint(0, 50, (2, 3 * BLOCK + 1))
    fused, explicit = m(x), m(x, explicit=True)
    assert torch.allclose(fused, explicit, atol=1e-5)
    _, maps = m(x, return_attention=True)
    att = maps[0][0, 0]  # (T, T)
    assert torch.allclose(att.sum(-1), torch.ones(att.shape[0]), atol=1e-6)
    i, j = torch.meshgrid(torch.arange(att.shape[0]), torch.arange(att.shape[0]), indexing="ij")
    assert (att[(j > i) | (i - j >= BLOCK)] == 0).all()
    # within the block the band is the plain causal mask: a short sequence's logits are unchanged by what follows
    assert torch.allclose(m(x[:, :BLOCK]), fused[:, :BLOCK], atol=1e-5)


@pytest.mark.parametrize("positions", ["rotary", "learned"])
@pytest.mark.parametrize("prompt", [1, BLOCK - 1, BLOCK, 2 * BLOCK + 3])
def test_cached_generation_is_the_uncached_one_token_for_token(positions, prompt):
    m = model(positions, seed=prompt, sharpen=30.0)
    ids = torch.randint(0, 50, (prompt,), generator=torch.Generator().manual_seed(prompt)).tolist()
    steps = 5 * BLOCK  # well past the block size
    assert generate(m, ids, steps, greedy=True) == generate(m, ids, steps, greedy=True, cached=False)
    sampled = [generate(m, ids, steps, generator=torch.Generator().manual_seed(7), cached=c) for c in (True, False)]
    assert sampled[0] == sampled[1]


def test_incremental_logits_match_a_full_forward_and_rebuild_on_a_new_sequence():
    m = model("rotary", sharpen=5.0)
    inc = IncrementalLogits(m)
    ids = [3, 1, 4]
    for _ in range(3 * BLOCK):
        full = m(torch.tensor([ids[-m.reach() :]]))[0, -1]
        assert torch.allclose(inc.logits(ids), full, atol=1e-5)
        ids.append(int(full.argmax()))
    assert inc.rebuilds == 1
    inc.logits([9, 9])  # not one token more than the last call: rebuilt from its window
    assert inc.rebuilds == 2


def test_learned_positions_refuse_a_sequence_past_the_block():
    m = model("learned")
    with pytest.raises(ValueError, match="longer than the block size"):
        m(torch.zeros(1, BLOCK + 1, dtype=torch.long))


def test_a_checkpoint_without_the_positions_key_loads_with_learned_positions(lm, tmp_path):
    """A checkpoint written before model.positions existed (its config has no such key, its weights a position
    embedding) loads as what it is."""
    import shutil

    from gencli.lm.model.store import load_trained

    assert lm.cfg.model.positions == "rotary" and lm.model.pos_emb is None  # today's default
    old = tmp_path / "old"
    shutil.copytree(lm.checkpoint.path, old)
    learned = model("learned")
    del learned  # the layout is what matters: rebuild the tiny model with a position embedding
    from safetensors.torch import load_file, save_file

    weights = load_file(old / "model.safetensors")
    d = lm.model.shape.n_embd
    weights["pos_emb.weight"] = torch.zeros(lm.model.shape.block_size, d)
    save_file(weights, old / "model.safetensors")
    cfg = yaml.safe_load((old / "config.yaml").read_text())
    del cfg["model"]["positions"]
    (old / "config.yaml").write_text(yaml.safe_dump(cfg))
    back = load_trained(old)
    assert back.cfg.model.positions == "learned" and back.model.pos_emb is not None
