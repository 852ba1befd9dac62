"""Every course question about the diffusion model as a function: loaded model and options in, result out.

U1 forward_path, U2 training_curve, U3 seeds_grid, U4/U5 sampler_sweep and sigma_schedules,
U6 reverse_paths and determinism, C1 training_data, C3 reverse_paths (one per class),
C4/C5 sample_quality, C6 probability_table, bonus steer_to_target. None of them prints or
writes a file; randomness comes from explicit seeds.
"""

from __future__ import annotations

import dataclasses
import math
import time
import typing
from collections.abc import Callable

import numpy as np
import torch

from gencli.checkpoint.load import metrics_rows
from gencli.core.errors import GencliError, ParameterError
from gencli.diffusion import quality
from gencli.diffusion.config import DiffusionConfig, SampleConfig, Schedule
from gencli.diffusion.datasets.square import cell_box, grid_labels, smoothed_box_log_density
from gencli.diffusion.likelihood.bound import log_prob_bound
from gencli.diffusion.likelihood.exact import exact_log_prob, forward_marginal_log_prob
from gencli.diffusion.model.guidance import guided
from gencli.diffusion.model.store import TrainedDiffusion
from gencli.diffusion.process.sde import VESDE
from gencli.diffusion.results import (
    DensityGrid,
    Determinism,
    ForwardPath,
    GuidanceRow,
    GuidanceSweep,
    ProbabilityTable,
    ReversePaths,
    Samples,
    SamplingSweep,
    SeedPanel,
    SeedsGrid,
    SigmaSchedules,
    SteeredSample,
    SweepRow,
    TrainingCurve,
    TrainingData,
)
from gencli.diffusion.sampling.grids import time_grid
from gencli.diffusion.sampling.inversion import invert_to_target
from gencli.diffusion.sampling.samplers import (
    balanced_labels,
    record_trajectory,
    sample,
    sample_points,
)
from gencli.diffusion.sampling.start import initial_noise, start_moments
from gencli.diffusion.training.trainer import make_dataset

SCHEDULE_NAMES = typing.get_args(Schedule)
DEFAULT_QUERIES = ((0.0, 0.0), (0.5, -0.5), (-0.9, 0.9), (1.3, 0.0), (2.0, 2.0), (-3.0, 1.0))


def _settings(sc: SampleConfig) -> dict:
    out = {"steps": sc.steps, "sampler": sc.sampler, "schedule": sc.schedule, "start": sc.start}
    if sc.guidance:
        out.update({"guidance": sc.guidance, "guidance_interval": list(sc.guidance_interval)})
    return out


def _model(trained: TrainedDiffusion, sc: SampleConfig):
    """The denoiser the sampler calls: guided when sample.guidance is set."""
    return guided(trained.model, sc.guidance, sc.guidance_interval)


def _grid(cfg: DiffusionConfig) -> tuple[int, int]:
    return (cfg.data.grid_rows, cfg.data.grid_cols) if cfg.n_classes else (0, 0)


def class_labels(trained: TrainedDiffusion, n: int, klass: int | str | None = None) -> torch.Tensor | None:
    """Labels for n samples: None (unconditional), all `klass` ("none": the null class), or every class equally often."""
    k = trained.cfg.n_classes
    if not k:
        if klass is not None:
            raise ParameterError("klass", "this checkpoint is unconditional (it has no classes)")
        return None
    if klass == "none":
        if trained.model.null_index is None:
            raise ParameterError("klass", "this checkpoint has no null class (train with train.class_dropout > 0)", "none")
        return torch.full((n,), trained.model.null_index, dtype=torch.long)
    if klass is not None:
        if not 0 <= klass < k:
            raise ParameterError("klass", f"out of range, this model has classes 0..{k - 1}", klass)
        return torch.full((n,), klass, dtype=torch.long)
    return balanced_labels(n, k)


def _draw(trained: TrainedDiffusion, sc: SampleConfig, n: int, seed: int, labels, sampler=None, schedule=None, steps=None):
    """Sample on the model's device; the points come back on the CPU with the wall time."""
    t0 = time.perf_counter()
    x = sample_points(_model(trained, sc), n, trained.sde, steps or sc.steps, sampler or sc.sampler, schedule or sc.schedule,
                      sc.start, seed, labels, sc.rho).cpu()
    return x, time.perf_counter() - t0


def training_data(cfg: DiffusionConfig) -> TrainingData:
    """C1: the training points (and classes) the config describes."""
    x, labels = make_dataset(cfg)
    return TrainingData(x.numpy(), labels.numpy() if labels is not None else None, cfg.n_classes, _grid(cfg))


def training_curve(trained: TrainedDiffusion) -> TrainingCurve:
    """U2: the loss curve kept in the checkpoint's metrics.csv."""
    rows = metrics_rows(trained.checkpoint)
    try:
        losses = [float(row["loss"]) for row in rows]
    except (KeyError, ValueError, TypeError):
        raise GencliError(f"{trained.checkpoint.path / 'metrics.csv'}: unreadable training metrics") from None
    wall = float((trained.checkpoint.meta.get("metrics") or {}).get("wall_s") or 0.0)
    return TrainingCurve(np.asarray(losses), wall, trained.cfg.model.conditional)


def sample_quality(trained: TrainedDiffusion, sc: SampleConfig, n: int, seed: int = 0, klass: int | str | None = None) -> Samples:
    """n samples and their quality: inside fraction, TV from uniform and, conditional, own-cell fractions (C4, C5).

    `klass="none"` samples the null class: the conditional model used unconditionally.
    """
    cfg = trained.cfg
    labels = class_labels(trained, n, klass)
    x, wall = _draw(trained, sc, n, seed, labels)
    if klass == "none":
        return Samples(x.numpy(), None, 0, (0, 0), {**_settings(sc), "class": "none"}, seed, wall,
                       quality.inside_fraction(x, cfg.data.half_width), quality.tv_from_uniform(x, 10, cfg.data.half_width))
    hw = cfg.data.half_width
    res = Samples(x.numpy(), labels.numpy() if labels is not None else None, cfg.n_classes, _grid(cfg), _settings(sc), seed,
                  wall, quality.inside_fraction(x, hw), quality.tv_from_uniform(x, 10, hw))
    if labels is not None:
        data, data_labels = make_dataset(cfg)
        res.own_region = quality.own_region_fractions(x, labels, cfg.data.grid_rows, cfg.data.grid_cols, hw)
        res.spread = quality.class_spread(x, labels, cfg.n_classes)
        res.data_spread = quality.class_spread(data, data_labels, cfg.n_classes)
    return res


def seeds_grid(trained: TrainedDiffusion, sc: SampleConfig, n: int, first_seed: int = 0, count: int = 9) -> SeedsGrid:
    """U3: `count` samplings of n points with consecutive seeds."""
    labels = class_labels(trained, n)
    panels = []
    for s in range(first_seed, first_seed + count):
        x, _ = _draw(trained, sc, n, s, labels)
        panels.append(SeedPanel(s, x.numpy(), quality.inside_fraction(x), quality.tv_from_uniform(x)))
    return SeedsGrid(panels, labels.numpy() if labels is not None else None, trained.cfg.n_classes, _settings(sc))


def sampler_sweep(
    trained: TrainedDiffusion, sc: SampleConfig, n: int, seed: int, variants: list[tuple[str, str, int]], key: str = "compare",
) -> SamplingSweep:
    """U4/U5: the same seed through each (sampler, schedule, steps); quality and wall time of each."""
    cfg = trained.cfg
    labels = class_labels(trained, n)
    rows = []
    for sampler, schedule, steps in variants:
        x, wall = _draw(trained, sc, n, seed, labels, sampler, schedule, steps)
        own = None
        if labels is not None:
            own = float(np.nanmean(quality.own_region_fractions(x, labels, cfg.data.grid_rows, cfg.data.grid_cols)))
        rows.append(SweepRow(sampler, schedule, steps, quality.inside_fraction(x), quality.tv_from_uniform(x), wall,
                             x.numpy(), own))
    what = "number of steps T" if key == "steps_sweep" else "sampler and time grid"
    return SamplingSweep(key, what, rows, labels.numpy() if labels is not None else None, cfg.n_classes, seed, sc.start)


def sigma_schedules(sde: VESDE, steps: int, rho: float = 7.0) -> SigmaSchedules:
    """U5: sigma at each step of the uniform (exercise) and Karras time grids."""
    series = {}
    for name in SCHEDULE_NAMES:
        ts = time_grid(steps, name, sde, rho)
        series[name] = (ts.numpy(), sde.sigma(ts).numpy())
    return SigmaSchedules(steps, rho, sde.sigma_min, sde.sigma_max, series)


def forward_path(sde: VESDE, point: tuple[float, float], steps: int = 500, seed: int = 0) -> ForwardPath:
    """U1: one path of the forward process from `point`, at steps + 1 evenly spaced times."""
    ts = torch.linspace(0, 1, steps + 1)
    path = sde.forward_path(torch.tensor([point], dtype=torch.float32), ts, torch.Generator().manual_seed(seed))[:, 0]
    return ForwardPath(tuple(point), ts.numpy(), sde.sigma(ts).numpy(), path.numpy())


def reverse_paths(trained: TrainedDiffusion, sc: SampleConfig, n: int = 4, seed: int = 0) -> ReversePaths:
    """Reverse trajectories of n points, or one point per class with the check that it ends in its own cell (C3)."""
    cfg = trained.cfg
    k = cfg.n_classes
    labels = torch.arange(k, device=trained.device) if k else None
    count = k or n
    gen = torch.Generator().manual_seed(seed)
    frames, cb = record_trajectory()
    ts = time_grid(sc.steps, sc.schedule, trained.sde, sc.rho)
    model = _model(trained, sc)
    with torch.inference_mode():
        z = initial_noise(model, count, sc.start, trained.sde, gen, labels)
        sample(model, z, ts, trained.sde, sc.sampler, labels, gen, cb)
    traj = torch.stack(frames).cpu()  # (K, count, 2)
    data, _ = make_dataset(cfg)
    landed = grid_labels(traj[-1], cfg.data.grid_rows, cfg.data.grid_cols, cfg.data.half_width).numpy() if k else None
    return ReversePaths(traj.numpy(), ts.numpy(), labels.cpu().numpy() if k else None, k, _grid(cfg), data.numpy(),
                        _settings(sc), seed, landed)


def determinism(
    trained: TrainedDiffusion, sc: SampleConfig, repeats: int = 10, n: int = 1000, seed: int = 0, shown: int = 4,
    on_repeat: Callable[[int], None] | None = None,
) -> Determinism:
    """U6: the same initial noise through the sampler `repeats` times (step noise, if any, seeded seed + 1 + r)."""
    labels = class_labels(trained, n)
    if labels is not None:
        labels = labels.to(trained.device)
    model = _model(trained, sc)
    with torch.inference_mode():
        z1 = initial_noise(model, n, sc.start, trained.sde, torch.Generator().manual_seed(seed), labels)
    ts = time_grid(sc.steps, sc.schedule, trained.sde, sc.rho)
    outputs, paths = [], []
    for r in range(repeats):
        frames: list[torch.Tensor] = []

        def keep(info: dict, frames=frames) -> None:
            frames.append(info["z"][:shown].cpu())

        with torch.inference_mode():
            step_gen = torch.Generator().manual_seed(seed + 1 + r)
            outputs.append(sample(model, z1.clone(), ts, trained.sde, sc.sampler, labels, step_gen, keep).cpu())
        paths.append(torch.stack(frames))
        if on_repeat is not None:
            on_repeat(r + 1)
    stack = torch.stack(outputs)  # (R, n, 2)
    same = [bool(torch.equal(o, outputs[0])) for o in outputs]
    return Determinism(sc.sampler, sc.steps, repeats, n, all(same), sum(same[1:]), (stack - stack[0]).abs().amax().item(),
                       torch.stack(paths).numpy(), stack[:, :shown].numpy())


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
            raise ParameterError("queries", f"the conditional model needs a class, X,Y,CLASS with CLASS in 0..{k - 1}", f"{x:g},{y:g}")
        if k and not 0 <= c < k:
            raise ParameterError("queries", f"class {c} out of range 0..{k - 1}", f"{x:g},{y:g},{c}")
        if not k and c is not None:
            raise ParameterError("queries", "this model is unconditional; give X,Y only", f"{x:g},{y:g},{c}")


def probability_table(
    trained: TrainedDiffusion, sc: SampleConfig, queries: list[tuple[float, float, int | None]] | None = None,
    samples: int = 4096, seed: int = 0, unconditional: TrainedDiffusion | None = None, exact: bool = False,
    rtol: float = 1e-5, atol: float = 1e-5,
) -> ProbabilityTable:
    """C6: the VDM lower bound on log p(x) [or log p(x | c)] at each point, with its Monte Carlo standard error; with
    an `unconditional` model beside a conditional one, also its bound on log p(x) at the same places."""
    cfg = trained.cfg
    k = cfg.n_classes
    queries = queries or default_queries(cfg)
    check_queries(cfg, queries)
    xs = torch.tensor([[x, y] for x, y, _ in queries], dtype=torch.float32)
    labels = torch.tensor([c for _, _, c in queries], device=trained.device) if k else None
    est = log_prob_bound(trained.model, xs.to(trained.device), trained.sde, sc.steps, samples,
                         torch.Generator().manual_seed(seed), labels, sc.start)
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
        rows.append({"x": x, "y": y, "class": c, "where": where, "elbo": est.elbo[i].item(), "stderr": est.stderr[i].item(),
                     "neg_diffusion_loss": -est.diffusion[i].item(), "prior_kl": est.prior_kl[i].item(),
                     "reconstruction": est.reconstruction[i].item()})
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
            row["smoothed_truth"] = smoothed_box_log_density(xs[i:i + 1], *box, trained.sde.sigma_min).item()
    if unconditional is not None and k:
        plain = log_prob_bound(unconditional.model, xs.to(unconditional.device), unconditional.sde, sc.steps, samples,
                               torch.Generator().manual_seed(seed), None, sc.start)
        for i, row in enumerate(rows):
            row["unconditional_elbo"] = plain.elbo[i].item()
    area = (2 * cfg.data.half_width) ** 2
    truth = math.log((k or 1) / area)
    return ProbabilityTable(rows, sc.steps, samples, bool(k), data.numpy(), _grid(cfg), truth, start=sc.start,
                            tolerance=(rtol, atol) if exact else None)


def training_data_prior(data: torch.Tensor, data_labels: torch.Tensor | None, ends: torch.Tensor,
                        labels: torch.Tensor | None, sigma_max: float) -> torch.Tensor:
    """log p_1 at the ODE's end points (N,) under the training data's own forward marginal at t = 1 (that of each
    point's class for a conditional model): what the matched Gaussian prior stands in for."""
    if labels is None or data_labels is None:
        return forward_marginal_log_prob(ends, data, sigma_max)
    out = torch.empty(len(ends), dtype=torch.float64)
    for c in labels.unique().tolist():
        rows = (labels == c).cpu()
        out[rows] = forward_marginal_log_prob(ends[rows], data[data_labels == c], sigma_max)
    return out


def exact_density_grid(trained: TrainedDiffusion, sc: SampleConfig, klass: int | None = None, size: int = 41,
                       reach: float = 2.0, rtol: float = 1e-4, atol: float = 1e-4) -> DensityGrid:
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
    return DensityGrid(axis.numpy(), ode.logp.view(size, size).float().numpy(), truth.view(size, size).numpy(), truth_value,
                       klass if cfg.n_classes else None, ode.nfe, sc.start)


def steer_to_target(
    trained: TrainedDiffusion, target: tuple[float, float], klass: int | None = None, sampler: str = "sde",
    steps: int = 100, iterations: int = 1000, lr: float = 0.1, tolerance: float = 0.01, seed: int = 0,
    on_step: Callable[[int, float], None] | None = None,
) -> SteeredSample:
    """Bonus: optimise the sampler's initial (and, for sde, per-step) noise so that the frozen model outputs `target`."""
    if not lr > 0:
        raise ParameterError("lr", f"must be > 0, got {lr}")
    k = trained.cfg.n_classes
    label = class_labels(trained, 1, klass if klass is not None else (0 if k else None))
    if label is not None:
        label = label.to(trained.device)
    ts = time_grid(steps, "uniform", trained.sde)
    res = invert_to_target(trained.model, trained.sde, torch.tensor(target, dtype=torch.float32), ts, sampler, iterations,
                           lr, tolerance, seed, trained.cfg.sample.start, label, on_step)
    data, _ = make_dataset(trained.cfg)
    # how likely the found noise is under the sampler's own noise: standardise z(1) by its start distribution
    mean, std = start_moments(trained.model, label, 1, trained.cfg.sample.start, trained.sde)
    u = ((res.z1.to(mean.device) - mean[0]) / std[0]).cpu()
    if res.step_noise is not None:
        u = torch.cat([u, res.step_noise.cpu().flatten()])
    log_density = float(-0.5 * (u**2).sum() - 0.5 * u.numel() * math.log(2 * math.pi))
    return SteeredSample(tuple(target), res.final.cpu().numpy(), res.distance, res.iterations, tolerance,
                         np.asarray(res.losses), res.trajectory.cpu().numpy(), ts.numpy(), sampler, steps,
                         res.z1.cpu().numpy(), data.numpy(), noise_numbers=u.numel(), noise_log_density=log_density)


def guidance_sweep(
    trained: TrainedDiffusion, sc: SampleConfig, n: int, seed: int, weights: list[float],
    intervals: list[tuple[float, float]] | None = None,
) -> GuidanceSweep:
    """Classifier-free guidance at several weights W, in the configured interval and, for contrast, at every step.

    Per (interval, W): the own-cell fraction (class fidelity) and the within-cell TV of a 4x4
    histogram (how evenly each class fills its cell: diversity), from the same noise.
    """
    cfg = trained.cfg
    if not cfg.n_classes:
        raise ParameterError("weights", "a guidance sweep needs the conditional model")
    intervals = intervals or list(dict.fromkeys([tuple(sc.guidance_interval), (0.0, 1.0)]))
    labels = class_labels(trained, n)
    rows, plain = [], None
    for interval in intervals:
        for w in weights:
            if w == 0 and plain is not None:
                rows.append(dataclasses.replace(plain, interval=interval))
                continue
            x, wall = _draw(trained, dataclasses.replace(sc, guidance=w, guidance_interval=list(interval)), n, seed, labels)
            own = quality.own_region_fractions(x, labels, cfg.data.grid_rows, cfg.data.grid_cols, cfg.data.half_width)
            even = quality.within_cell_tv(x, labels, cfg.data.grid_rows, cfg.data.grid_cols, cfg.data.half_width)
            row = GuidanceRow(w, interval, float(np.nanmean(own)), float(np.nanmin(own)), float(np.nanmean(even)),
                              quality.inside_fraction(x, cfg.data.half_width), wall, x.numpy())
            plain = row if w == 0 else plain
            rows.append(row)
    return GuidanceSweep(rows, labels.numpy(), cfg.n_classes, (cfg.data.grid_rows, cfg.data.grid_cols), _settings(sc), seed)


def sampling_study(
    trained: TrainedDiffusion, sc: SampleConfig, n: int, seed: int = 0, klass: int | str | None = None,
    seeds: bool = False, steps_sweep: list[int] | None = None, pairs: list[tuple[str, str]] | None = None,
    guidance_weights: list[float] | None = None,
) -> list:
    """Samples with their quality (C4, C5) and, when asked, the 9-seed grid (U3), a sweep over the number of steps (U4),
    a comparison of samplers and grids (U5) and a guidance sweep: everything `gencli diffusion sample` shows."""
    results: list = [sample_quality(trained, sc, n, seed, klass)]
    if seeds:
        results.append(seeds_grid(trained, sc, n, seed))
    if steps_sweep:
        results.append(sampler_sweep(trained, sc, n, seed, [(sc.sampler, sc.schedule, t) for t in steps_sweep], "steps_sweep"))
    if pairs:
        results.append(sampler_sweep(trained, sc, n, seed, [(s, g, sc.steps) for s, g in pairs], "compare"))
    if guidance_weights:
        results.append(guidance_sweep(trained, sc, n, seed, guidance_weights))
    return results
