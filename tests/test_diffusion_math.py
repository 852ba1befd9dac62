"""The diffusion mathematics against closed forms (Gaussian data) and invariants."""

import math

import numpy as np
import pytest
import torch

from gencli.diffusion.datasets.square import Square, grid_labels
from gencli.diffusion.likelihood.bound import log_prob_bound
from gencli.diffusion.process.sde import VESDE
from gencli.diffusion.quality.regions import class_moments, own_region_fractions
from gencli.diffusion.quality.square import inside_fraction, tv_from_uniform
from gencli.diffusion.sampling.grids import karras_grid, time_grid, uniform_grid
from gencli.diffusion.sampling.samplers import sample, sample_points
from tests.gaussian import GaussianDenoiser, gaussian_log_prob

SDE = VESDE()


def test_sigma_endpoints_and_derivative():
    assert SDE.sigma(1.0).item() == pytest.approx(1.0)
    assert SDE.sigma(0.0).item() == pytest.approx(math.exp(-5))
    t = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)
    h = 1e-6
    fd = (SDE.sigma(t + h) - SDE.sigma(t - h)) / (2 * h)
    assert torch.allclose(SDE.dsigma(t).double(), fd.double(), rtol=1e-4)
    assert torch.allclose(SDE.sigma(t), torch.exp(5 * (t - 1)), rtol=1e-9)


def test_forward_noising_statistics():
    g = torch.Generator().manual_seed(0)
    x0 = torch.tensor([[1.5, -1.0]]).repeat(20000, 1)
    t = torch.full((20000,), 0.8)
    xt = SDE.perturb(x0, t, torch.randn(x0.shape, generator=g))
    assert torch.allclose(xt.mean(0), x0[0], atol=0.03)
    assert torch.allclose(xt.std(0), SDE.sigma(0.8).expand(2), rtol=0.03)
    ts = torch.linspace(0, 1, 50)
    paths = SDE.forward_path(torch.zeros(5000, 2), ts, g)  # (50, 5000, 2)
    assert torch.allclose(paths.std(dim=1), SDE.sigma(ts)[:, None].expand(50, 2), rtol=0.06)


def test_time_grids_are_decreasing_from_one_to_zero():
    for ts in (uniform_grid(10), karras_grid(10, SDE, 7.0)):
        assert ts[0].item() == pytest.approx(1.0) and ts[-1].item() == pytest.approx(0.0)
        assert (ts[1:] < ts[:-1]).all()


def test_grids_follow_their_closed_forms_and_the_uniform_one_is_already_geometric():
    T, rho = 50, 7.0
    i = torch.arange(T + 1, dtype=torch.float64)
    lo, hi = SDE.sigma_min, SDE.sigma_max
    geometric = hi * (lo / hi) ** (i / T)  # sigma(t) = exp(5 (t - 1)) on a uniform grid in t
    karras = (hi ** (1 / rho) + i / T * (lo ** (1 / rho) - hi ** (1 / rho))) ** rho
    assert torch.allclose(SDE.sigma(uniform_grid(T)).double(), geometric, rtol=1e-5)
    assert torch.allclose(SDE.sigma(karras_grid(T, SDE, rho)).double(), karras, rtol=1e-4)
    # steps taken at sigma < 0.1: uniform 1 - ln(10)/5 of them, Karras 1 - (1 - 0.1^(1/rho)) / (1 - lo^(1/rho))
    n_uniform = int((geometric[:-1] < 0.1).sum())
    n_karras = int((karras[:-1] < 0.1).sum())
    assert abs(n_uniform - T * (1 - math.log(10) / 5)) <= 1
    assert abs(n_karras - T * (1 - (1 - 0.1 ** (1 / rho)) / (1 - lo ** (1 / rho)))) <= 1
    assert n_uniform > n_karras  # with this sigma(t) the exercise's grid is the one that crowds the data end


@pytest.mark.parametrize("sampler, tol", [("euler", 2e-2), ("ddim", 1e-2), ("heun", 1e-3)])
def test_probability_flow_matches_closed_form_for_gaussian_data(sampler, tol):
    """For N(m, s^2) data the ODE maps z1 to m + sqrt((s^2 + sigma0^2)/(s^2 + sigma1^2)) (z1 - m)."""
    m, s = torch.tensor([0.3, -0.2]), 0.5
    model = GaussianDenoiser(m, s, SDE)
    z1 = torch.randn(200, 2, generator=torch.Generator().manual_seed(1)) * 1.1 + m
    out = sample(model, z1, uniform_grid(1000), SDE, sampler)
    scale = math.sqrt((s**2 + SDE.sigma_min**2) / (s**2 + SDE.sigma_max**2))
    assert torch.allclose(out, m + scale * (z1 - m), atol=tol)


def test_stochastic_sampler_reaches_the_data_distribution():
    m, s = torch.tensor([0.5, 0.0]), 0.4
    model = GaussianDenoiser(m, s, SDE)
    x = sample_points(model, 20000, SDE, 500, sampler="sde", seed=3)
    assert torch.allclose(x.mean(0), m, atol=0.02)
    assert torch.allclose(x.std(0), torch.full((2,), math.sqrt(s**2 + SDE.sigma_min**2)), rtol=0.04)


def test_bound_is_below_and_close_to_the_true_log_density():
    m, s = torch.tensor([0.0, 0.0]), 0.5
    model = GaussianDenoiser(m, s, SDE)
    x = torch.tensor([[0.0, 0.0], [0.4, -0.3], [1.0, 1.0]])
    est = log_prob_bound(model, x, SDE, steps=1000, n_samples=50000, generator=torch.Generator().manual_seed(0))
    truth = gaussian_log_prob(x, m, s)
    assert (est.stderr < 0.05).all()
    assert (est.elbo <= truth + 3 * est.stderr).all()
    assert torch.allclose(est.elbo, truth, atol=0.1)
    assert est.elbo[0] > est.elbo[2]


def test_same_seed_same_samples_and_sde_noise_differs_by_seed():
    model = GaussianDenoiser(torch.zeros(2), 0.5, SDE)
    for sampler in ("euler", "sde"):
        a = sample_points(model, 100, SDE, 50, sampler=sampler, seed=7)
        b = sample_points(model, 100, SDE, 50, sampler=sampler, seed=7)
        assert torch.equal(a, b)
    c = sample_points(model, 100, SDE, 50, sampler="sde", seed=8)
    assert not torch.equal(a, c)


def test_class_is_three_times_row_plus_col():
    pts = torch.tensor([[-0.9, -0.9], [0.9, -0.9], [-0.9, 0.9], [0.0, 0.0], [0.9, 0.0], [1.5, 0.0]])
    assert grid_labels(pts, 3, 3, 1.0).tolist() == [0, 2, 6, 4, 5, -1]


def test_quality_metrics_on_known_point_sets():
    centres = (torch.arange(10) + 0.5) / 10 * 2 - 1
    grid = torch.cartesian_prod(centres, centres)  # one point per bin: exactly uniform
    assert tv_from_uniform(grid) == pytest.approx(0.0, abs=1e-12)
    assert tv_from_uniform(torch.zeros(100, 2)) == pytest.approx(0.99)
    outside = torch.full((100, 2), 3.0)
    assert tv_from_uniform(outside) == pytest.approx(1.0) and inside_fraction(outside) == 0.0
    labels = grid_labels(grid, 3, 3, 1.0)
    assert own_region_fractions(grid, labels, Square(), 9) == [1.0] * 9
    assert own_region_fractions(grid, (labels + 1) % 9, Square(), 9) == [0.0] * 9


def test_class_moments_of_a_cell():
    x = torch.rand(20000, 2, generator=torch.Generator().manual_seed(0)) * 2 - 1
    labels = grid_labels(x, 3, 3, 1.0)
    mean, var = class_moments(x, labels, 9)
    assert torch.allclose(mean[4], torch.zeros(2), atol=0.01)
    assert torch.allclose(var[4], torch.full((2,), (2 / 3) ** 2 / 12), rtol=0.05)  # uniform on a 2/3 cell
    assert time_grid(4, "uniform", SDE).tolist() == pytest.approx([1.0, 0.75, 0.5, 0.25, 0.0])


def test_adam_matches_torch_optim_adam_step_by_step():
    from gencli.diffusion.training.optim import Adam

    torch.manual_seed(0)
    a = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.LeakyReLU(), torch.nn.Linear(8, 2))
    b = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.LeakyReLU(), torch.nn.Linear(8, 2))
    b.load_state_dict(a.state_dict())
    ours, ref = Adam(a.parameters(), lr=5e-3), torch.optim.Adam(b.parameters(), lr=5e-3)
    x = torch.randn(64, 3, generator=torch.Generator().manual_seed(1))
    for step in range(25):
        for net, opt in ((a, ours), (b, ref)):
            opt.zero_grad()
            ((net(x) - x[:, :2]) ** 2).mean().backward()
            opt.step()
        if step == 10:  # a torch.optim state (old checkpoints) loads into ours and continues alike
            ours.load_state_dict(ref.state_dict())
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.allclose(pa, pb, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("m, s", [((0.3, -0.2), 0.5), ((0.0, 0.0), 1.2)])
def test_exact_likelihood_equals_the_gaussian_closed_form(m, s):
    """With the exact denoiser of N(m, s^2 I) data and the matched start (the exact marginal at t = 1), the ODE gives
    log N(x; m, (s^2 + sigma_min^2) I): the density at t = 0, where sigma = sigma_min."""
    from gencli.diffusion.likelihood.exact import exact_log_prob

    model = GaussianDenoiser(m, s, SDE)
    x = torch.tensor([[0.0, 0.0], [0.9, -0.4], [2.5, 1.5], [-3.0, 0.2]])
    res = exact_log_prob(model, x, SDE, start="matched", rtol=1e-7, atol=1e-7)
    truth = gaussian_log_prob(x.double(), torch.tensor(m).double(), math.sqrt(s**2 + SDE.sigma_min**2))
    assert torch.allclose(res.logp, truth, atol=1e-3)
    again = exact_log_prob(model, x, SDE, start="matched", rtol=1e-7, atol=1e-7)
    assert torch.equal(res.logp, again.logp) and res.nfe > 10  # deterministic


def test_exact_divergence_matches_finite_differences():
    from gencli.diffusion.config import ModelConfig
    from gencli.diffusion.likelihood.exact import divergence
    from gencli.diffusion.model.denoiser import Denoiser

    torch.manual_seed(0)
    net = Denoiser(ModelConfig(hidden=16)).double()
    x = torch.randn(5, 2, dtype=torch.float64)
    _, tr = divergence(net, x, 0.4, None)
    h = 1e-6
    fd = sum(
        (net(x + h * e, 0.4)[:, i] - net(x - h * e, 0.4)[:, i]) / (2 * h)
        for i, e in enumerate(torch.eye(2, dtype=torch.float64))
    )
    assert torch.allclose(tr, fd, atol=1e-6)


def test_forward_marginal_is_the_blurred_data_density():
    """One training point: exactly N(x_i, sigma^2 I). Many draws of N(m, s^2 I): close to N(m, (s^2 + sigma^2) I)."""
    from gencli.diffusion.likelihood.exact import forward_marginal_log_prob

    x = torch.tensor([[0.0, 0.0], [0.7, -1.2], [2.0, 1.0]], dtype=torch.float64)
    one = torch.tensor([[0.3, -0.4]], dtype=torch.float64)
    assert torch.allclose(forward_marginal_log_prob(x, one, 0.8), gaussian_log_prob(x, one[0], 0.8), atol=1e-12)
    g = torch.Generator().manual_seed(0)
    m, s, sigma = torch.tensor([0.2, -0.1], dtype=torch.float64), 0.5, 1.0
    draws = m + s * torch.randn(40000, 2, generator=g, dtype=torch.float64)
    blurred = gaussian_log_prob(x, m, math.sqrt(s**2 + sigma**2))
    assert torch.allclose(forward_marginal_log_prob(x, draws, sigma), blurred, atol=0.02)


def test_smoothed_box_density_against_quadrature_and_tails():
    """The uniform box convolved with N(0, sigma^2 I), against numerical integration of that convolution per axis,
    and far outside against the Gaussian tail log Phi (from scipy)."""
    from scipy.integrate import quad
    from scipy.stats import norm

    from gencli.diffusion.datasets.square import cell_box, smoothed_box_log_density

    lo, hi = cell_box(None, 3, 3, 1.0)
    sigma = 0.3
    x = torch.tensor([[0.0, 0.0], [0.95, -0.5], [1.4, 0.2], [-1.6, 1.3]], dtype=torch.float64)

    def axis(v: float) -> float:  # (1 / 2) * integral over [-1, 1] of N(v; u, sigma^2) du
        return quad(lambda u: norm.pdf(v, u, sigma), -1.0, 1.0, epsabs=1e-13)[0] / 2.0

    want = torch.tensor([math.log(axis(a)) + math.log(axis(b)) for a, b in x.tolist()], dtype=torch.float64)
    assert torch.allclose(smoothed_box_log_density(x, lo, hi, sigma), want, atol=1e-8)
    far = torch.tensor([[1.3, 0.0], [-3.0, 1.0]], dtype=torch.float64)
    tiny = math.exp(-5)
    got = smoothed_box_log_density(far, lo, hi, tiny)
    # far right of the box, Phi((1 - x) / sigma) - Phi((-1 - x) / sigma) is Phi((1 - x) / sigma) to many digits
    tail = torch.tensor(
        [
            norm.logcdf((1 - 1.3) / tiny) - math.log(2) - math.log(2),
            norm.logcdf((-1 + 3.0) * -1 / tiny) - math.log(2) + norm.logcdf((1 - 1.0) / tiny) - math.log(2),
        ],
        dtype=torch.float64,
    )
    assert torch.allclose(got, tail, rtol=1e-9)
    assert smoothed_box_log_density(torch.zeros(1, 2), *cell_box(4, 3, 3, 1.0), tiny).item() == pytest.approx(
        math.log(9 / 4)
    )


@pytest.mark.parametrize("fourier, classes", [(0, 0), (8, 0), (0, 4), (8, 4)])
def test_numpy_forward_jacobian_equals_autograd(fourier, classes, monkeypatch):
    """The Denoiser's numpy forward-mode divergence against two autograd passes: value and trace, with Fourier
    features, classes and a non-trivial input standardisation; and the exact log p through either path."""
    from gencli.diffusion.config import ModelConfig
    from gencli.diffusion.likelihood import exact
    from gencli.diffusion.likelihood.mlp_divergence import DenoiserJacobian
    from gencli.diffusion.model.denoiser import Denoiser

    torch.manual_seed(1)
    net = Denoiser(ModelConfig(hidden=24, n_layers=4, fourier=fourier), classes, null_class=bool(classes)).double()
    net.input_shift.copy_(torch.tensor([0.3, -0.2]))
    net.input_scale.fill_(1.7)
    x = 2 * torch.randn(40, 2, dtype=torch.float64)
    labels = torch.randint(0, classes + 1, (40,)) if classes else None
    d, tr = exact.divergence(net, x, 0.37, labels)
    fd, ftr = DenoiserJacobian(net, labels).value_and_trace(x.numpy(), 0.37)
    np.testing.assert_allclose(fd, d.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ftr, tr.numpy(), rtol=0, atol=1e-10)
    assert DenoiserJacobian.applies(net) and not DenoiserJacobian.applies(GaussianDenoiser((0.0, 0.0), 1.0, SDE))
    fast = exact.exact_log_prob(net.float(), x[:6].float(), SDE, labels[:6] if classes else None)
    monkeypatch.setattr(exact, "NUMPY_MAX_POINTS", 0)  # the autograd path
    slow = exact.exact_log_prob(net.float(), x[:6].float(), SDE, labels[:6] if classes else None)
    assert torch.allclose(fast.logp, slow.logp, rtol=0, atol=1e-7)


def test_parameter_ema_equals_torchs_averaged_model_bit_for_bit():
    """The trainer's moving average against torch's AveragedModel with its EMA function, over steps of an optimizer:
    the same numbers exactly, and the model's own weights untouched by it."""
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    from gencli.diffusion.config import ModelConfig
    from gencli.diffusion.model.denoiser import Denoiser
    from gencli.diffusion.training.ema import ParameterEMA

    torch.manual_seed(0)
    model = Denoiser(ModelConfig(hidden=16, fourier=4))
    ours = ParameterEMA(model, 0.005)
    theirs = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(1.0 - 0.005))
    theirs.update_parameters(model)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    x = torch.randn(64, 2)
    for _ in range(30):
        opt.zero_grad()
        model(x, 0.5).pow(2).mean().backward()
        opt.step()
        ours.update()
        theirs.update_parameters(model)
    pairs = list(zip(ours.module.parameters(), theirs.module.parameters(), model.parameters()))
    assert all(torch.equal(a, b) for a, b, _ in pairs)
    assert not all(torch.equal(a, p) for a, _, p in pairs)  # the average lags the weights
