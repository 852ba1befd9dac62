"""The reverse-time steps of the VE SDE, one function per sampler with one signature (k-diffusion's habit).

Each step maps a `Step` (the state z at time t, the model's eps prediction there, the next time) to z at
t_next. The table `SAMPLERS` is the one home of the samplers: the config's choices, the command-line
help and the sampling loop all read it. This module imports no torch (the step functions use only the
tensors' own arithmetic), so the config and `--help` can read the table without loading a model.

With sigma(t) = sigma_min^(1 - t) sigma_max^t, sigma'(t) = c sigma(t), c = log(sigma_max / sigma_min),
and the score -eps / sigma:
    euler: the exercise's step dz = -sigma'(t) sigma(t) score dt, i.e. z += c sigma(t) eps (t_next - t)
    ddim:  z += (sigma(t_next) - sigma(t)) eps, exact when eps is constant over the step (DDIM, Song et al. 2021)
    heun:  the ddim step corrected with the slope at its end (Karras et al. 2022, Algorithm 1)
    sde:   Euler-Maruyama for the reverse SDE dz = -g^2 score dt + g dW, g^2 = d sigma^2 / dt = 2 c sigma^2
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Step:
    """What a step sees: z at time t (sigma), the model's eps there, the next time and sigma, and two callables."""

    z: Any  # (N, 2) tensor
    eps: Any  # (N, 2): the model's prediction at (z, t)
    t: float
    t_next: float
    sigma: float
    sigma_next: float
    c: float  # log(sigma_max / sigma_min): sigma'(t) = c sigma(t)
    denoise: Callable[[Any, float], Any]  # eps at (z', t'): a second evaluation, for higher-order steps
    noise: Callable[[], Any]  # a fresh N(0, I) draw of z's shape, for stochastic steps


@dataclass(frozen=True)
class Sampler:
    """A sampler: its step, whether it draws noise in every step, and how many network evaluations a step costs."""

    name: str
    step: Callable[[Step], Any]
    stochastic: bool
    evaluations: int
    help: str


SAMPLERS: dict[str, Sampler] = {}


def sampler(name: str, help: str, stochastic: bool = False, evaluations: int = 1):
    """Register the decorated step function under `name`."""

    def register(step: Callable[[Step], Any]) -> Callable[[Step], Any]:
        SAMPLERS[name] = Sampler(name, step, stochastic, evaluations, help)
        return step

    return register


@sampler("euler", "the exercise's step dz = -sigma' sigma score dt")
def euler(s: Step):
    return s.z + (s.c * s.sigma * (s.t_next - s.t)) * s.eps


@sampler("ddim", "the exact step in sigma for a constant eps (DDIM)")
def ddim(s: Step):
    return s.z + (s.sigma_next - s.sigma) * s.eps


@sampler("heun", "second order (Karras et al. 2022, Alg. 1)", evaluations=2)
def heun(s: Step):
    z_pred = s.z + (s.sigma_next - s.sigma) * s.eps
    return s.z + (s.sigma_next - s.sigma) * 0.5 * (s.eps + s.denoise(z_pred, s.t_next))


@sampler("sde", "Euler-Maruyama of the reverse SDE, noise in every step", stochastic=True)
def sde(s: Step):
    h = s.t - s.t_next
    g2 = 2 * s.c * s.sigma * s.sigma  # g(t)^2 = d sigma^2 / dt = 2 sigma sigma'
    return s.z - (2 * s.c * s.sigma * h) * s.eps + (g2 * h) ** 0.5 * s.noise()


def sampler_names(stochastic: bool | None = None) -> str:
    """'euler, ddim, heun' and the like: the registered samplers (only the stochastic or deterministic ones when
    asked), for help texts."""
    return ", ".join(s.name for s in SAMPLERS.values() if stochastic is None or s.stochastic == stochastic)


def sampler_help() -> str:
    """'euler: ...; ddim: ...' for the config's and the command line's help."""
    return "; ".join(f"{s.name}: {s.help}" for s in SAMPLERS.values())
