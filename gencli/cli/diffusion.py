"""`gencli diffusion ...`: train, sample, trajectory, determinism, prob, invert, schedule (and compare, in its own
module).

Each command parses its options, loads the checkpoint, calls one analysis of
`gencli.diffusion.analyses`, writes its files with `gencli.core.outputs` and shows the result.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gencli.cli import console
from gencli.cli.diffusion_compare import compare
from gencli.cli.diffusion_options import (
    CompareOpt,
    ConditionalOpt,
    DataOpt,
    ExerciseOpt,
    GuidanceOpt,
    GuidanceSweepOpt,
    IntervalOpt,
    NOpt,
    ObjectiveOpt,
    SampleClassOpt,
    SamplerOpt,
    ScheduleOpt,
    SeedsGridOpt,
    StartOpt,
    StepsOpt,
    StepsSweepOpt,
)
from gencli.cli.options import (
    CkptReadOpt,
    CkptWriteOpt,
    ConfigOpt,
    DeviceOpt,
    FlagsGroup,
    ForceOutOpt,
    ForceTrainOpt,
    JsonOpt,
    OutDirOpt,
    ResumeOpt,
    SeedOpt,
    SetOpt,
    count_opt,
    seed_in_range,
)
from gencli.cli.parsing import parse_class, parse_floats, parse_int_list, parse_point
from gencli.cli.points_output import PointsOutOpt, check_points_output, show, write_points_output
from gencli.core.config import ConfigSources, merge, read_yaml, require_unchanged, resolve, to_dict
from gencli.core.errors import GencliError
from gencli.core.lazy import lazy_module
from gencli.core.outputs import output_dir, write_figures, write_outputs
from gencli.core.paths import diffusion_checkpoint, run_dir
from gencli.diffusion.config import (
    DiffusionConfig,
    Sampler,
    sampler_pairs,
)
from gencli.diffusion.sampling.steps import sampler_names

if TYPE_CHECKING:
    from gencli.diffusion.model.store import TrainedDiffusion

# loaded when a command runs, not for --help or completion
analyses = lazy_module("gencli.diffusion.analyses")
devices = lazy_module("gencli.core.device")
fitting = lazy_module("gencli.diffusion.training.fit")
trainer = lazy_module("gencli.diffusion.training.trainer")
store = lazy_module("gencli.diffusion.model.store")

app = typer.Typer(
    cls=FlagsGroup,
    help="The 2D point diffusion model (VE SDE, sigma(t) = exp(5 (t - 1)), eps-predicting MLP), or a flow-matching "
    "model of the same points (--objective flow, flow-ot).\n\n"
    "Example: gencli diffusion train && gencli diffusion sample --seeds-grid",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def load(ckpt: Path | None, conditional: bool, device: str) -> TrainedDiffusion:
    """The checkpoint (default: the unconditional or conditional one) on the chosen device; --conditional on an
    unconditional checkpoint is refused (it has no classes to condition on)."""
    path = ckpt or diffusion_checkpoint(conditional)
    hint = f"gencli diffusion train{' --conditional' if conditional else ''} --ckpt {path}"
    trained = store.load_trained(path, devices.resolve_device(device), hint)
    if conditional and not trained.cfg.model.conditional:
        raise GencliError(f"--conditional: {path} holds an unconditional model; train a conditional one with `{hint}`")
    return trained


def runtime_config(
    trained: TrainedDiffusion, config: Path | None, sets: list[str] | None, explicit: dict
) -> DiffusionConfig:
    """The checkpoint's config with sampling settings overridden; the model must not change. A YAML file's other
    sections (as `gencli config show` prints them) describe training: the checkpoint keeps its own, with a note when
    they differ; a --set of a training key is refused."""
    base = to_dict(trained.cfg)
    data = read_yaml(config) if config is not None else {}
    ignored = [
        f"{section}.{key}"
        for section, values in data.items()
        if section != "sample" and isinstance(values, dict)
        for key, value in values.items()
        if base.get(section, {}).get(key, value) != value
    ]
    if ignored:
        console.note(
            f"--config {config}: a trained checkpoint keeps its own training settings; ignored "
            + ", ".join(ignored[:6])
            + (" ..." if len(ignored) > 6 else "")
        )
    sample_only = {"sample": data["sample"]} if isinstance(data.get("sample"), dict) else {}
    cfg = resolve(DiffusionConfig, base=merge(base, sample_only), sets=sets, explicit=explicit)
    require_unchanged(
        cfg,
        trained.cfg,
        ("data", "model", "sde", "train"),
        f"of a trained checkpoint ({trained.checkpoint.path}); retrain with `gencli diffusion train` instead",
    )
    return cfg


def sampling(steps=None, sampler=None, schedule=None, start=None, guidance=None, interval=None) -> dict:
    """The explicit sample.* overrides of the command line."""
    return {
        "sample.steps": steps,
        "sample.sampler": sampler,
        "sample.schedule": schedule,
        "sample.start": start,
        "sample.guidance": guidance,
        "sample.guidance_interval": parse_floats(interval, "--guidance-interval", 2),
    }


@app.command()
def train(
    config: ConfigOpt = None,
    set_: SetOpt = None,
    ckpt: CkptWriteOpt = None,
    conditional: Annotated[
        bool,
        typer.Option(
            "--conditional", help="Train the class-conditional model (with its own defaults: see the README)."
        ),
    ] = False,
    data: DataOpt = None,
    objective: ObjectiveOpt = None,
    epochs: Annotated[
        int | None, count_opt("--epochs", "Optimizer steps (train.epochs; full-batch epochs by default).")
    ] = None,
    seed: SeedOpt = None,
    resume: ResumeOpt = False,
    force: ForceTrainOpt = False,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Train the denoiser on a 2D set; write the checkpoint, metrics.csv, the loss figure (U2) and data.png (the
    training points; by class, C1, for the conditional model).

    --data picks the points: the exercise's square (the default), another built-in set, or your own CSV of
    x,y[,label] rows (a header as `diffusion sample` writes it), split into training and held-out points
    (data.holdout, seeded by data.seed). Every set but the square is standardised: the model sees it centred and
    scaled to the square's spread, with the noise schedule scaled alike (data.standardize). A CSV's points are
    copied into the checkpoint, which never reads the file again.

    --objective flow or flow-ot trains a flow-matching model on the same data instead (velocity prediction on the
    straight path from N(0, I); flow-ot pairs noise and data by minibatch optimal transport, within each class for
    the conditional model); every command reads the objective from the checkpoint.

    Example: gencli diffusion train --data moons --conditional --objective flow-ot
    """
    explicit = {
        "train.epochs": epochs,
        "train.seed": seed,
        "model.conditional": True if conditional else None,
        "data.name": data,
        "model.objective": objective,
    }
    sources = ConfigSources(config, tuple(set_ or ()), explicit)
    path = ckpt or diffusion_checkpoint(conditional)
    trainer = fitting.prepare(path, resume, sources, devices.resolve_device(device), force)
    total = trainer.cfg.train.epochs
    label = ("conditional" if trainer.cfg.model.conditional else "unconditional") + (
        f" {trainer.cfg.model.objective}" if trainer.cfg.is_flow else ""
    )
    with console.training_outcome(path), console.progress(total, f"training {label}") as advance:
        advance(completed=trainer.epoch)

        def on_step(epoch: int, loss: float) -> None:
            if epoch % 25 == 0 or epoch == total:
                advance(completed=epoch, info=f"loss {loss:.4f}")

        results = fitting.fit(trainer, path, on_step, write_figures)
    names = {"metrics": "metrics.csv", "data": "data.csv", "loss_figure": "loss.png", "data_figure": "data.png"}
    files = {k: path / v for k, v in names.items() if (path / v).is_file()}
    console.show(list(results), {"checkpoint": path, **files}, json_)


@app.command("data")
def data_cmd(
    data: DataOpt = None,
    n: Annotated[int, count_opt("--n", "Points to draw from a built-in set (a CSV shows all its own).")] = 3000,
    seed: Annotated[
        int, typer.Option("--seed", callback=seed_in_range, help="Seed of the draw (of a CSV: of its held-out split).")
    ] = 0,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    out_dir: OutDirOpt = None,
    force: ForceOutOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Draw a 2D set and plot it with its classes; write its data.csv: look at the data before training on it.

    Example: gencli diffusion data --data spirals --n 2000
    """
    explicit = {"data.name": data, "data.n_points": n, "data.seed": seed}
    cfg = resolve(DiffusionConfig, yaml_path=config, sets=set_, explicit=explicit)
    result = analyses.draw_data(cfg)
    out = output_dir(out_dir, run_dir("diffusion", "data"))
    console.show([result], write_outputs([result], out, cfg, force), json_)


@app.command("sample")
def sample_cmd(
    ckpt: CkptReadOpt = None,
    conditional: ConditionalOpt = False,
    n: NOpt = 1000,
    seed: Annotated[
        int, typer.Option("--seed", callback=seed_in_range, help="Seed of the initial (and step) noise.")
    ] = 0,
    steps: StepsOpt = None,
    sampler: SamplerOpt = None,
    schedule: ScheduleOpt = None,
    start: StartOpt = None,
    klass: SampleClassOpt = None,
    guidance: GuidanceOpt = None,
    guidance_interval: IntervalOpt = None,
    guidance_sweep: GuidanceSweepOpt = None,
    exercise: ExerciseOpt = False,
    seeds_grid: SeedsGridOpt = False,
    steps_sweep: StepsSweepOpt = None,
    compare: CompareOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    output: PointsOutOpt = None,
    out_dir: OutDirOpt = None,
    force: ForceOutOpt = False,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Sample points; write samples.csv and samples.png; print quality figures (C4, C5).

    Quality against fresh data of the model's set (a CSV's held-out points): the total-variation distance of two
    10x10 histograms over its noise floor (the same TV between two data draws of these sizes), k-NN precision and
    recall (k = 5), the share inside the data's support, and where the set knows its density the samples' mean
    true log-density; the square adds the exercise's TV from uniform. Conditional: the per-class fraction landing
    in its own region. -o FILE also writes the points alone (.csv, .npy or .json by its name; - for stdout).

    Classifier-free guidance (conditional model): --guidance W, --guidance-interval LO,HI,
    --guidance-sweep 0,1,2,4; --class none samples the null class (the model used unconditionally).

    Example: gencli diffusion sample --n 10000 --steps-sweep 1,5,10,50,100,1000 --seeds-grid
    """
    explicit = sampling(
        steps,
        *(("euler", "uniform", "standard") if exercise else (sampler, schedule, start)),
        guidance,
        guidance_interval,
    )
    check_points_output(output, json_, force)
    sweep = parse_int_list(steps_sweep, "--steps-sweep") if steps_sweep else None
    weights = parse_floats(guidance_sweep, "--guidance-sweep")
    pairs = sampler_pairs(compare.split(",")) if compare else None
    trained = load(ckpt, conditional, device)
    cfg = runtime_config(trained, config, set_, explicit)
    results = analyses.sampling_study(
        trained, cfg.sample, n, seed, parse_class(klass), seeds_grid, sweep, pairs, weights
    )
    out = output_dir(out_dir, run_dir("diffusion", "sample"))
    files = write_outputs(results, out, cfg, force)
    if output is not None:
        files["points"] = write_points_output(output, results[0].points, results[0].labels, force)
    show(results, files, json_, output)


@app.command()
def schedule(
    steps: Annotated[int, count_opt("--steps", "Number of sampling steps to draw.")] = 50,
    rho: Annotated[float | None, typer.Option("--rho", help="rho of the Karras grid (sample.rho).", min=0.0)] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    out_dir: OutDirOpt = None,
    force: ForceOutOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Plot sigma over the sampling steps for the uniform (exercise) and the Karras time grids (U5).

    Example: gencli diffusion schedule --steps 50 --rho 7
    """
    cfg = resolve(DiffusionConfig, yaml_path=config, sets=set_, explicit={"sample.rho": rho})
    result = analyses.sigma_schedules(trainer.untrained_process(cfg)[0], steps, cfg.sample.rho)
    out = output_dir(out_dir, run_dir("diffusion", "schedule"))
    console.show([result], write_outputs([result], out, cfg, force), json_)


@app.command()
def trajectory(
    ckpt: CkptReadOpt = None,
    conditional: ConditionalOpt = False,
    forward: Annotated[
        bool, typer.Option("--forward", help="The forward (noising) process of one point (U1).")
    ] = False,
    point: Annotated[
        str | None,
        typer.Option(
            "--point", help="Start point X,Y of --forward (default: just outside the data, for the square 1.5,-1.25)."
        ),
    ] = None,
    n: Annotated[int, count_opt("--n", "Reverse trajectories: number of points (conditional: one per class).")] = 4,
    seed: Annotated[int, typer.Option("--seed", callback=seed_in_range, help="Seed of the noise.")] = 0,
    steps: StepsOpt = None,
    sampler: SamplerOpt = None,
    schedule: ScheduleOpt = None,
    start: StartOpt = None,
    guidance: GuidanceOpt = None,
    guidance_interval: IntervalOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    out_dir: OutDirOpt = None,
    force: ForceOutOpt = False,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Trajectories: the forward process of a point (--forward, U1) or reverse sampling paths (U6, C3).

    With the conditional model, one point per class, coloured by class, with a check
    that each ends in its own region (C3). --forward needs no checkpoint: without --ckpt it shows the process of
    the config's data (the exercise's square unless --set data.name=...).

    Example: gencli diffusion trajectory --forward --point 1.5,-1.25
    """
    explicit = sampling(steps, sampler, schedule, start, guidance, guidance_interval)
    if forward:
        start_point = parse_point(point, "--point")[:2] if point is not None else None
        if ckpt is not None:
            trained = load(ckpt, conditional, device)
            cfg, process, data = runtime_config(trained, config, set_, explicit), trained.sde, trained.dataset
        else:
            cfg = resolve(DiffusionConfig, yaml_path=config, sets=set_, explicit=explicit)
            process, data = trainer.untrained_process(cfg)
        result = analyses.forward_path(process, data, start_point, min(cfg.sample.steps, 500), seed)
    else:
        trained = load(ckpt, conditional, device)
        cfg = runtime_config(trained, config, set_, explicit)
        result = analyses.reverse_paths(trained, cfg.sample, n, seed)
    out = output_dir(out_dir, run_dir("diffusion", "trajectory"))
    console.show([result], write_outputs([result], out, cfg, force), json_)


@app.command()
def determinism(
    ckpt: CkptReadOpt = None,
    conditional: ConditionalOpt = False,
    repeats: Annotated[int, count_opt("--repeats", "How many times the same noise goes through the sampler.")] = 10,
    sampler: SamplerOpt = None,
    n: Annotated[int, count_opt("--n", "Points per run.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", callback=seed_in_range, help="Seed of the shared initial noise.")] = 0,
    steps: StepsOpt = None,
    guidance: GuidanceOpt = None,
    guidance_interval: IntervalOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    out_dir: OutDirOpt = None,
    force: ForceOutOpt = False,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Run the same input noise through the sampler R times: are the outputs identical? (U6)

    Deterministic samplers (euler, ddim, heun) give identical outputs; the stochastic
    one (sde) injects fresh noise each step (seed + 1 + repeat), so outputs differ.

    Example: gencli diffusion determinism --repeats 10 --sampler sde
    """
    trained = load(ckpt, conditional, device)
    cfg = runtime_config(trained, config, set_, sampling(steps, sampler, guidance=guidance, interval=guidance_interval))
    with console.progress(repeats, f"{repeats} runs of {cfg.sample.sampler}") as advance:
        result = analyses.determinism(trained, cfg.sample, repeats, n, seed, on_repeat=lambda r: advance(completed=r))
    out = output_dir(out_dir, run_dir("diffusion", "determinism"))
    console.show([result], write_outputs([result], out, cfg, force), json_)


@app.command()
def prob(
    ckpt: CkptReadOpt = None,
    conditional: ConditionalOpt = False,
    point: Annotated[
        list[str] | None,
        typer.Option("--point", help="X,Y or X,Y,CLASS (repeatable). Default: a set inside and outside."),
    ] = None,
    samples: Annotated[int, count_opt("--samples", "Monte Carlo (eps, t) pairs per point.")] = 4096,
    steps: StepsOpt = None,
    seed: Annotated[int, typer.Option("--seed", callback=seed_in_range, help="Seed of the Monte Carlo noise.")] = 0,
    exact: Annotated[
        bool,
        typer.Option(
            "--exact",
            help="Also the exact log p (probability-flow ODE, exact divergence) and its two biases; see below.",
        ),
    ] = False,
    rtol: Annotated[float, typer.Option("--rtol", help="Relative tolerance of the ODE solver (--exact).")] = 1e-5,
    atol: Annotated[float, typer.Option("--atol", help="Absolute tolerance of the ODE solver (--exact).")] = 1e-5,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    out_dir: OutDirOpt = None,
    force: ForceOutOpt = False,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """A lower bound on log p(x) (nats) for given points, with its Monte Carlo standard error (C6); with --exact, the
    exact log p beside it.

    The bound is VDM's (Kingma et al. 2021): reconstruction - prior KL - L_T, with
    L_T = (T/2) E[(SNR(t - 1/T) - SNR(t)) ||x - x0_hat||^2]. For reference, uniform data
    on [-1, 1]^2 has log p = log(1/4) = -1.386 inside the square; a class cell of the 3x3
    grid has log p(x | c) = log(9/4) = 0.811.

    --exact adds, per point, exact_logp and exact_nfe (Song et al. 2021: the probability-flow ODE with its
    exact divergence, adaptive Runge-Kutta), and its two biases measured: exact_logp_data_prior (the training
    points' own p_1 at t = 1 as the prior, not the start's Gaussian) and smoothed_truth (the truth smoothed by
    sigma_min = exp(-5), where the path ends).

    Example: gencli diffusion prob --conditional --point 0.5,-0.5,5 --point 0.5,-0.5,2 --exact
    """
    queries = [parse_point(p, "--point", allow_class=True) for p in point] if point else None
    trained = load(ckpt, conditional, device)
    cfg = runtime_config(trained, config, set_, sampling(steps))
    result = analyses.probability_table(trained, cfg.sample, queries, samples, seed, exact=exact, rtol=rtol, atol=atol)
    out = output_dir(out_dir, run_dir("diffusion", "prob"))
    console.show([result], write_outputs([result], out, cfg, force), json_)


@app.command()
def invert(
    ckpt: CkptReadOpt = None,
    conditional: ConditionalOpt = False,
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            help="The point X,Y the sampler should output (default: far outside the data; for the square 4,5.5).",
        ),
    ] = None,
    klass: Annotated[int | None, typer.Option("--class", help="Class to condition on (conditional model).")] = None,
    iterations: Annotated[int, count_opt("--iterations", "Adam steps at most.")] = 1000,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate (> 0).")] = 0.1,
    tolerance: Annotated[float, typer.Option("--tolerance", help="Stop once this close to the target.")] = 0.01,
    sampler: Annotated[
        Sampler | None,
        typer.Option(
            "--sampler",
            help=f"A stochastic sampler ({sampler_names(True)}) optimises the initial and every step's noise, the "
            f"others ({sampler_names(False)}; a flow model's: {sampler_names(objective='flow')}) the initial noise "
            "only. Default: sde, or euler for a flow model.",
        ),
    ] = None,
    steps: Annotated[int, count_opt("--steps", "Reverse steps of the sampler being inverted.")] = 100,
    seed: Annotated[int, typer.Option("--seed", callback=seed_in_range, help="Seed of the starting noise.")] = 0,
    out_dir: OutDirOpt = None,
    force: ForceOutOpt = False,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Make the trained model output a point far outside the data by optimising the sampler's noise (bonus).

    Example: gencli diffusion invert --target 4,5.5
    """
    goal = parse_point(target, "--target")[:2] if target is not None else None  # a bad point fails before the load
    trained = load(ckpt, conditional, device)
    goal = goal or trained.dataset.far_target()
    with console.progress(iterations, "inverting the sampler") as advance:
        result = analyses.invert_to_target(
            trained,
            goal,
            klass,
            sampler,
            steps,
            iterations,
            lr,
            tolerance,
            seed,
            on_step=lambda i, d: advance(completed=i, info=f"distance {d:.4f}"),
        )
    out = output_dir(out_dir, run_dir("diffusion", "invert"))
    console.show([result], write_outputs([result], out, trained.cfg, force), json_)


app.command("compare")(compare)
