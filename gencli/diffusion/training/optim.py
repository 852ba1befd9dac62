"""Adam for the small denoiser, written with torch's foreach ops instead of torch.optim.

The first call into any torch.optim optimizer imports torch._dynamo, which costs seconds of
process start on a small CPU (more than the rest of a short `gencli diffusion train` apart
from the training itself). The update is Adam exactly (Kingma and Ba 2015, Algorithm 1,
with bias correction); a test checks it against torch.optim.Adam step by step.
"""

from __future__ import annotations

import torch
from torch import Tensor


class Adam:
    """Adam over a list of parameters; `state_dict()` holds tensors and builtins only."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.params: list[Tensor] = list(params)
        self.lr, self.betas, self.eps = lr, betas, eps
        self.step_count = 0
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2; p <- p - lr (m / (1 - b1^k)) / (sqrt(v / (1 - b2^k)) +
        eps)."""
        b1, b2 = self.betas
        self.step_count += 1
        grads = [p.grad for p in self.params]
        torch._foreach_lerp_(self.exp_avg, grads, 1 - b1)
        torch._foreach_mul_(self.exp_avg_sq, b2)
        torch._foreach_addcmul_(self.exp_avg_sq, grads, grads, 1 - b2)
        denom = torch._foreach_sqrt(self.exp_avg_sq)
        torch._foreach_div_(denom, (1 - b2**self.step_count) ** 0.5)
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(self.params, self.exp_avg, denom, -self.lr / (1 - b1**self.step_count))

    def state_dict(self) -> dict:
        return {
            "step": self.step_count,
            "exp_avg": [t.clone() for t in self.exp_avg],
            "exp_avg_sq": [t.clone() for t in self.exp_avg_sq],
        }

    def load_state_dict(self, state: dict) -> None:
        """This class's state, or a torch.optim.Adam state_dict (checkpoints written before this class)."""
        if "param_groups" in state:
            per = [state["state"][i] for i in range(len(self.params))]
            state = {
                "step": int(per[0]["step"]),
                "exp_avg": [s["exp_avg"] for s in per],
                "exp_avg_sq": [s["exp_avg_sq"] for s in per],
            }
        self.step_count = int(state["step"])
        self.exp_avg = [t.clone().to(p.device) for t, p in zip(state["exp_avg"], self.params)]
        self.exp_avg_sq = [t.clone().to(p.device) for t, p in zip(state["exp_avg_sq"], self.params)]
