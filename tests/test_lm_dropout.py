"""The cheap dropout mask against its definition: drop rate, unbiasedness, independence, gradient, reproducibility."""

import math

import pytest
import torch

from gencli.lm.model.dropout import LEVELS, drop_threshold, dropout, dropout_add, scaled_mask

N = 1_000_000


def _sigma(q: float, n: int = N) -> float:
    return math.sqrt(q * (1 - q) / n)


@pytest.mark.parametrize("p", [0.1, 0.2, 0.5, 0.9])
def test_drop_rate_is_p_rounded_to_a_byte(p):
    q = drop_threshold(p) / LEVELS
    assert abs(q - p) <= 0.5 / LEVELS
    m = scaled_mask(torch.Size([N]), p, torch.float32, torch.Generator().manual_seed(1))
    dropped = (m == 0).double().mean().item()
    assert abs(dropped - q) < 5 * _sigma(q)
    assert torch.allclose(m[m != 0], torch.tensor(1 / (1 - q)))  # kept elements carry the inverse keep rate


def test_neighbours_are_independent_and_the_mean_is_kept():
    p = 0.2
    q = drop_threshold(p) / LEVELS
    m = scaled_mask(torch.Size([N]), p, torch.float32, torch.Generator().manual_seed(2))
    d = m == 0
    for lag in (1, 2, 7, 8, 9):  # inside one 64-bit word and across words
        both = (d[:-lag] & d[lag:]).double().mean().item()
        assert abs(both - q * q) < 5 * _sigma(q * q)
    x = torch.full((N,), 3.0)
    out = dropout(x, p, True, torch.Generator().manual_seed(3))
    assert abs(out.mean().item() - 3.0) < 5 * 3.0 * math.sqrt(q / (1 - q) / N)


def test_gradient_flows_through_the_same_mask():
    x = torch.randn(4096, dtype=torch.float64, requires_grad=True)
    out = dropout(x, 0.3, True, torch.Generator().manual_seed(4))
    w = torch.randn(4096, dtype=torch.float64)
    (out * w).sum().backward()
    assert torch.allclose(x.grad, w * out.detach() / x.detach())


def test_masks_follow_the_generator_and_bf16_matches_fp32():
    shape = torch.Size([3, 5, 7])
    a = scaled_mask(shape, 0.2, torch.float32, torch.Generator().manual_seed(5))
    b = scaled_mask(shape, 0.2, torch.float32, torch.Generator().manual_seed(5))
    c = scaled_mask(shape, 0.2, torch.float32, torch.Generator().manual_seed(6))
    h = scaled_mask(shape, 0.2, torch.bfloat16, torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(a == 0, h == 0)


def test_off_in_evaluation_and_at_p_zero():
    x = torch.randn(100)
    assert dropout(x, 0.5, False, None) is x
    assert dropout(x, 0.0, True, None) is x


def test_the_fused_residual_form_equals_dropout_then_add():
    x = torch.randn(64, 48, dtype=torch.float64, requires_grad=True)
    b = torch.randn(64, 48, dtype=torch.float64, requires_grad=True)
    fused = dropout_add(x, b, 0.2, True, torch.Generator().manual_seed(9))
    b2 = b.detach().clone().requires_grad_(True)
    plain = x.detach() + dropout(b2, 0.2, True, torch.Generator().manual_seed(9))
    assert torch.allclose(fused, plain)
    fused.sum().backward()
    plain.sum().backward()
    assert torch.allclose(b.grad, b2.grad) and torch.equal(x.grad, torch.ones_like(x))
