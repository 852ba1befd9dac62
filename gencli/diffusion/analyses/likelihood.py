"""Likelihood analyses (C6): the lower bound and the exact log p at chosen points, and the exact density on a grid."""

from __future__ import annotations

import math

import torch

from gencli.core.errors import ParameterError
from gencli.diffusion.analyses.common import (
    class_grid,
)
from gencli.diffusion.config import DiffusionConfig, SampleConfig
from gencli.diffusion.datasets.square import cell_box, grid_labels, smoothed_box_log_density
from gencli.diffusion.likelihood.bound import log_prob_bound
from gencli.diffusion.likelihood.exact import exact_log_prob, forward_marginal_log_prob
from gencli.diffusion.model.store import TrainedDiffusion
from gencli.diffusion.results import (
    DensityGrid,
    ProbabilityTable,
)
from gencli.diffusion.training.trainer import make_dataset

DEFAULT_QUERIES = ((0.0, 0.0), (0.5, -0.5), (-0.9, 0.9), (1.3, 0.0), (2.0, 2.0), (-3.0, 1.0))


def default_queries(cfg: DiffusionConfig) -> list[tuple[float, float, int | None]]:
    """C6's points: some inside, some outside; conditional: each with its cell's class, and one place twice
    (the matching class and a wrong one)."""
    if not cfg.n_classes:
        return [(x, y, None) for x, y in DEFAULT_QUERIES]
    d = cfg.data

    def cell(x: float, y: float) -> int:
        return int(grid_labels(torch.tensor([[x, y]]), d.grid_rows, d.grid_cols, d.half_width)[0])

    def nearest(x: float, y: float) -> int:  # an outside point takes the class of the cell nearest to it
        h = d.half_width
        return cell(min(max(x, -h), h), min(max(y, -h), h))

    out = [(x, y, nearest(x, y)) for x, y in DEFAULT_QUERIES]
    out.append((0.5, -0.5, (cell(0.5, -0.5) + 1) % cfg.n_classes))  # same place, a wrong class
    return out


def check_queries(cfg: DiffusionConfig, queries: list[tuple[float, float, int | None]]) -> None:
    """Every point has a class in range for the conditional model, and none for the unconditional one."""
    k = cfg.n_classes
    for x, y, c in queries:
        if k and c is None:
            raise ParameterError(
                "queries", f"the conditional model needs a class, X,Y,CLASS with CLASS in 0..{k - 1}", f"{x:g},{y:g}"
            )
        if k and not 0 <= c < k:
            raise ParameterError("queries", f"class {c} out of range 0..{k - 1}", f"{x:g},{y:g},{c}")
        if not k and c is not None:
            raise ParameterError("queries", "this model is unconditional; give X,Y only", f"{x:g},{y:g},{c}")


def probability_table(
    trained: TrainedDiffusion,
    sc: SampleConfig,
    queries: list[tuple[float, float, int | None]] | None = None,
    samples: int = 4096,
    seed: int = 0,
    unconditional: TrainedDiffusion | None = None,
    exact: bool = False,
    rtol: float = 1e-5,
    atol: float = 1e-5,
) -> ProbabilityTable:
    """C6: the VDM lower bound on log p(x) [or log p(x | c)] at each point, with its Monte Carlo standard error; with
    an `unconditional` model beside a conditional one, also its bound on log p(x) at the same places."""
    cfg = trained.cfg
    k = cfg.n_classes
    queries = queries or default_queries(cfg)
    check_queries(cfg, queries)
    xs = torch.tensor([[x, y] for x, y, _ in queries], dtype=torch.float32)
    labels = torch.tensor([c for _, _, c in queries], device=trained.device) if k else None
    est = log_prob_bound(
        trained.model,
        xs.to(trained.device),
        trained.sde,
        sc.steps,
        samples,
        torch.Generator().manual_seed(seed),
        labels,
        sc.start,
    )
    inside = (xs.abs() <= cfg.data.half_width).all(dim=1)
    cells = grid_labels(xs, cfg.data.grid_rows, cfg.data.grid_cols, cfg.data.half_width) if k else None
    h = cfg.data.half_width
    nearest_cell = grid_labels(xs.clamp(-h, h), cfg.data.grid_rows, cfg.data.grid_cols, h) if k else None
    rows = []
    for i, (x, y, c) in enumerate(queries):
        where = "inside" if inside[i] else "outside"
        if k and inside[i]:
            where += ", own cell" if cells[i] == c else f", cell {int(cells[i])}"
        elif k:
            where += f", nearest cell {int(c)}" if c == nearest_cell[i] else f", cell {int(c)} (not the nearest)"
        rows.append(
            {
                "x": x,
                "y": y,
                "class": c,
                "where": where,
                "elbo": est.elbo[i].item(),
                "stderr": est.stderr[i].item(),
                "neg_diffusion_loss": -est.diffusion[i].item(),
                "prior_kl": est.prior_kl[i].item(),
                "reconstruction": est.reconstruction[i].item(),
            }
        )
    data, data_labels = make_dataset(cfg)
    if exact:
        if not (rtol > 0 and atol > 0):
            raise ParameterError(("rtol", "atol"), f"must be > 0, got {rtol:g}, {atol:g}")
        ode = exact_log_prob(trained.model, xs.to(trained.device), trained.sde, labels, sc.start, rtol, atol)
        data_prior = training_data_prior(data, data_labels, ode.ends, labels, trained.sde.sigma_max)
        for i, row in enumerate(rows):
            box = cell_box(row["class"] if k else None, cfg.data.grid_rows, cfg.data.grid_cols, cfg.data.half_width)
            row["exact_logp"], row["exact_nfe"] = ode.logp[i].item(), ode.nfe
            row["exact_logp_data_prior"] = (ode.divergence[i] + data_prior[i]).item()
            row["smoothed_truth"] = smoothed_box_log_density(xs[i : i + 1], *box, trained.sde.sigma_min).item()
    if unconditional is not None and k:
        plain = log_prob_bound(
            unconditional.model,
            xs.to(unconditional.device),
            unconditional.sde,
            sc.steps,
            samples,
            torch.Generator().manual_seed(seed),
            None,
            sc.start,
        )
        for i, row in enumerate(rows):
            row["unconditional_elbo"] = plain.elbo[i].item()
    area = (2 * cfg.data.half_width) ** 2
    truth = math.log((k or 1) / area)
    return ProbabilityTable(
        rows,
        sc.steps,
        samples,
        bool(k),
        data.numpy(),
        class_grid(cfg),
        truth,
        start=sc.start,
        tolerance=(rtol, atol) if exact else None,
    )


def training_data_prior(
    data: torch.Tensor,
    data_labels: torch.Tensor | None,
    ends: torch.Tensor,
    labels: torch.Tensor | None,
    sigma_max: float,
) -> torch.Tensor:
    """log p_1 at the ODE's end points (N,) under the training data's own forward marginal at t = 1 (that of each
    point's class for a conditional model): what the matched Gaussian prior stands in for."""
    if labels is None or data_labels is None:
        return forward_marginal_log_prob(ends, data, sigma_max)
    out = torch.empty(len(ends), dtype=torch.float64)
    for c in labels.unique().tolist():
        rows = (labels == c).cpu()
        out[rows] = forward_marginal_log_prob(ends[rows], data[data_labels == c], sigma_max)
    return out


def exact_density_grid(
    trained: TrainedDiffusion,
    sc: SampleConfig,
    klass: int | None = None,
    size: int = 41,
    reach: float = 2.0,
    rtol: float = 1e-4,
    atol: float = 1e-4,
) -> DensityGrid:
    """C6: the exact log p(x) (or log p(x | c)) on a size x size grid over [-reach, reach]^2, and the truth beside it:
    the uniform density of the data (of the class's cell), -inf outside."""
    cfg = trained.cfg
    axis = torch.linspace(-reach, reach, size)
    gx, gy = torch.meshgrid(axis, axis, indexing="xy")
    pts = torch.stack([gx.flatten(), gy.flatten()], dim=1)
    labels = None
    if cfg.n_classes:
        klass = 4 if klass is None else klass
        labels = torch.full((len(pts),), klass, dtype=torch.long, device=trained.device)
    ode = exact_log_prob(trained.model, pts.to(trained.device), trained.sde, labels, sc.start, rtol, atol)
    h = cfg.data.half_width
    inside = (pts.abs() <= h).all(dim=1)
    if cfg.n_classes:
        inside &= grid_labels(pts, cfg.data.grid_rows, cfg.data.grid_cols, h) == klass
        truth_value = math.log(cfg.n_classes / (2 * h) ** 2)
    else:
        truth_value = math.log(1 / (2 * h) ** 2)
    truth = torch.where(inside, torch.tensor(truth_value), torch.tensor(float("-inf")))
    return DensityGrid(
        axis.numpy(),
        ode.logp.view(size, size).float().numpy(),
        truth.view(size, size).numpy(),
        truth_value,
        klass if cfg.n_classes else None,
        ode.nfe,
        sc.start,
    )
