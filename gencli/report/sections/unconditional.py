"""U1-U6: the unconditional diffusion model's sections."""

from __future__ import annotations

import dataclasses

from gencli.cli.invocation import command_line
from gencli.diffusion import analyses
from gencli.diffusion.config import sampler_pairs
from gencli.diffusion.results import Determinism
from gencli.report.page import Figure, Section
from gencli.report.registry import Context, SectionSpec, section, with_exercise_start

COMPARE_STEPS = (10, 20, 50)  # U5 compares the samplers at these T too (all converge at T = 1000)


@section(
    "U1",
    "U1 · The forward process of one point",
    "How does one point, starting outside the data, move under x_t = x_0 + sigma(t) eps, sigma(t) = exp(5 (t - 1))?",
    "diffusion",
)
def u1(spec: SectionSpec, c: Context) -> Section:
    m, steps = c.models["diffusion"], min(c.cfg.diffusion.steps, 500)
    fwd = analyses.forward_path(m.sde, m.dataset, None, steps, 0)
    return c.section(
        spec,
        [fwd],
        [(fwd.FIGURE, "forward process of one point, coloured by t")],
        [command_line("diffusion trajectory", forward=True, ckpt=c.paths["diffusion"], point=fwd.start, steps=steps)],
        config=m.cfg,
    )


@section("U2", "U2 · Training loss", "Does the denoiser's eps-prediction loss go down over training?", "diffusion")
def u2(spec: SectionSpec, c: Context) -> Section:
    m = c.models["diffusion"]
    curve = analyses.training_curve(m)
    return c.section(
        spec,
        [curve],
        [(curve.FIGURE, "training loss per epoch")],
        [
            command_line(
                "diffusion train",
                ckpt=c.paths["diffusion"],
                epochs=m.cfg.train.epochs,
                set_=[f"model.hidden={m.cfg.model.hidden}"],
            )
        ],
    )


@section(
    "U3",
    "U3 · Nine seeds",
    "What do nine samplings of the same model with nine different seeds look like?",
    "diffusion",
)
def u3(spec: SectionSpec, c: Context) -> Section:
    d, m, sc = c.cfg.diffusion, c.models["diffusion"], c.sample("diffusion")
    grid = analyses.seeds_grid(m, sc, d.grid_points, 0)
    commands = [
        command_line("diffusion sample", **c.ckpt_options("diffusion"), n=d.grid_points, steps=d.steps, seeds_grid=True)
    ]
    finding, numbers, tables = grid.finding(), grid.to_dict(), grid.tables()
    plain, command = with_exercise_start(sc, commands[0], lambda s: analyses.seeds_grid(m, s, d.grid_points, 0))
    if plain is not None:
        commands.append(command)
        numbers["standard_start"] = plain.to_dict()
        tables.append(plain.tables()[0])
        mean = sum(p.tv_distance for p in grid.panels) / len(grid.panels)
        plain_mean = sum(p.tv_distance for p in plain.panels) / len(plain.panels)
        finding += (
            f" With the exercise's N(0, I) start the mean TV over the seeds is {plain_mean:.3f}, "
            f"{'above' if plain_mean > mean else 'at or below'} the matched start's {mean:.3f}."
        )
    return c.section(
        spec,
        [grid],
        [(grid.FIGURE, "9 samplings with 9 seeds")],
        commands,
        config=m.cfg,
        tables=tables,
        finding=finding,
        numbers=numbers,
    )


@section(
    "U4",
    "U4 · Number of sampling steps",
    "How does sample quality depend on the number of reverse steps T?",
    "diffusion",
)
def u4(spec: SectionSpec, c: Context) -> Section:
    d, m, sc = c.cfg.diffusion, c.models["diffusion"], c.sample("diffusion")
    variants = [(sc.sampler, sc.schedule, t) for t in d.steps_sweep]
    sweep = analyses.sampler_sweep(m, sc, d.n_samples, 0, variants, "steps_sweep")
    results, finding = [sweep], sweep.finding()
    commands = [
        command_line(
            "diffusion sample", **c.ckpt_options("diffusion"), n=d.n_samples, steps=d.steps, steps_sweep=d.steps_sweep
        )
    ]
    numbers = sweep.to_dict()
    plain, command = with_exercise_start(
        sc, commands[0], lambda s: analyses.sampler_sweep(m, s, d.n_samples, 0, variants, "steps_sweep_standard")
    )
    if plain is not None:
        results.append(plain)
        commands.append(command)
        numbers["standard_start"] = {
            "steps_sweep": plain.to_dict()["steps_sweep_standard"]
        }  # as that command prints it
        a, s = sweep.rows[-1], plain.rows[-1]
        finding += (
            f" With the exercise's N(0, I) start the TV at T={a.steps} is {s.tv_distance:.3f}, "
            f"{'above' if s.tv_distance > a.tv_distance else 'at or below'} the matched start's {a.tv_distance:.3f}."
        )
    return c.section(
        spec,
        results,
        [(sweep.figure, "the same noise with different numbers of steps T")],
        commands,
        config=m.cfg,
        finding=finding,
        numbers=numbers,
    )


@section(
    "U5",
    "U5 · Samplers and sigma schedules",
    "How do other samplers and time grids compare with the exercise's "
    "Euler steps on a uniform grid, and where does each grid place its sigmas?",
    "diffusion",
)
def u5(spec: SectionSpec, c: Context) -> Section:
    d, m, sc = c.cfg.diffusion, c.models["diffusion"], c.sample("diffusion")
    pairs = sampler_pairs(d.compare, "diffusion.compare")
    steps = sorted({t for t in COMPARE_STEPS if t < d.steps} | {d.steps})
    comp = analyses.sampler_sweep(m, sc, d.n_samples, 0, [(s, g, t) for t in steps for s, g in pairs], "compare")
    sched = analyses.sigma_schedules(m.sde, 50, sc.rho)
    commands = [
        command_line("diffusion sample", **c.ckpt_options("diffusion"), n=d.n_samples, steps=t, compare=d.compare)
        for t in steps
    ]
    return c.section(
        spec,
        [comp, sched],
        [
            (comp.figure, "samplers and time grids side by side"),
            (sched.FIGURE, "sigma per step: uniform (exercise) and Karras grids"),
        ],
        commands + [command_line("diffusion schedule", steps=50)],
        config=m.cfg,
    )


@section(
    "U6",
    "U6 · Determinism",
    "Does the same input noise give the same output every time? And with noise injected in each step?",
    "diffusion",
)
def u6(spec: SectionSpec, c: Context) -> Section:
    d, m, sc = c.cfg.diffusion, c.models["diffusion"], c.sample("diffusion")
    runs = [
        analyses.determinism(m, dataclasses.replace(sc, sampler=s), d.repeats, d.determinism_points, 0)
        for s in ("euler", "sde")
    ]
    files = [c.files(spec.id, [r], m.cfg, sub="" if r.sampler == "euler" else r.sampler) for r in runs]
    return Section(
        spec.id,
        spec.title,
        [
            Figure("deterministic sampler (euler): 4 points' trajectories in every run", files[0][Determinism.FIGURE]),
            Figure(
                "stochastic sampler (sde): the same 4 points, fresh noise in each step", files[1][Determinism.FIGURE]
            ),
        ],
        [t for r in runs for t in r.tables()],
        " ".join(r.finding() for r in runs),
        [
            command_line(
                "diffusion determinism",
                ckpt=c.paths["diffusion"],
                repeats=d.repeats,
                n=d.determinism_points,
                steps=d.steps,
                sampler=r.sampler,
            )
            for r in runs
        ],
        {r.sampler: r.to_dict() for r in runs},
        question=spec.question,
    )
