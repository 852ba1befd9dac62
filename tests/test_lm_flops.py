"""Model FLOPs utilisation: the FLOPs formula against torch's own count of a training step, and the peak table's
consistency."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from gencli.core.peak import cpu_flops_per_cycle, device_peak
from gencli.lm.model.gpt import GPT, GPTShape
from gencli.lm.training.flops import training_flops_per_token


@pytest.mark.parametrize("positions,tie", [("learned", False), ("rotary", True)])
def test_training_flops_per_token_matches_torchs_count_of_a_step(positions, tie):
    """6 N + 12 L T d against FlopCounterMode's count of the matrix products in one forward and backward pass (the
    explicit attention path, which computes the full T x T scores the formula counts)."""
    torch.manual_seed(0)
    m = GPT(GPTShape(97, 16, 2, 2, 32, tie_weights=tie, positions=positions))
    x = torch.randint(0, 97, (3, 16))
    with FlopCounterMode(display=False) as counter:
        logits = m(x, explicit=True)
        torch.nn.functional.cross_entropy(logits.view(-1, 97), x.view(-1)).backward()
    counted = counter.get_total_flops() / x.numel()
    assert training_flops_per_token(m) == pytest.approx(counted, rel=0.03)


def test_the_peak_table_is_consistent():
    intel = {"avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16"}
    for vendor in ("GenuineIntel", "AuthenticAMD"):
        fp32 = cpu_flops_per_cycle(intel - {"amx_bf16"}, vendor, False)[0]
        bf16 = cpu_flops_per_cycle(intel - {"amx_bf16"}, vendor, True)[0]
        assert bf16 == 2 * fp32  # bf16 pairs: twice the lanes of fp32 on the same vector width
    assert cpu_flops_per_cycle(intel, "GenuineIntel", True)[0] > cpu_flops_per_cycle(intel, "GenuineIntel", False)[0]
    assert cpu_flops_per_cycle({"sse2"}, "GenuineIntel", False) is None
    assert device_peak("mps", True) is None and device_peak("cuda", True, gpu_name="Some Unknown GPU") is None
    h = device_peak("cuda", True, gpu_name="NVIDIA H200")
    assert h is not None and h.flops > device_peak("cuda", False, gpu_name="NVIDIA H200").flops


def test_lm_train_reports_utilisation_consistently(lm):
    m = lm.checkpoint.meta["metrics"]
    assert m["achieved_tflops"] == pytest.approx(m["model_flops_per_token"] * m["tokens_per_s"] / 1e12, rel=1e-9)
    if m["mfu"] is not None:
        assert m["mfu"] == pytest.approx(m["achieved_tflops"] / m["peak_tflops"], rel=1e-9)
        assert 0 < m["mfu"] < 1
