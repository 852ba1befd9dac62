"""`gencli diffusion ...`: train, sample, trajectory, determinism, prob, invert, schedule."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import torch
import typer

from gencli.checkpoint import check_writable_target
from gencli.cli import console
from gencli.cli.checks import out_dir as out_dir_for
from gencli.cli.checks import positive
from gencli.cli.options import (
    CkptReadOpt,
    CkptWriteOpt,
    ConfigOpt,
    DeviceOpt,
    JsonOpt,
    OutDirOpt,
    SeedOpt,
    SetOpt,
)
from gencli.config import require_unchanged, resolve, to_dict, to_yaml
from gencli.csvio import write_csv, write_text
from gencli.device import resolve_device
from gencli.diffusion import quality
from gencli.diffusion.config import SAMPLERS, SCHEDULES, STARTS, DiffusionConfig
from gencli.diffusion.data import grid_labels
from gencli.diffusion.invert import invert_to_target
from gencli.diffusion.likelihood import log_prob_bound
from gencli.diffusion.sampling import (
    balanced_labels,
    initial_noise,
    record_trajectory,
    sample,
    sample_points,
    time_grid,
)
from gencli.diffusion.sde import VESDE
from gencli.diffusion.store import TrainedDiffusion, load_trained, save_trained
from gencli.diffusion.train import DiffusionTrainer, TrainingDiverged, make_dataset
from gencli.errors import GencliError
from gencli.plots import diffusion as plots
from gencli.plots.common import loss_curves

app = typer.Typer(
    help="The 2D point diffusion model (VE SDE, sigma(t) = exp(5 (t - 1)), eps-predicting MLP).\n\n"
    "Example: gencli diffusion train && gencli diffusion sample --seeds-grid",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

UNCOND_CKPT = Path("checkpoints/diffusion")
COND_CKPT = Path("checkpoints/diffusion-cond")

ConditionalOpt = Annotated[
    bool, typer.Option("--conditional", help="Use the class-conditional model (default checkpoint checkpoints/diffusion-cond).")
]
StepsOpt = Annotated[int | None, typer.Option("--steps", help="Number of reverse steps T (default: config, 1000).")]
SamplerOpt = Annotated[str | None, typer.Option("--sampler", help=f"One of {', '.join(SAMPLERS)}.")]
ScheduleOpt = Annotated[str | None, typer.Option("--schedule", help=f"Time grid: {', '.join(SCHEDULES)}.")]
StartOpt = Annotated[str | None, typer.Option("--start", help=f"Initial noise: {', '.join(STARTS)}.")]


# ---------------------------------------------------------------- helpers


def _parse_point(text: str, option: str, allow_class: bool = False) -> tuple[float, float, int | None]:
    parts = [p.strip() for p in text.split(",")]
    want = "X,Y[,CLASS]" if allow_class else "X,Y"
    if len(parts) not in ((2, 3) if allow_class else (2,)):
        raise GencliError(f"{option} {text!r}: expected {want}")
    try:
        x, y = float(parts[0]), float(parts[1])
    except ValueError:
        raise GencliError(f"{option} {text!r}: expected two numbers {want}") from None
    if not (np.isfinite(x) and np.isfinite(y)):
        raise GencliError(f"{option} {text!r}: coordinates must be finite")
    c = None
    if len(parts) == 3:
        try:
            c = int(parts[2])
        except ValueError:
            raise GencliError(f"{option} {text!r}: CLASS must be an integer") from None
    return x, y, c


def _parse_int_list(text: str, option: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise GencliError(f"{option} {text!r}: expected comma-separated integers") from None
    if not values or any(v < 1 for v in values):
        raise GencliError(f"{option} {text!r}: expected positive integers")
    return values


def _choice(value: str | None, choices: tuple[str, ...], option: str) -> str | None:
    if value is not None and value not in choices:
        raise GencliError(f"{option}: must be one of {', '.join(choices)}, got {value!r}")
    return value




def _load(ckpt: Path | None, conditional: bool, device: str) -> TrainedDiffusion:
    resolve_device(device)  # validated; the 2D model runs fastest on the CPU
    return load_trained(ckpt or (COND_CKPT if conditional else UNCOND_CKPT))


def _runtime_config(trained: TrainedDiffusion, config: Path | None, sets: list[str] | None, explicit: dict) -> DiffusionConfig:
    """The checkpoint's config with sampling settings overridden; the model must not change."""
    cfg = resolve(DiffusionConfig, base=to_dict(trained.cfg), yaml_path=config, sets=sets, explicit=explicit)
    require_unchanged(cfg, trained.cfg, ("data", "model", "sde", "train"),
                      f"of a trained checkpoint ({trained.checkpoint.path}); retrain with `gencli diffusion train` instead")
    return cfg




def _save_config(cfg: DiffusionConfig, out: Path, files: dict) -> None:
    files["config"] = write_text(out / "config.yaml", to_yaml(cfg))


def _sample_labels(trained: TrainedDiffusion, n: int, klass: int | None) -> torch.Tensor | None:
    k = trained.cfg.n_classes
    if not k:
        if klass is not None:
            raise GencliError("--class: this checkpoint is unconditional (train with --conditional)")
        return None
    if klass is not None:
        if not 0 <= klass < k:
            raise GencliError(f"--class {klass}: out of range, this model has classes 0..{k - 1}")
        return torch.full((n,), klass, dtype=torch.long)
    return balanced_labels(n, k)


def _quality_rows(cfg: DiffusionConfig, x: torch.Tensor, labels: torch.Tensor | None, data_std: list) -> dict:
    hw = cfg.data.half_width
    res = {"inside_fraction": quality.inside_fraction(x, hw), "tv_distance": quality.tv_from_uniform(x, 10, hw)}
    if labels is not None:
        own = quality.own_region_fractions(x, labels, cfg.data.grid_rows, cfg.data.grid_cols, hw)
        res["own_region_fraction"] = own
        valid = [f for f in own if f == f]
        res["own_region_mean"] = float(np.mean(valid)) if valid else float("nan")
        res["own_region_worst"] = float(np.min(valid)) if valid else float("nan")
        res["spread"] = quality.class_spread(x, labels, cfg.n_classes)
        res["data_spread"] = data_std
    return res


def _class_data_std(cfg: DiffusionConfig) -> list:
    x, labels = make_dataset(cfg)
    return quality.class_spread(x, labels, cfg.n_classes) if labels is not None else []


# ---------------------------------------------------------------- train


@app.command()
def train(
    config: ConfigOpt = None,
    set_: SetOpt = None,
    ckpt: CkptWriteOpt = None,
    conditional: Annotated[bool, typer.Option("--conditional", help="Train the class-conditional model.")] = False,
    epochs: Annotated[int | None, typer.Option("--epochs", help="Full-batch training steps (train.epochs).")] = None,
    seed: SeedOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the checkpoint in --ckpt.")] = False,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Train the denoiser; write the checkpoint, metrics.csv, the loss figure and the data figure.

    Example: gencli diffusion train --conditional --set train.epochs=8000
    """
    resolve_device(device)
    explicit = {"train.epochs": positive(epochs, "--epochs"), "train.seed": seed}
    if conditional:
        explicit["model.conditional"] = True
    path = ckpt or (COND_CKPT if conditional else UNCOND_CKPT)
    if resume:
        trained = load_trained(path)
        base = to_dict(trained.cfg)
        cfg = resolve(DiffusionConfig, base=base, yaml_path=config, sets=set_, explicit=explicit)
        require_unchanged(cfg, trained.cfg, ("data", "model", "sde"), f"when resuming {path}")
        state = trained.checkpoint.load_train_state()
        trainer = DiffusionTrainer(cfg)
        trainer.load_state_dict(state)
    else:
        cfg = resolve(DiffusionConfig, yaml_path=config, sets=set_, explicit=explicit)
        check_writable_target(path, "diffusion")
        trainer = DiffusionTrainer(cfg)
    total = cfg.train.epochs
    if trainer.epoch >= total:
        raise GencliError(f"--epochs {total}: the checkpoint in {path} already has {trainer.epoch} epochs; ask for more")
    label = "conditional" if cfg.model.conditional else "unconditional"
    try:
        with console.progress(total, f"training {label}") as advance:
            advance(completed=trainer.epoch)

            def on_step(epoch: int, loss: float) -> None:
                if epoch % 25 == 0 or epoch == total:
                    advance(completed=epoch, info=f"loss {loss:.4f}")

            trainer.run(total, on_step)
    except KeyboardInterrupt:
        save_trained(trainer, path, interrupted=True)
        console.note(f"interrupted at epoch {trainer.epoch}; resumable state saved to {path} (use --resume)")
        raise typer.Exit(130) from None
    except TrainingDiverged as e:
        raise typer.Exit(_diverged(str(e), path)) from None

    files = _training_figures(trainer, path)
    try:
        save_trained(trainer, path, files={v.name: v.read_bytes() for v in files.values()})
    finally:
        shutil.rmtree(files["metrics"].parent, ignore_errors=True)
    # the figures now live in the checkpoint; report their final paths
    files = {k: path / v.name for k, v in files.items()}
    files.update({"checkpoint": path, "metrics": path / "metrics.csv"})
    result = {
        "final_loss": trainer.losses[-1],
        "final_loss_avg100": float(np.mean(trainer.losses[-100:])),
        "epochs": trainer.epoch,
        "wall_s": trainer.wall_s,
        "conditional": cfg.model.conditional,
        "files": files,
    }
    if json_:
        console.emit_json(result)
        return
    console.table(
        f"diffusion train ({label})",
        ["epochs", "final loss", "mean of last 100", "wall s"],
        [(trainer.epoch, result["final_loss"], result["final_loss_avg100"], trainer.wall_s)],
    )
    console.files_table(files)


def _diverged(message: str, path: Path) -> int:
    console.error(f"training stopped: {message}; the checkpoint in {path} was left as it was")
    return 1


def _training_figures(trainer: DiffusionTrainer, ckpt: Path) -> dict[str, Path]:
    """Loss figure (U2), data figure (C1), metrics.csv, in a scratch folder beside the checkpoint."""
    scratch = ckpt.parent / f".{ckpt.name}.figures"
    scratch.mkdir(parents=True, exist_ok=True)
    cfg = trainer.cfg
    steps = np.arange(1, len(trainer.losses) + 1)
    losses = np.asarray(trainer.losses)
    window = min(50, len(losses))
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    files = {
        "loss_figure": loss_curves(
            {"loss": (steps, losses), f"moving average ({window})": (steps[window - 1 :], smooth)},
            scratch / "loss.png",
            f"denoiser training loss ({'conditional' if cfg.model.conditional else 'unconditional'})",
            ylabel="MSE of eps prediction",
        ),
        "metrics": write_csv(scratch / "metrics.csv", ["epoch", "loss"], zip(steps.tolist(), trainer.losses)),
    }
    x = trainer.x.numpy()
    if trainer.labels is not None:
        files["data_figure"] = plots.points(
            x, scratch / "data.png", f"training data by class (K = {cfg.n_classes})",
            labels=trainer.labels.numpy(), n_classes=cfg.n_classes, grid=(cfg.data.grid_rows, cfg.data.grid_cols),
        )
    else:
        files["data_figure"] = plots.points(x, scratch / "data.png", f"training data ({len(x)} points)")
    return {k: Path(v) for k, v in files.items()}


# ---------------------------------------------------------------- sample


@app.command("sample")
def sample_cmd(
    ckpt: CkptReadOpt = None,
    conditional: ConditionalOpt = False,
    n: Annotated[int, typer.Option("--n", help="Number of points.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the initial (and step) noise.")] = 0,
    steps: StepsOpt = None,
    sampler: SamplerOpt = None,
    schedule: ScheduleOpt = None,
    start: StartOpt = None,
    klass: Annotated[int | None, typer.Option("--class", help="Sample only this class (conditional model).")] = None,
    exercise: Annotated[
        bool, typer.Option("--exercise", help="The exercise's exact algorithm: N(0, I) start, Euler steps, uniform grid.")
    ] = False,
    seeds_grid: Annotated[bool, typer.Option("--seeds-grid", help="Also a 3x3 grid of 9 seeds (U3).")] = False,
    steps_sweep: Annotated[
        str | None, typer.Option("--steps-sweep", help="Also compare step counts, e.g. 1,5,10,50,100,1000 (U4).")
    ] = None,
    compare: Annotated[
        str | None,
        typer.Option("--compare", help="Also compare SAMPLER/SCHEDULE pairs, e.g. euler/uniform,heun/karras,sde/uniform (U5)."),
    ] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    out_dir: OutDirOpt = None,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Sample points; write samples.csv and samples.png; print quality figures.

    Quality: fraction inside the square, total-variation distance of a 10x10 histogram
    from uniform (about 0.04 is the floor for 10,000 samples) and, for the conditional
    model, the per-class fraction landing in its own cell.

    Example: gencli diffusion sample --n 10000 --steps-sweep 1,5,10,50,100,1000 --seeds-grid
    """
    positive(n, "--n")
    explicit = {
        "sample.steps": positive(steps, "--steps"),
        "sample.sampler": _choice(sampler, SAMPLERS, "--sampler"),
        "sample.schedule": _choice(schedule, SCHEDULES, "--schedule"),
        "sample.start": _choice(start, STARTS, "--start"),
    }
    if exercise:
        explicit.update({"sample.sampler": "euler", "sample.schedule": "uniform", "sample.start": "standard"})
    sweep = _parse_int_list(steps_sweep, "--steps-sweep") if steps_sweep else []
    pairs = _parse_pairs(compare) if compare else []
    trained = _load(ckpt, conditional, device)
    cfg = _runtime_config(trained, config, set_, explicit)
    out = out_dir_for(out_dir, "diffusion", "sample")
    sc = cfg.sample
    labels = _sample_labels(trained, n, klass)
    model, sde = trained.model, trained.sde
    data_std = _class_data_std(cfg) if labels is not None else []

    t0 = time.perf_counter()
    x = sample_points(model, n, sde, sc.steps, sc.sampler, sc.schedule, sc.start, seed, labels, sc.rho)
    wall = time.perf_counter() - t0
    files: dict[str, Path] = {}
    header = ["x", "y", "label"] if labels is not None else ["x", "y"]
    rows = zip(*x.T.tolist(), labels.tolist()) if labels is not None else zip(*x.T.tolist())
    files["samples"] = write_csv(out / "samples.csv", header, rows)
    what = f"{sc.sampler}, {sc.schedule} grid, T={sc.steps}, {sc.start} start, seed {seed}"
    grid = (cfg.data.grid_rows, cfg.data.grid_cols) if labels is not None else (0, 0)
    files["samples_figure"] = plots.points(
        x.numpy(), out / "samples.png", f"{n} samples ({what})",
        labels=labels.numpy() if labels is not None else None, n_classes=cfg.n_classes, grid=grid,
    )
    result: dict = {"n": n, "seed": seed, **{k: getattr(sc, k) for k in ("steps", "sampler", "schedule", "start")}}
    result.update(_quality_rows(cfg, x, labels, data_std))
    result["wall_s"] = wall

    if seeds_grid:
        items = []
        for s in range(seed, seed + 9):
            xs = sample_points(model, n, sde, sc.steps, sc.sampler, sc.schedule, sc.start, s, labels, sc.rho)
            items.append((f"seed {s}: TV {quality.tv_from_uniform(xs):.3f}", xs.numpy()))
        files["seeds_grid_figure"] = plots.panels(
            items, out / "seeds_grid.png", f"9 seeds x {n} points ({sc.sampler}, T={sc.steps})",
            labels=labels.numpy() if labels is not None else None, n_classes=cfg.n_classes,
        )
    if sweep:
        result["steps_sweep"] = _sweep(
            trained, cfg, labels, n, seed, [(sc.sampler, sc.schedule, t) for t in sweep],
            out / "steps_sweep", "number of steps T", files, "steps_sweep",
        )
    if pairs:
        result["compare"] = _sweep(
            trained, cfg, labels, n, seed, [(s, g, sc.steps) for s, g in pairs],
            out / "compare", f"samplers and time grids (T={sc.steps})", files, "compare",
        )
    _save_config(cfg, out, files)
    result["files"] = files
    if json_:
        console.emit_json(result)
        return
    _print_quality(result, what, cfg)
    for key, title in (("steps_sweep", "steps sweep (U4)"), ("compare", "sampler comparison (U5)")):
        if key in result:
            console.table(
                title, ["sampler", "schedule", "steps", "inside", "TV", "wall s"],
                [(r["sampler"], r["schedule"], r["steps"], r["inside_fraction"], r["tv_distance"], r["wall_s"]) for r in result[key]],
            )
    console.files_table(files)


def _parse_pairs(text: str) -> list[tuple[str, str]]:
    pairs = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        s, _, g = item.partition("/")
        _choice(s, SAMPLERS, "--compare sampler")
        _choice(g or "uniform", SCHEDULES, "--compare schedule")
        pairs.append((s, g or "uniform"))
    if not pairs:
        raise GencliError(f"--compare {text!r}: expected SAMPLER/SCHEDULE pairs, e.g. euler/uniform,heun/karras")
    return pairs


def _sweep(trained, cfg, labels, n, seed, settings, stem: Path, what: str, files: dict, key: str) -> list[dict]:
    """Sample with each (sampler, schedule, steps); a panel figure and a CSV of the quality figures."""
    rows, items = [], []
    for sampler, schedule, steps in settings:
        t0 = time.perf_counter()
        x = sample_points(trained.model, n, trained.sde, steps, sampler, schedule, cfg.sample.start, seed, labels, cfg.sample.rho)
        wall = time.perf_counter() - t0
        q = _quality_rows(cfg, x, labels, [])
        q.pop("spread", None)
        q.pop("data_spread", None)
        rows.append({"sampler": sampler, "schedule": schedule, "steps": steps, **q, "wall_s": wall})
        items.append((f"{sampler}/{schedule} T={steps}\ninside {q['inside_fraction']:.3f}, TV {q['tv_distance']:.3f}", x.numpy()))
    files[f"{key}_figure"] = plots.panels(
        items, stem.with_suffix(".png"), f"{n} samples by {what} (seed {seed}, {cfg.sample.start} start)",
        ncols=min(len(items), 6) if len(items) <= 6 else 3,
        labels=labels.numpy() if labels is not None else None, n_classes=cfg.n_classes,
    )
    files[key] = write_csv(
        stem.with_suffix(".csv"), ["sampler", "schedule", "steps", "inside_fraction", "tv_distance", "wall_s"],
        [(r["sampler"], r["schedule"], r["steps"], r["inside_fraction"], r["tv_distance"], r["wall_s"]) for r in rows],
    )
    return rows


def _print_quality(result: dict, what: str, cfg: DiffusionConfig) -> None:
    console.table(
        f"diffusion sample ({what})", ["points", "inside square", "TV from uniform (10x10)", "wall s"],
        [(result["n"], result["inside_fraction"], result["tv_distance"], result["wall_s"])],
    )
    if "own_region_fraction" in result:
        rows = []
        for c, frac in enumerate(result["own_region_fraction"]):
            sx, sy = result["spread"][c]
            dx, dy = result["data_spread"][c]
            rows.append((c, frac, sx, sy, dx, dy))
        console.table(
            f"own-region fraction per class (mean {result['own_region_mean']:.3f}, worst {result['own_region_worst']:.3f})",
            ["class", "in own cell", "std x", "std y", "data std x", "data std y"], rows,
        )


# ---------------------------------------------------------------- schedule


@app.command()
def schedule(
    steps: Annotated[int, typer.Option("--steps", help="Number of sampling steps to draw.")] = 50,
    rho: Annotated[float | None, typer.Option("--rho", help="rho of the Karras grid (sample.rho).")] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    out_dir: OutDirOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Plot sigma over the sampling steps for the uniform (exercise) and the Karras time grids (U5).

    Example: gencli diffusion schedule --steps 50 --rho 7
    """
    positive(steps, "--steps")
    if rho is not None and not rho > 0:
        raise GencliError(f"--rho: must be > 0, got {rho}")
    cfg = resolve(DiffusionConfig, yaml_path=config, sets=set_, explicit={"sample.rho": rho})
    sde = VESDE(cfg.sde.sigma_min, cfg.sde.sigma_max)
    out = out_dir_for(out_dir, "diffusion", "schedule")
    series = {}
    rows = []
    for name in SCHEDULES:
        ts = time_grid(steps, name, sde, cfg.sample.rho)
        sig = sde.sigma(ts)
        label = f"{name}" + (f" (rho={cfg.sample.rho:g})" if name == "karras" else " (exercise)")
        series[label] = (ts.numpy(), sig.numpy())
        rows.extend((name, i, t, s) for i, (t, s) in enumerate(zip(ts.tolist(), sig.tolist())))
    files = {
        "schedule_figure": plots.schedules(
            series, out / "schedule.png", f"sigma(t) = {cfg.sde.sigma_min:.4g}^(1-t) {cfg.sde.sigma_max:g}^t, T={steps}"
        ),
        "schedule": write_csv(out / "schedule.csv", ["schedule", "step", "t", "sigma"], rows),
    }
    _save_config(cfg, out, files)
    summary = {
        name: {"sigma_first": s[0].item(), "sigma_mid": s[len(s) // 2].item(), "sigma_last": s[-1].item()}
        for name, s in ((n_, sde.sigma(time_grid(steps, n_, sde, cfg.sample.rho))) for n_ in SCHEDULES)
    }
    if json_:
        console.emit_json({"steps": steps, "schedules": summary, "files": files})
        return
    console.table(
        f"sigma at the first, middle and last step (T={steps})", ["schedule", "first", "middle", "last"],
        [(k, v["sigma_first"], v["sigma_mid"], v["sigma_last"]) for k, v in summary.items()],
    )
    console.files_table(files)


# ---------------------------------------------------------------- trajectory


@app.command()
def trajectory(
    ckpt: CkptReadOpt = None,
    conditional: ConditionalOpt = False,
    forward: Annotated[bool, typer.Option("--forward", help="The forward (noising) process of one point (U1).")] = False,
    point: Annotated[str, typer.Option("--point", help="Start point X,Y of --forward.")] = "1.5,-1.25",
    n: Annotated[int, typer.Option("--n", help="Reverse trajectories: number of points (conditional: one per class).")] = 4,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the noise.")] = 0,
    steps: StepsOpt = None,
    sampler: SamplerOpt = None,
    schedule: ScheduleOpt = None,
    start: StartOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    out_dir: OutDirOpt = None,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Trajectories: the forward process of a point (--forward, U1) or reverse sampling paths (U6, C3).

    With the conditional model, one point per class, coloured by class, with a check
    that each ends in its own cell (C3).

    Example: gencli diffusion trajectory --forward --point 1.5,-1.25
    """
    out = out_dir_for(out_dir, "diffusion", "trajectory")
    files: dict[str, Path] = {}
    if forward:
        x, y, _ = _parse_point(point, "--point")
        cfg = resolve(DiffusionConfig, yaml_path=config, sets=set_, explicit={"sample.steps": positive(steps, "--steps")})
        sde = VESDE(cfg.sde.sigma_min, cfg.sde.sigma_max)
        k = min(cfg.sample.steps, 500)
        ts = torch.linspace(0, 1, k + 1)
        path = sde.forward_path(torch.tensor([[x, y]]), ts, torch.Generator().manual_seed(seed))[:, 0]
        files["trajectory_figure"] = plots.forward_path(
            path.numpy(), ts.numpy(), out / "forward.png", f"forward process from ({x:g}, {y:g}): x_t = x_0 + sigma(t) eps"
        )
        files["trajectory"] = write_csv(out / "forward.csv", ["t", "sigma", "x", "y"],
                                        zip(ts.tolist(), sde.sigma(ts).tolist(), *path.T.tolist()))
        _save_config(cfg, out, files)
        result = {"start": [x, y], "end": path[-1].tolist(), "steps": k, "files": files}
        if json_:
            console.emit_json(result)
            return
        console.table("forward process", ["start", "end (t = 1)", "points"], [(f"({x:g}, {y:g})", f"({path[-1, 0]:.3f}, {path[-1, 1]:.3f})", k + 1)])
        console.files_table(files)
        return

    positive(n, "--n")
    explicit = {
        "sample.steps": positive(steps, "--steps"),
        "sample.sampler": _choice(sampler, SAMPLERS, "--sampler"),
        "sample.schedule": _choice(schedule, SCHEDULES, "--schedule"),
        "sample.start": _choice(start, STARTS, "--start"),
    }
    trained = _load(ckpt, conditional, device)
    cfg = _runtime_config(trained, config, set_, explicit)
    sc = cfg.sample
    k = cfg.n_classes
    labels = torch.arange(k) if k else None
    count = k or n
    gen = torch.Generator().manual_seed(seed)
    frames, cb = record_trajectory()
    with torch.inference_mode():
        z = initial_noise(trained.model, count, sc.start, trained.sde, gen, labels)
        sample(trained.model, z, time_grid(sc.steps, sc.schedule, trained.sde, sc.rho), trained.sde, sc.sampler, labels, gen, cb)
    traj = torch.stack(frames)  # (K, count, 2)
    ends = traj[-1]
    data, _ = make_dataset(cfg)
    what = f"{sc.sampler}, T={sc.steps}, {sc.start} start, seed {seed}"
    grid = (cfg.data.grid_rows, cfg.data.grid_cols) if k else (0, 0)
    files["trajectory_figure"] = plots.trajectories(
        traj.numpy(), out / "reverse.png",
        ("one point per class" if k else f"{count} reverse trajectories") + f" ({what})",
        labels=labels.numpy() if labels is not None else None, n_classes=k, grid=grid, background=data.numpy(),
    )
    ts = time_grid(sc.steps, sc.schedule, trained.sde, sc.rho).tolist()
    rows = [
        (i, ts[i], j, traj[i, j, 0].item(), traj[i, j, 1].item()) + ((j,) if k else ())
        for i in range(traj.shape[0]) for j in range(count)
    ]
    files["trajectory"] = write_csv(out / "reverse.csv", ["step", "t", "point", "x", "y"] + (["label"] if k else []), rows)
    _save_config(cfg, out, files)
    result: dict = {"ends": ends.tolist(), "steps": sc.steps, "sampler": sc.sampler, "files": files}
    table_rows = []
    if k:
        landed = grid_labels(ends, cfg.data.grid_rows, cfg.data.grid_cols, cfg.data.half_width)
        result["in_own_region"] = (landed == labels).tolist()
        result["all_in_own_region"] = bool((landed == labels).all())
        table_rows = [(c, f"({ends[c, 0]:.3f}, {ends[c, 1]:.3f})", int(landed[c]), bool(landed[c] == c)) for c in range(k)]
    if json_:
        console.emit_json(result)
        return
    if k:
        console.table(f"one point per class ({what})", ["class", "end point", "landed in cell", "own cell"], table_rows)
    else:
        console.table(f"reverse trajectories ({what})", ["point", "start", "end"],
                      [(j, f"({traj[0, j, 0]:.3f}, {traj[0, j, 1]:.3f})", f"({ends[j, 0]:.3f}, {ends[j, 1]:.3f})") for j in range(count)])
    console.files_table(files)


# ---------------------------------------------------------------- determinism


@app.command()
def determinism(
    ckpt: CkptReadOpt = None,
    conditional: ConditionalOpt = False,
    repeats: Annotated[int, typer.Option("--repeats", help="How many times the same noise goes through the sampler.")] = 10,
    sampler: SamplerOpt = None,
    n: Annotated[int, typer.Option("--n", help="Points per run.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the shared initial noise.")] = 0,
    steps: StepsOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    out_dir: OutDirOpt = None,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Run the same input noise through the sampler R times: are the outputs identical? (U6)

    Deterministic samplers (euler, ddim, heun) give identical outputs; the stochastic
    one (sde) injects fresh noise each step (seed + repeat), so outputs differ.

    Example: gencli diffusion determinism --repeats 10 --sampler sde
    """
    positive(repeats, "--repeats")
    positive(n, "--n")
    explicit = {"sample.steps": positive(steps, "--steps"), "sample.sampler": _choice(sampler, SAMPLERS, "--sampler")}
    trained = _load(ckpt, conditional, device)
    cfg = _runtime_config(trained, config, set_, explicit)
    sc = cfg.sample
    out = out_dir_for(out_dir, "diffusion", "determinism")
    labels = _sample_labels(trained, n, None)
    with torch.inference_mode():
        z1 = initial_noise(trained.model, n, sc.start, trained.sde, torch.Generator().manual_seed(seed), labels)
    ts = time_grid(sc.steps, sc.schedule, trained.sde, sc.rho)
    outputs, trajs = [], []
    with console.progress(repeats, f"{repeats} runs of {sc.sampler}") as advance:
        for r in range(repeats):
            frames: list[torch.Tensor] = []

            def keep4(info: dict, frames=frames) -> None:
                frames.append(info["z"][:4].clone())

            with torch.inference_mode():
                step_gen = torch.Generator().manual_seed(seed + 1 + r)
                outputs.append(sample(trained.model, z1.clone(), ts, trained.sde, sc.sampler, labels, step_gen, keep4))
            trajs.append(torch.stack(frames))
            advance()
    stack = torch.stack(outputs)  # (R, n, 2)
    diff = (stack - stack[0]).abs().amax().item()
    identical = all(torch.equal(o, outputs[0]) for o in outputs)
    files = {
        "determinism_figure": plots.trajectories(
            torch.cat(trajs, dim=1).numpy(), out / "determinism.png",
            f"4 points, same initial noise, {repeats} runs of {sc.sampler}: identical={identical}",
            labels=np.tile(np.arange(trajs[0].shape[1]), repeats), n_classes=10, label_name="point",
        ),
        "determinism": write_csv(
            out / "determinism.csv", ["repeat", "point", "x", "y"],
            [(r, j, *stack[r, j].tolist()) for r in range(repeats) for j in range(min(n, 4))],
        ),
    }
    _save_config(cfg, out, files)
    result = {"identical": identical, "max_abs_diff": diff, "repeats": repeats, "sampler": sc.sampler, "n": n, "files": files}
    if json_:
        console.emit_json(result)
        return
    console.table(f"determinism ({sc.sampler}, T={sc.steps})", ["repeats", "points", "identical", "max |diff|"],
                  [(repeats, n, identical, diff)])
    console.files_table(files)


# ---------------------------------------------------------------- prob


def _default_query(cfg: DiffusionConfig) -> list[tuple[float, float, int | None]]:
    pts = [(0.0, 0.0), (0.5, -0.5), (-0.9, 0.9), (1.3, 0.0), (2.0, 2.0), (-3.0, 1.0)]
    if not cfg.n_classes:
        return [(x, y, None) for x, y in pts]
    lab = lambda x, y: int(grid_labels(torch.tensor([[x, y]]), cfg.data.grid_rows, cfg.data.grid_cols, cfg.data.half_width)[0])  # noqa: E731
    out = [(x, y, lab(x, y) if abs(x) <= 1 and abs(y) <= 1 else 0) for x, y in pts]
    right = lab(0.5, -0.5)
    out.append((0.5, -0.5, (right + 1) % cfg.n_classes))  # same place, a wrong class
    return out


@app.command()
def prob(
    ckpt: CkptReadOpt = None,
    conditional: ConditionalOpt = False,
    point: Annotated[
        list[str] | None, typer.Option("--point", help="X,Y or X,Y,CLASS (repeatable). Default: a set inside and outside.")
    ] = None,
    samples: Annotated[int, typer.Option("--samples", help="Monte Carlo (eps, t) pairs per point.")] = 4096,
    steps: StepsOpt = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the Monte Carlo noise.")] = 0,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    out_dir: OutDirOpt = None,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """A lower bound on log p(x) (nats) for given points, with its Monte Carlo standard error (C6).

    The bound is VDM's (Kingma et al. 2021): reconstruction - prior KL - L_T, with
    L_T = (T/2) E[(SNR(t - 1/T) - SNR(t)) ||x - x0_hat||^2]. For reference, uniform data
    on [-1, 1]^2 has log p = log(1/4) = -1.386 inside the square; a class cell of the 3x3
    grid has log p(x | c) = log(9/4) = 0.811.

    Example: gencli diffusion prob --conditional --point 0.5,-0.5,5 --point 0.5,-0.5,2
    """
    positive(samples, "--samples")
    explicit = {"sample.steps": positive(steps, "--steps")}
    parsed = [_parse_point(p, "--point", allow_class=True) for p in point] if point else None
    trained = _load(ckpt, conditional, device)
    cfg = _runtime_config(trained, config, set_, explicit)
    k = cfg.n_classes
    queries = parsed or _default_query(cfg)
    for x, y, c in queries:
        if k and c is None:
            raise GencliError(f"--point {x:g},{y:g}: the conditional model needs a class, X,Y,CLASS with CLASS in 0..{k - 1}")
        if k and not 0 <= c < k:
            raise GencliError(f"--point {x:g},{y:g},{c}: class {c} out of range 0..{k - 1}")
        if not k and c is not None:
            raise GencliError(f"--point {x:g},{y:g},{c}: this model is unconditional; give X,Y only")
    out = out_dir_for(out_dir, "diffusion", "prob")
    xs = torch.tensor([[x, y] for x, y, _ in queries])
    labels = torch.tensor([c for _, _, c in queries]) if k else None
    est = log_prob_bound(trained.model, xs, trained.sde, cfg.sample.steps, samples,
                         torch.Generator().manual_seed(seed), labels, cfg.sample.start)
    inside = (xs.abs() <= cfg.data.half_width).all(dim=1)
    if k:
        cells = grid_labels(xs, cfg.data.grid_rows, cfg.data.grid_cols, cfg.data.half_width)
    rows = []
    for i, (x, y, c) in enumerate(queries):
        where = "inside" if inside[i] else "outside"
        if k and inside[i]:
            where += ", own cell" if cells[i] == c else f", cell {int(cells[i])}"
        rows.append({"x": x, "y": y, "class": c, "where": where, "elbo": est.elbo[i].item(), "stderr": est.stderr[i].item(),
                     "neg_diffusion_loss": -est.diffusion[i].item(), "prior_kl": est.prior_kl[i].item(),
                     "reconstruction": est.reconstruction[i].item()})
    data, _ = make_dataset(cfg)
    names = [f"({r['x']:g},{r['y']:g})" + (f" c={r['class']}" if k else "") for r in rows]
    files = {
        "prob_figure": plots.bound_overlay(
            data.numpy(), xs.numpy(), names, est.elbo.numpy(), out / "prob.png",
            f"lower bound on log p(x{' | c' if k else ''}) (T={cfg.sample.steps}, {samples} samples)",
            grid=(cfg.data.grid_rows, cfg.data.grid_cols) if k else (0, 0),
        ),
        "prob": write_csv(out / "prob.csv", list(rows[0].keys()), [list(r.values()) for r in rows]),
    }
    _save_config(cfg, out, files)
    result = {"points": rows, "steps": cfg.sample.steps, "samples": samples, "files": files}
    if json_:
        console.emit_json(result)
        return
    console.table(
        f"lower bound on log p (nats), T={cfg.sample.steps}, {samples} Monte Carlo samples",
        ["point", "class", "where", "bound", "stderr", "-L_T", "prior KL"],
        [(f"({r['x']:g}, {r['y']:g})", "-" if r["class"] is None else r["class"], r["where"], r["elbo"], r["stderr"],
          r["neg_diffusion_loss"], r["prior_kl"]) for r in rows],
    )
    console.files_table(files)


# ---------------------------------------------------------------- invert


@app.command()
def invert(
    ckpt: CkptReadOpt = None,
    conditional: ConditionalOpt = False,
    target: Annotated[str, typer.Option("--target", help="The point X,Y the sampler should output.")] = "4,5.5",
    klass: Annotated[int | None, typer.Option("--class", help="Class to condition on (conditional model).")] = None,
    iterations: Annotated[int, typer.Option("--iterations", help="Adam steps at most.")] = 1000,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate.")] = 0.1,
    tolerance: Annotated[float, typer.Option("--tolerance", help="Stop once this close to the target.")] = 0.01,
    sampler: Annotated[str, typer.Option("--sampler", help="sde optimises the initial and every step's noise; "
                                          "euler/ddim/heun the initial noise only.")] = "sde",
    steps: Annotated[int, typer.Option("--steps", help="Reverse steps of the sampler being steered.")] = 100,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the starting noise.")] = 0,
    out_dir: OutDirOpt = None,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Make the trained model output a point far outside the square by optimising the sampler's noise.

    Example: gencli diffusion invert --target 4,5.5
    """
    positive(iterations, "--iterations")
    positive(steps, "--steps")
    _choice(sampler, SAMPLERS, "--sampler")
    if not lr > 0:
        raise GencliError(f"--lr: must be > 0, got {lr}")
    x, y, _ = _parse_point(target, "--target")
    trained = _load(ckpt, conditional, device)
    label = _sample_labels(trained, 1, klass if klass is not None else (0 if trained.cfg.n_classes else None))
    out = out_dir_for(out_dir, "diffusion", "invert")
    ts = time_grid(steps, "uniform", trained.sde)
    with console.progress(iterations, "steering the sampler") as advance:
        res = invert_to_target(
            trained.model, trained.sde, torch.tensor([x, y]), ts, sampler, iterations, lr, tolerance, seed,
            trained.cfg.sample.start, label, on_step=lambda i, d: advance(completed=i, info=f"distance {d:.4f}"),
        )
    traj = res.trajectory.numpy()
    files = {
        "invert_figure": plots.trajectories(
            traj[:, None, :], out / "invert.png",
            f"steered {sampler} trajectory to ({x:g}, {y:g}): distance {res.distance:.4f}",
        ),
        "invert_loss_figure": loss_curves(
            {"distance to target": (np.arange(1, len(res.losses) + 1), np.asarray(res.losses))},
            out / "invert_loss.png", "inversion: distance of the sampler's output to the target", ylabel="distance",
        ),
        "invert": write_csv(out / "invert.csv", ["step", "t", "x", "y"], zip(range(len(traj)), ts.tolist(), *traj.T.tolist())),
    }
    result = {"target": [x, y], "final": res.final.tolist(), "distance": res.distance, "iterations": res.iterations,
              "success": res.distance <= max(tolerance, 0.05), "z1": res.z1.tolist(), "files": files}
    if json_:
        console.emit_json(result)
        return
    console.table(f"inversion ({sampler}, T={steps})", ["target", "final", "distance", "iterations"],
                  [(f"({x:g}, {y:g})", f"({res.final[0]:.4f}, {res.final[1]:.4f})", res.distance, res.iterations)])
    console.files_table(files)
