"""The probability-flow ODE's divergence: autograd (two passes) against the Denoiser's numpy forward Jacobian.

Per batch size, milliseconds per call of each path on random Denoisers of the report's shapes (the unconditional
and flow MLP of width 128, the gallery's with 32 Fourier features, the conditional one with 9 classes), calls
interleaved, best of 3 rounds of 50; and the largest difference of the two traces. exact_log_prob takes numpy up
to NUMPY_MAX_POINTS points. Run: .venv/bin/python bench/diffusion_divergence.py
"""

import time

import numpy as np
import torch
from cpu_info import cpu_line  # bench/ is on sys.path when a script there runs

from gencli.diffusion.config import ModelConfig
from gencli.diffusion.likelihood.exact import NUMPY_MAX_POINTS, divergence
from gencli.diffusion.likelihood.mlp_divergence import DenoiserJacobian
from gencli.diffusion.model.denoiser import Denoiser

SHAPES = {
    "width 128": (ModelConfig(hidden=128), 0),
    "width 128, 32 Fourier": (ModelConfig(hidden=128, fourier=32), 0),
    "width 128, 9 classes": (ModelConfig(hidden=128), 9),
}
SIZES = (50, 100, 200, 400, 800, 1681)


def per_call(fn, calls: int = 50) -> float:
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls * 1e3


def main() -> None:
    print(cpu_line())
    print(f"{'model':<24} {'points':>6} {'autograd ms':>11} {'numpy ms':>9} {'ratio':>6} {'max |diff|':>10}")
    for name, (cfg, classes) in SHAPES.items():
        torch.manual_seed(0)
        net = Denoiser(cfg, classes, null_class=bool(classes)).double().eval()
        for n in SIZES:
            x = torch.randn(n, 2, dtype=torch.float64)
            labels = torch.randint(0, classes, (n,)) if classes else None
            fast = DenoiserJacobian(net, labels)
            xn = x.numpy()
            a = b = float("inf")
            for _ in range(3):
                a = min(a, per_call(lambda net=net, x=x, labels=labels: divergence(net, x, 0.3, labels)))
                b = min(b, per_call(lambda fast=fast, xn=xn: fast.value_and_trace(xn, 0.3)))
            diff = np.abs(divergence(net, x, 0.3, labels)[1].numpy() - fast.value_and_trace(xn, 0.3)[1]).max()
            print(f"{name:<24} {n:>6} {a:>11.2f} {b:>9.2f} {a / b:>6.2f} {diff:>10.1e}")
    print(f"exact_log_prob: numpy up to {NUMPY_MAX_POINTS} points on the CPU; torch: {torch.get_num_threads()} threads")


if __name__ == "__main__":
    main()
