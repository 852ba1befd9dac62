"""The exact log-likelihood of points under a trained model: the probability-flow ODE with an exact divergence.

For this VE SDE the probability-flow ODE (Song et al. 2021, eq. 13) is
    dx/dt = -(1/2) g(t)^2 score(x, t) = 5 sigma(t) D(x, t),   since g^2 = d sigma^2/dt = 10 sigma^2
and score = -D / sigma. Along its path, d log p_t(x_t) / dt = -div f(x_t, t), so
    log p_0(x_0) = log p_1(x_1) + integral_0^1 5 sigma(t) tr(dD/dx)(x_t, t) dt.
In 2D the trace is exact: two autograd passes, one per output (on the CPU, for up to NUMPY_MAX_POINTS points,
gencli's Denoiser carries its Jacobian forward in numpy instead: gencli.diffusion.likelihood.mlp_divergence).
The ODE runs from t = 0 up to t = 1 with scipy's adaptive Runge-Kutta (solve_ivp, RK45 by default) on every point
at once.

A flow model (gencli.diffusion.process.flow) runs its own ODE, dx/dt = -scale v(x, t) in gencli's time, through the
same code: its path ends on the data itself (no sigma_min) and its prior is the source it was trained from, so
neither bias below applies to it.

For the VE-SDE, two known biases, both stated and measured with the result: p_1 is the sampler's start distribution
(the matched Gaussian N(mean, (sigma_max^2 + var) I) by default), while the true x_1 of the training
data is those points blurred by N(0, sigma_max^2) (`forward_marginal_log_prob` gives its density, so
the prior's cost is known); and t = 0 is sigma_min = exp(-5), so what is measured is the density of
the data smoothed by N(0, sigma_min^2), not of the data itself (`smoothed_box_log_density` in
gencli.diffusion.datasets.square gives that target for a uniform square).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from gencli.diffusion.likelihood.mlp_divergence import DenoiserJacobian
from gencli.diffusion.model.denoiser import Denoiser
from gencli.diffusion.process.flow import LinearFlow
from gencli.diffusion.process.sde import VESDE
from gencli.diffusion.sampling.start import start_moments

NUMPY_MAX_POINTS = 384


@dataclass
class ExactLogProb:
    """Per point: log p_0(x) in nats, its two parts, and the number of denoiser evaluations the solver used."""

    logp: Tensor  # (N,) log p_1(x_1) + integral of the divergence
    prior: Tensor  # (N,) log p_1(x_1)
    divergence: Tensor  # (N,) integral_0^1 div f dt
    ends: Tensor  # (N, 2) x_1, where each path arrives at t = 1
    nfe: int


def divergence(model: Denoiser, x: Tensor, t: float, labels: Tensor | None) -> tuple[Tensor, Tensor]:
    """D(x, t) (N, 2) and the exact trace of its Jacobian dD/dx (N,), by one autograd pass per output (any model;
    DenoiserJacobian is the CPU's faster path for gencli's Denoiser)."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        d = model(x, t, labels)
        trace = sum(
            torch.autograd.grad(d[:, i].sum(), x, retain_graph=i < d.shape[1] - 1)[0][:, i] for i in range(d.shape[1])
        )
    return d.detach(), trace.detach()


def exact_log_prob(
    model: Denoiser,
    x: Tensor,
    sde: VESDE | LinearFlow,
    labels: Tensor | None = None,
    start: str = "matched",
    rtol: float = 1e-5,
    atol: float = 1e-5,
    method: str = "RK45",
) -> ExactLogProb:
    """log p_0(x) of points x (N, 2) by the probability-flow ODE from t = 0 to 1 (deterministic): the VE-SDE's, or
    a flow's own ODE dx/dt = -v, whose change of variables is the same (log p(x) = log p_source(x_1) - integral of
    div v ds)."""
    from scipy.integrate import solve_ivp  # scipy loads only when an exact likelihood is asked for

    net = copy.deepcopy(model).double().eval()  # float64 keeps the solver's error estimates clean
    n = x.shape[0]
    device = x.device
    nfe = 0

    # small batches on the CPU: gencli's Denoiser differentiated in numpy (2-3x faster at 100 points, even near 400,
    # slower past it: bench/diffusion_divergence.py)
    use_numpy = device.type == "cpu" and n <= NUMPY_MAX_POINTS and DenoiserJacobian.applies(net)
    fast = DenoiserJacobian(net, labels) if use_numpy else None

    def rhs(t: float, state: np.ndarray) -> np.ndarray:
        nonlocal nfe
        nfe += 1
        rate = sde.ode_rate(t)
        if fast is not None:
            d, tr = fast.value_and_trace(state[: 2 * n].reshape(n, 2), t)
            return np.concatenate([(rate * d).ravel(), rate * tr])
        z = torch.from_numpy(state[: 2 * n].reshape(n, 2)).to(device)
        d, tr = divergence(net, z, t, labels)
        return np.concatenate([(rate * d).cpu().numpy().ravel(), (rate * tr).cpu().numpy()])

    y0 = np.concatenate([x.detach().double().cpu().numpy().ravel(), np.zeros(n)])
    sol = solve_ivp(rhs, (0.0, 1.0), y0, method=method, rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"the probability-flow ODE did not reach t = 1: {sol.message}")
    end = sol.y[:, -1]
    x1 = torch.from_numpy(end[: 2 * n].reshape(n, 2))
    integral = torch.from_numpy(end[2 * n :])
    mean, std = start_moments(model, labels, n, start, sde)
    mean, std = mean.double().cpu(), std.double().cpu()
    prior = (-0.5 * ((x1 - mean) / std) ** 2 - torch.log(std) - 0.5 * math.log(2 * math.pi)).sum(dim=1)
    return ExactLogProb(prior + integral, prior, integral, x1, nfe)


def forward_marginal_log_prob(x1: Tensor, data: Tensor, sigma: float) -> Tensor:
    """log p_1(x1) (N,) of the training points pushed through the forward process to noise level `sigma`:
    log (1/n) sum_i N(x1; x_i, sigma^2 I), the exact density of x_1 = x_0 + sigma eps over the training set."""
    x1, data = x1.double(), data.double().to(x1.device)
    d2 = torch.cdist(x1, data) ** 2  # (N, n)
    dim = x1.shape[1]
    return (
        torch.logsumexp(-0.5 * d2 / sigma**2, dim=1)
        - math.log(data.shape[0])
        - 0.5 * dim * math.log(2 * math.pi * sigma**2)
    )
