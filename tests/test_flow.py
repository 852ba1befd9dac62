"""Flow matching beside the VE-SDE: the path and its target, OT pairing, the samplers' orders, the exact likelihood
of a Gaussian flow in closed form, the checkpoint's objective and the commands that do not apply to it."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from gencli.diffusion.likelihood.exact import exact_log_prob
from gencli.diffusion.process.flow import LinearFlow, interpolate, target_velocity
from gencli.diffusion.process.pairing import ot_pairs, pairing_cost
from gencli.diffusion.results.comparison import ComparisonRow, ModelSummary, ObjectiveComparison
from gencli.diffusion.results.quality import SampleQuality
from gencli.diffusion.sampling.samplers import sample
from gencli.diffusion.sampling.start import initial_noise
from gencli.diffusion.training.flow_loss import flow_matching_loss


def test_interpolation_ends_at_its_endpoints_and_moves_with_the_target_velocity():
    """x_s = (1 - s) x0 + s x1: x0 at s = 0, x1 at s = 1, and d x_s / ds (a finite difference) is x1 - x0."""
    g = torch.Generator().manual_seed(0)
    x0, x1 = torch.randn(50, 2, generator=g, dtype=torch.float64), torch.randn(50, 2, generator=g, dtype=torch.float64)
    assert torch.equal(interpolate(x0, x1, 0.0), x0)
    assert torch.allclose(interpolate(x0, x1, 1.0), x1)
    s = torch.rand(50, generator=g, dtype=torch.float64) * 0.9
    h = 1e-6
    fd = (interpolate(x0, x1, s + h) - interpolate(x0, x1, s)) / h
    assert torch.allclose(fd, target_velocity(x0, x1), atol=1e-6)
    assert torch.allclose(target_velocity(x0, x1), x1 - x0)


def test_forward_path_is_a_straight_line_from_the_data_to_a_source_draw():
    """In gencli's time the path starts on the data at t = 0, is straight at constant speed, and its t = 1 ends are
    draws of N(shift, scale^2 I)."""
    flow = LinearFlow(scale=2.0, shift=(1.0, -3.0))
    x1 = torch.tensor([[0.5, 0.25]]).expand(20000, 2)
    ts = torch.linspace(0, 1, 11)
    path = flow.forward_path(x1, ts, torch.Generator().manual_seed(1))
    assert torch.allclose(path[0], x1)
    steps = path[1:] - path[:-1]
    assert torch.allclose(steps, steps[:1].expand_as(steps), atol=1e-5)  # equal steps: straight, constant speed
    ends = path[-1].double()
    assert torch.allclose(ends.mean(0), torch.tensor([1.0, -3.0], dtype=torch.float64), atol=0.05)
    assert torch.allclose(ends.std(0), torch.tensor([2.0, 2.0], dtype=torch.float64), atol=0.05)


class OracleOfOnePoint(nn.Module):
    """The exact velocity field when the data is the single point p: v(x, s) = (p - x) / (1 - s), in gencli's time
    t = 1 - s: (p - x) / t (the standardised frame is the identity)."""

    def __init__(self, p, wrong: float = 0.0):
        super().__init__()
        self.p, self.wrong = torch.as_tensor(p), wrong
        self.null_index = None
        self.register_buffer("data_mean", torch.zeros(1, 2))

    def forward(self, x, t, labels=None):
        t = torch.as_tensor(t, dtype=x.dtype)
        return (self.p - x) / t[:, None] + self.wrong


def test_flow_matching_loss_is_zero_for_the_exact_field_and_grows_with_its_error():
    p = torch.tensor([0.3, -0.7])
    x1 = p.expand(64, 2).clone()
    flow = LinearFlow()
    for ot in (False, True):
        exact = flow_matching_loss(OracleOfOnePoint(p), x1, None, flow, torch.Generator().manual_seed(0), ot=ot)
        off = flow_matching_loss(OracleOfOnePoint(p, 0.5), x1, None, flow, torch.Generator().manual_seed(0), ot=ot)
        assert float(exact) < 1e-8
        assert float(off) == pytest.approx(0.5**2, rel=1e-5)  # the mean over points and coordinates of 0.5^2


def _brute_force_cost(x0: torch.Tensor, x1: torch.Tensor, labels=None) -> float:
    best = math.inf
    for perm in itertools.permutations(range(len(x0))):
        if labels is not None and any(labels[i] != labels[j] for i, j in zip(perm, range(len(x0)))):
            continue
        best = min(best, pairing_cost(x0[list(perm)], x1))
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ot_pairing_reaches_the_brute_force_minimum(seed):
    g = torch.Generator().manual_seed(seed)
    x0, x1 = torch.randn(7, 2, generator=g), torch.rand(7, 2, generator=g) * 2 - 1
    paired = ot_pairs(x0, x1)
    assert sorted(map(tuple, paired.tolist())) == sorted(map(tuple, x0.tolist()))  # a permutation of the draws
    assert pairing_cost(paired, x1) == pytest.approx(_brute_force_cost(x0, x1), rel=1e-9)
    assert pairing_cost(paired, x1) <= pairing_cost(x0, x1) + 1e-12


@pytest.mark.parametrize("seed", [0, 3])
def test_ot_pairing_within_classes_is_the_least_cost_among_class_preserving_pairs(seed):
    g = torch.Generator().manual_seed(seed)
    x0, x1 = torch.randn(7, 2, generator=g), torch.rand(7, 2, generator=g) * 2 - 1
    labels = torch.tensor([0, 1, 0, 2, 1, 0, 1])
    paired = ot_pairs(x0, x1, labels)
    for c in labels.unique():  # each class's rows receive the draws of that class's rows
        rows = labels == c
        assert sorted(map(tuple, paired[rows].tolist())) == sorted(map(tuple, x0[rows].tolist()))
    assert pairing_cost(paired, x1) == pytest.approx(_brute_force_cost(x0, x1, labels.tolist()), rel=1e-9)
    # and it is no better than pairing across classes may be
    assert pairing_cost(ot_pairs(x0, x1), x1) <= pairing_cost(paired, x1) + 1e-12


class GaussianFlow(nn.Module):
    """The exact marginal velocity of the straight path from N(0, I) to N(m, sd^2 I) (in the standardised frame):
    v(x, s) = m + (s sd^2 - (1 - s)) / ((1 - s)^2 + s^2 sd^2) (x - s m), the mean's and the spread's rates (the
    marginal at s is N(s m, (1 - s)^2 + s^2 sd^2)). The model sees data units: x = shift + scale * x_std."""

    def __init__(self, m, sd: float, flow: LinearFlow):
        super().__init__()
        self.m, self.sd, self.flow = torch.as_tensor(m, dtype=torch.float64), sd, flow
        self.n_classes, self.null_index = 0, None
        self.register_buffer("data_mean", torch.zeros(1, 2))

    def forward(self, x, t, labels=None):
        s = 1 - torch.as_tensor(t, dtype=x.dtype)
        s = s[:, None] if s.dim() == 1 else s
        xs = (x - torch.tensor(self.flow.shift, dtype=x.dtype)) / self.flow.scale
        var = (1 - s) ** 2 + s**2 * self.sd**2
        m = self.m.to(x.dtype)
        return m + (s * self.sd**2 - (1 - s)) / var * (xs - s * m)


@pytest.mark.parametrize("scale,shift", [(1.0, (0.0, 0.0)), (2.0, (1.0, -0.5))])
def test_exact_likelihood_of_a_gaussian_flow_matches_the_closed_form(scale, shift):
    """log p(x) by the flow's ODE with the exact divergence equals log N(x; shift + scale m, (scale sd)^2 I)."""
    flow = LinearFlow(scale, shift)
    m, sd = torch.tensor([0.5, -0.25]), 0.6
    model = GaussianFlow(m, sd, flow)
    x = torch.tensor([[0.0, 0.0], [1.2, -0.4], [2.0, 1.0], [-1.0, 0.3]])
    res = exact_log_prob(model, x, flow, None, "standard", rtol=1e-8, atol=1e-8)
    mean = torch.tensor(shift) + scale * m
    std = scale * sd
    truth = (-0.5 * ((x - mean) / std) ** 2 - math.log(std) - 0.5 * math.log(2 * math.pi)).sum(1).double()
    assert torch.allclose(res.logp, truth, atol=1e-4)


def test_samplers_of_a_flow_transport_the_source_to_the_data_with_their_orders():
    """On the exact Gaussian field the samplers carry N(0, I) to N(m, sd^2 I); the end points' mean error against a
    fine reference halves with Euler's step (first order) and falls at least 3.5x with midpoint's and heun's."""
    flow = LinearFlow()
    model = GaussianFlow(torch.tensor([0.5, -0.25]), 0.6, flow)
    z = initial_noise(model, 2000, "standard", flow, torch.Generator().manual_seed(0)).double()

    def run(name: str, steps: int) -> torch.Tensor:
        return sample(model, z, torch.linspace(1.0, 0.0, steps + 1, dtype=torch.float64), flow, name)

    ref = run("heun", 4000)
    assert torch.allclose(ref.mean(0), torch.tensor([0.5, -0.25], dtype=torch.float64), atol=0.04)
    assert torch.allclose(ref.std(0), torch.tensor([0.6, 0.6], dtype=torch.float64), atol=0.03)
    ratio = {
        name: (run(name, 40) - ref).abs().mean() / (run(name, 80) - ref).abs().mean()
        for name in ("euler", "midpoint", "heun")
    }
    assert 1.8 < ratio["euler"] < 2.2
    assert ratio["midpoint"] > 3.5 and ratio["heun"] > 3.5


def _row(model, sampler, e, ratio) -> ComparisonRow:
    q = SampleQuality(1000, 1000, "fresh data", 0.1 * ratio, 0.1, 0.01, 5, 0.99, 0.99, 0.99, 0.99, 5, 1.0)
    return ComparisonRow(model, sampler, e, e, q)


def _comparison(ve_ratios, flow_ratios, ve_straight=1.3, flow_straight=1.01):
    from gencli.diffusion.results.common import DataView

    budgets = [1, 2, 4, 8]
    rows = [_row("vesde", "euler", e, r) for e, r in zip(budgets, ve_ratios)]
    rows += [_row("flow-ot", "euler", e, r) for e, r in zip(budgets, flow_ratios)]
    models = [
        ModelSummary("vesde", "vesde", "a", 10.0, 100, ve_straight, 64),
        ModelSummary("flow-ot", "flow-ot", "b", 20.0, 100, flow_straight, 64),
    ]
    return ObjectiveComparison(rows, models, DataView("square", "square", (-2, 2, -2, 2)), 1000, 0, budgets)


def test_comparison_finding_names_who_needs_fewer_evaluations_either_way():
    flow_wins = _comparison([5.0, 3.0, 1.5, 1.1], [1.2, 1.1, 1.1, 1.1])
    assert "flow-ot needs 1 evaluation" in flow_wins.finding()
    assert "flow-ot needs 8x fewer than vesde" in flow_wins.finding()
    assert flow_wins.fewest("vesde", flow_wins.target()) == (8, "euler")
    ve_wins = _comparison([1.1, 1.1, 1.1, 1.1], [5.0, 3.0, 2.0, 1.1], ve_straight=1.01, flow_straight=1.4)
    assert "vesde needs 8x fewer than flow-ot" in ve_wins.finding()
    assert "vesde's sampling paths are the straightest" in ve_wins.finding()
    assert "flow-ot's sampling paths are the straightest" in flow_wins.finding()


def test_comparison_says_when_the_likelihood_gap_is_within_the_noise():
    c = _comparison([1.1] * 4, [1.1] * 4)
    c.models[0].ll_model, c.models[0].ll_truth, c.models[0].ll_se, c.models[0].ll_points = -1.5, -1.386, 0.05, 100
    c.models[1].ll_model, c.models[1].ll_truth, c.models[1].ll_se, c.models[1].ll_points = -1.45, -1.386, 0.05, 100
    assert "within the noise" in c.finding()
    c.models[0].ll_model = -2.5
    assert "flow-ot fits the density closer, beyond the noise" in c.finding()


# ------------------------------------------------------------------ trained models and the command line

TINY_FLOW = ["--set", "data.n_points=256", "--set", "train.epochs=40", "--set", "model.hidden=32"]


@pytest.fixture(scope="module")
def flow_ckpt(tmp_path_factory):
    from typer.testing import CliRunner

    from gencli.cli.app import app

    path = tmp_path_factory.mktemp("flow") / "flow-ot"
    r = CliRunner().invoke(app, ["diffusion", "train", "--objective", "flow-ot", "--ckpt", str(path), *TINY_FLOW])
    assert r.exit_code == 0, r.stderr
    return path


def test_the_checkpoint_records_its_objective_and_resuming_keeps_it(flow_ckpt, cli):
    from gencli.diffusion.model.store import load_trained

    trained = load_trained(flow_ckpt)
    assert trained.cfg.model.objective == "flow-ot" and isinstance(trained.sde, LinearFlow)
    assert trained.cfg.sample.start == "standard"
    r = cli("diffusion", "train", "--ckpt", flow_ckpt, "--resume", "--epochs", "50", "--objective", "vesde")
    assert r.exit_code == 2 and "model" in r.stderr and "resuming" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args,flag",
    [
        (["sample", "--sampler", "ddim"], "--sampler"),
        (["sample", "--sampler", "sde"], "--sampler"),
        (["sample", "--schedule", "karras"], "--schedule"),
        (["sample", "--start", "matched"], "--start"),
        (["determinism", "--sampler", "sde"], "--sampler"),
        (["invert", "--sampler", "sde", "--iterations", "2"], "--sampler"),
        (["sample", "--compare", "euler/uniform,ddim/uniform"], "--sampler"),
    ],
)
def test_a_setting_that_does_not_apply_to_a_flow_is_refused_in_one_line(flow_ckpt, cli, args, flag):
    r = cli("diffusion", args[0], "--ckpt", flow_ckpt, *args[1:])
    assert r.exit_code == 2, r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and flag in lines[0] and "flow" in lines[0], r.stderr


def test_a_flow_sampler_is_refused_for_the_vesde_model(diffusion_ckpts, cli):
    r = cli("diffusion", "sample", "--ckpt", diffusion_ckpts["uncond"], "--sampler", "midpoint")
    assert r.exit_code == 2 and "--sampler midpoint" in r.stderr and "VE-SDE" in r.stderr


def test_flow_commands_answer_the_course_questions(flow_ckpt, cli, tmp_path):
    """Samples with every flow sampler, the forward path, determinism, the exact likelihood (no bound) and the
    inversion all run on a flow checkpoint, and say what they are."""
    r = cli("diffusion", "sample", "--ckpt", flow_ckpt, "--steps", "4", "--compare", "euler,midpoint,heun", "--json")
    assert r.exit_code == 0, r.stderr
    assert all(f'"{name}"' in r.stdout for name in ("euler", "midpoint", "heun"))
    r = cli("diffusion", "trajectory", "--ckpt", flow_ckpt, "--forward", "--json")
    assert r.exit_code == 0, r.stderr
    r = cli("diffusion", "determinism", "--ckpt", flow_ckpt, "--repeats", "2", "--n", "50", "--json")
    assert r.exit_code == 0, r.stderr
    r = cli("diffusion", "prob", "--ckpt", flow_ckpt, "--point", "0.2,0.1", "--json")
    assert r.exit_code == 0, r.stderr
    out = r.json()
    text = json.dumps(out)
    assert '"bound": null' in text and "exact_logp" in text
    r = cli("diffusion", "invert", "--ckpt", flow_ckpt, "--iterations", "3", "--steps", "4", "--json")
    assert r.exit_code == 0, r.stderr


def test_compare_refuses_models_of_two_sets(flow_ckpt, set_ckpts, cli):
    other = next(iter(set_ckpts.values()))
    r = cli("diffusion", "compare", "--ckpt", flow_ckpt, "--ckpt", other, "--evaluations", "1")
    assert r.exit_code == 2 and "compare models of one set" in r.stderr


def test_compare_measures_every_sampler_at_each_budget(flow_ckpt, diffusion_ckpts, cli):
    r = cli(
        "diffusion", "compare", "--ckpt", diffusion_ckpts["uncond"], "--ckpt", flow_ckpt,
        "--evaluations", "1,2,4", "--n", "200", "--likelihood-points", "20", "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    out = r.json()
    seen = {(row["model"], row["sampler"], row["evaluations"]) for row in out["rows"]}
    assert ("vesde", "heun", 2) in seen and ("vesde", "heun", 1) not in seen  # a heun step costs 2
    assert ("flow-ot", "midpoint", 4) in seen and ("flow-ot", "ddim", 1) not in seen
    assert all(np.isfinite(row["tv_ratio"]) for row in out["rows"])
    assert {m["label"] for m in out["models"]} == {"vesde", "flow-ot"}
    assert all(m["straightness"] >= 1.0 - 1e-9 for m in out["models"])  # a path is never shorter than its chord
