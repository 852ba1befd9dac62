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

A flow model (gencli.diffusion.process.flow) has its own table, `FLOW_SAMPLERS`: its prediction is the velocity v
(in the data's units) of dx/ds = v, s = 1 - t, so with h = t - t_next > 0:
    euler:    z += h v
    midpoint: z += h v(z + (h/2) v, t - h/2)            (explicit midpoint, second order, 2 evaluations)
    heun:     z += (h/2) (v + v(z + h v, t_next))       (the trapezoidal corrector, second order, 2 evaluations)
A flow has no stochastic sampler here: its velocity alone does not give the score a reverse SDE needs without
assuming the source's exact Gaussian path, so none is offered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Step:
    """What a step sees: z at time t (sigma), the model's eps there, the next time and sigma, and two callables."""

    z: Any  # (N, 2) tensor
    eps: Any  # (N, 2): the model's prediction at (z, t): eps for the VE-SDE, the velocity for a flow
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


SAMPLERS: dict[str, Sampler] = {}  # the VE-SDE's
FLOW_SAMPLERS: dict[str, Sampler] = {}  # a flow model's


def sampler(name: str, help: str, stochastic: bool = False, evaluations: int = 1, table: dict | None = None):
    """Register the decorated step function under `name` (in `table`, the VE-SDE's by default)."""

    def register(step: Callable[[Step], Any]) -> Callable[[Step], Any]:
        (SAMPLERS if table is None else table)[name] = Sampler(name, step, stochastic, evaluations, help)
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


@sampler("euler", "z += h v, h = t - t_next", table=FLOW_SAMPLERS)
def flow_euler(s: Step):
    return s.z + (s.t - s.t_next) * s.eps


@sampler("midpoint", "explicit midpoint, second order (flow models)", evaluations=2, table=FLOW_SAMPLERS)
def flow_midpoint(s: Step):
    h = s.t - s.t_next
    return s.z + h * s.denoise(s.z + (0.5 * h) * s.eps, s.t - 0.5 * h)


@sampler("heun", "trapezoidal predictor-corrector, second order", evaluations=2, table=FLOW_SAMPLERS)
def flow_heun(s: Step):
    h = s.t - s.t_next
    return s.z + (0.5 * h) * (s.eps + s.denoise(s.z + h * s.eps, s.t_next))


def samplers_for(objective: str) -> dict[str, Sampler]:
    """The samplers that apply to a model trained with `objective` (vesde, flow or flow-ot)."""
    return FLOW_SAMPLERS if objective.startswith("flow") else SAMPLERS


def is_stochastic(name: str) -> bool:
    """True for a sampler that draws fresh noise in every step (only the VE-SDE has one)."""
    found = SAMPLERS.get(name) or FLOW_SAMPLERS.get(name)
    return bool(found and found.stochastic)


ALL_SAMPLER_NAMES = tuple(dict.fromkeys([*SAMPLERS, *FLOW_SAMPLERS]))  # every name a command line accepts


def sampler_names(stochastic: bool | None = None, objective: str = "vesde") -> str:
    """'euler, ddim, heun' and the like: the samplers of an objective (only the stochastic or deterministic ones when
    asked), for help texts."""
    table = samplers_for(objective)
    return ", ".join(s.name for s in table.values() if stochastic is None or s.stochastic == stochastic)


def sampler_help() -> str:
    """'euler: ...; ddim: ...' for the config's and the command line's help, the flow's own after them."""
    flow = ", ".join(n for n in FLOW_SAMPLERS)
    return "; ".join(f"{s.name}: {s.help}" for s in SAMPLERS.values()) + f" (a flow model: {flow})"
