"""Likelihood analyses (C6): the lower bound and the exact log p at chosen points, and the exact density on a grid."""

from __future__ import annotations

import math

import torch

from gencli.core.errors import ParameterError
from gencli.diffusion.analyses.common import training_points
from gencli.diffusion.config import DiffusionConfig, SampleConfig
from gencli.diffusion.likelihood.bound import log_prob_bound
from gencli.diffusion.likelihood.exact import exact_log_prob, forward_marginal_log_prob
from gencli.diffusion.model.store import TrainedDiffusion
from gencli.diffusion.quality.knn import nearest_labels
from gencli.diffusion.quality.regions import landed_classes
from gencli.diffusion.results import (
    DensityGrid,
    FlowProbabilityTable,
    ProbabilityTable,
)


def default_queries(trained: TrainedDiffusion) -> list[tuple[float, float, int | None]]:
    """C6's points: some inside the data, some outside (the set's own choice); conditional: each with the class of its
    region (an outside point: of the nearest), and one inside place twice, under its class and a wrong one."""
    dataset, k = trained.dataset, trained.cfg.n_classes
    points = dataset.query_points()
    if not k:
        return [(x, y, None) for x, y in points]
    classes = nearest_classes(torch.tensor(points, dtype=torch.float32), dataset).tolist()
    out = [(x, y, int(c)) for (x, y), c in zip(points, classes)]
    x, y, c = out[1]
    out.append((x, y, (c + 1) % k))  # same place, a wrong class
    return out


def nearest_classes(x: torch.Tensor, dataset) -> torch.Tensor:
    """The class of the region each point lies in, or of the region nearest to it: the set's own rule at the
    point pulled onto its box (the square: its nearest cell), or the label of the nearest data point."""
    lo, hi = dataset.bounds()
    inside = dataset.inside(x)
    pulled = torch.maximum(torch.minimum(x.double(), torch.tensor(hi)), torch.tensor(lo)).float()
    cls = dataset.classify(pulled)
    if cls is not None and dataset.bounded:
        return torch.where(inside | (cls >= 0), cls, nearest_labels(x, *dataset.labelled_points()))
    return landed_classes(x, dataset)


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
    an `unconditional` model beside a conditional one, also its bound on log p(x) at the same places. A flow model
    has no bound: its exact log p (flow_probability_table)."""
    cfg, dataset = trained.cfg, trained.dataset
    k = cfg.n_classes
    queries = queries or default_queries(trained)
    check_queries(cfg, queries)
    if not (rtol > 0 and atol > 0):
        raise ParameterError(("rtol", "atol"), f"must be > 0, got {rtol:g}, {atol:g}")
    if cfg.is_flow:
        return flow_probability_table(trained, queries, rtol, atol)
    xs = torch.tensor([[x, y] for x, y, _ in queries], dtype=torch.float32)
    labels = torch.tensor([c for _, _, c in queries], device=trained.device) if k else None
    est = bound(trained, xs, labels, sc, samples, seed)
    rows = []
    for i, place in enumerate(describe_queries(trained, queries, xs)):
        rows.append(
            {
                **{key: v for key, v in place.items() if key != "truth"},
                "elbo": est.elbo[i].item(),
                "stderr": est.stderr[i].item(),
                "neg_diffusion_loss": -est.diffusion[i].item(),
                "prior_kl": est.prior_kl[i].item(),
                "reconstruction": est.reconstruction[i].item(),
                "truth": place["truth"],
            }
        )
    data, data_labels = training_points(trained)
    if exact:
        ode = exact_log_prob(trained.model, xs.to(trained.device), trained.sde, labels, sc.start, rtol, atol)
        data_prior = training_data_prior(data, data_labels, ode.ends, labels, trained.sde.sigma_max)
        for i, row in enumerate(rows):
            smooth = dataset.smoothed_log_density(xs[i : i + 1], trained.sde.sigma_min, row["class"] if k else None)
            row["exact_logp"], row["exact_nfe"] = ode.logp[i].item(), ode.nfe
            row["exact_logp_data_prior"] = (ode.divergence[i] + data_prior[i]).item()
            row["smoothed_truth"] = float(smooth[0]) if smooth is not None else None
    if unconditional is not None and k:
        plain = bound(unconditional, xs, None, sc, samples, seed)
        truth = dataset.log_density(xs)
        for i, row in enumerate(rows):
            row["unconditional_elbo"] = plain.elbo[i].item()
            row["truth_unconditional"] = float(truth[i]) if truth is not None else None
    return ProbabilityTable(
        rows,
        sc.steps,
        samples,
        bool(k),
        data.numpy(),
        dataset.data_view(),
        start=sc.start,
        tolerance=(rtol, atol) if exact else None,
        sigma_min=trained.sde.sigma_min,
    )


def describe_queries(trained: TrainedDiffusion, queries, xs: torch.Tensor) -> list[dict]:
    """Per query point: x, y, class, where it lies (inside or outside, its own region or which), and the truth."""
    dataset, k = trained.dataset, trained.cfg.n_classes
    inside = dataset.inside(xs)
    landed = landed_classes(xs, dataset) if k else None
    nearest = nearest_classes(xs, dataset) if k else None
    region = dataset.region.name
    out = []
    for i, (x, y, c) in enumerate(queries):
        where, own = ("inside" if inside[i] else "outside"), None
        if k and inside[i]:
            own = bool(landed[i] == c)
            where += f", own {region}" if own else f", {region} {int(landed[i])}"
        elif k:
            where += f", nearest {region} {int(c)}" if c == nearest[i] else f", {region} {int(c)} (not the nearest)"
        truth = dataset.log_density(xs[i : i + 1], c if k else None)
        out.append(
            {
                "x": x,
                "y": y,
                "class": c,
                "where": where,
                "inside": bool(inside[i]),
                "own": own,
                "truth": float(truth[0]) if truth is not None else None,
            }
        )
    return out


def flow_probability_table(trained: TrainedDiffusion, queries, rtol: float, atol: float) -> FlowProbabilityTable:
    """C6 for a flow: the exact log p(x) [or log p(x | c)] at each point by the flow's ODE (no bound applies)."""
    k = trained.cfg.n_classes
    xs = torch.tensor([[x, y] for x, y, _ in queries], dtype=torch.float32)
    labels = torch.tensor([c for _, _, c in queries], device=trained.device) if k else None
    ode = exact_log_prob(trained.model, xs.to(trained.device), trained.sde, labels, "standard", rtol, atol)
    rows = [
        {**place, "exact_logp": ode.logp[i].item(), "exact_nfe": ode.nfe}
        for i, place in enumerate(describe_queries(trained, queries, xs))
    ]
    data, _ = training_points(trained)
    return FlowProbabilityTable(
        rows, bool(k), data.numpy(), trained.dataset.data_view(), trained.cfg.model.objective, (rtol, atol)
    )


def bound(trained: TrainedDiffusion, xs: torch.Tensor, labels, sc: SampleConfig, samples: int, seed: int):
    """The VDM bound of the points under a model, its Monte Carlo noise seeded."""
    return log_prob_bound(
        trained.model,
        xs.to(trained.device),
        trained.sde,
        sc.steps,
        samples,
        torch.Generator().manual_seed(seed),
        labels,
        sc.start,
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
    rtol: float = 1e-4,
    atol: float = 1e-4,
) -> DensityGrid:
    """C6: the exact log p(x) (or log p(x | c)) on a size x size grid over the set's view (the square: [-2, 2]^2), and
    the truth beside it where the set knows it (-inf off its support)."""
    cfg, dataset = trained.cfg, trained.dataset
    x0, x1, y0, y1 = dataset.view()
    cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, 0.4 * max(x1 - x0, y1 - y0)  # 80% of the view
    xs, ys = torch.linspace(cx - r, cx + r, size), torch.linspace(cy - r, cy + r, size)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")
    pts = torch.stack([gx.flatten(), gy.flatten()], dim=1)
    labels = None
    if cfg.n_classes:
        klass = dataset.default_class() if klass is None else klass
        labels = torch.full((len(pts),), klass, dtype=torch.long, device=trained.device)
    else:
        klass = None
    ode = exact_log_prob(trained.model, pts.to(trained.device), trained.sde, labels, sc.start, rtol, atol)
    truth = dataset.log_density(pts, klass)
    return DensityGrid(
        xs.numpy(),
        ys.numpy(),
        ode.logp.view(size, size).float().numpy(),
        truth.view(size, size).numpy() if truth is not None else None,
        klass,
        ode.nfe,
        sc.start,
        dataset.data_view(),
    )


_DATA_LOG_LIKELIHOODS: dict[tuple, tuple[float, float | None, float, int]] = {}  # by checkpoint save and settings


def data_log_likelihood(
    trained: TrainedDiffusion, sc: SampleConfig, n: int = 2000, seed: int = 0, rtol: float = 1e-5, atol: float = 1e-5
) -> tuple[float, float | None, float, int]:
    """The model's exact log p averaged over n fresh data points, beside the truth's mean over the same points
    (minus the entropy; None when the set's density is unknown), with the standard error of the difference of the
    two means, and the solver's evaluations. Their gap is an estimate of KL(data || model) >= 0. Computed once per
    saved checkpoint and settings in a process (the report's gallery and its flow comparison share models): the
    answer is the checkpoint's, so a model changed in memory after loading must not be asked again."""
    save = trained.checkpoint.meta.get("save_id")
    key = (save, str(trained.checkpoint.path), sc.start, n, seed, rtol, atol, str(trained.device))
    if save and key in _DATA_LOG_LIKELIHOODS:
        return _DATA_LOG_LIKELIHOODS[key]
    out = _data_log_likelihood(trained, sc, n, seed, rtol, atol)
    if save:
        _DATA_LOG_LIKELIHOODS[key] = out
    return out


def _data_log_likelihood(
    trained: TrainedDiffusion, sc: SampleConfig, n: int, seed: int, rtol: float, atol: float
) -> tuple[float, float | None, float, int]:
    x, _ = trained.dataset.reference_points(n, seed)
    ode = exact_log_prob(trained.model, x.to(trained.device), trained.sde, None, sc.start, rtol, atol)
    model = ode.logp.double()
    truth = trained.dataset.log_density(x)
    if truth is None:
        return float(model.mean()), None, float(model.std() / math.sqrt(n)), ode.nfe
    diff = model - truth
    return float(model.mean()), float(truth.mean()), float(diff.std() / math.sqrt(n)), ode.nfe
