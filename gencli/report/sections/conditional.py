"""C1-C7: the class-conditional diffusion model's sections."""

from __future__ import annotations

from gencli.cli.invocation import command_line
from gencli.diffusion import analyses
from gencli.diffusion.results import Samples
from gencli.report.page import Figure, Section
from gencli.report.registry import Context, SectionSpec, section, with_exercise_start
from gencli.report.sections.network import c2_prose, network_table


@section("C1", "C1 · Training data by class", "What does the class-labelled training data look like?", "cond")
def c1(spec: SectionSpec, c: Context) -> Section:
    m = c.models["cond"]
    data = analyses.training_data(m)
    return c.section(
        spec,
        [data],
        [(data.FIGURE, "training data coloured by class")],
        [
            command_line(
                "diffusion train",
                **c.ckpt_options("cond"),
                epochs=m.cfg.train.epochs,
                set_=[f"model.hidden={m.cfg.model.hidden}"],
            )
        ],
    )


@section(
    "C2",
    "C2 · How the class enters the network",
    "How does the class enter the network, and which equations change?",
    "cond",
)
def c2(spec: SectionSpec, c: Context) -> Section:
    m = c.models["cond"]
    return Section(
        spec.id,
        spec.title,
        [],
        [network_table(m.model)],
        "",
        [],
        {},
        c2_prose(m.cfg, m.dataset),
        question=spec.question,
    )


@section("C3", "C3 · One point per class", "Sampling one point per class: does each end in its own region?", "cond")
def c3(spec: SectionSpec, c: Context) -> Section:
    m, sc = c.models["cond"], c.sample("cond")
    paths = analyses.reverse_paths(m, sc, 4, 0)
    commands = [command_line("diffusion trajectory", **c.ckpt_options("cond"), steps=c.cfg.diffusion.steps)]
    finding, numbers, tables = paths.finding(), paths.to_dict(), paths.tables()
    plain, command = with_exercise_start(sc, commands[0], lambda s: analyses.reverse_paths(m, s, 4, 0))
    if plain is not None:
        commands.append(command)
        numbers["standard_start"] = plain.to_dict()
        tables.append(plain.tables()[0])
        finding += f" With the exercise's N(0, I) start: {plain.finding()[0].lower()}{plain.finding()[1:]}"
    return c.section(
        spec,
        [paths],
        [(paths.FIGURE, "one point per class, its path coloured by its class")],
        commands,
        config=m.cfg,
        tables=tables,
        finding=finding,
        numbers=numbers,
    )


def _class_samples(c: Context):
    """C4 and C5's samples with their files (written once, under C4), the exercise's N(0, I) start beside (None when
    that is the start already), and the commands."""
    m, sc, n = c.models["cond"], c.sample("cond"), max(c.cfg.diffusion.n_samples, 1000)
    samples = analyses.sample_quality(m, sc, n, 0)
    command = command_line("diffusion sample", **c.ckpt_options("cond"), n=n, steps=c.cfg.diffusion.steps)
    plain, plain_command = with_exercise_start(sc, command, lambda s: analyses.sample_quality(m, s, n, 0))
    files = c.files("C4", [samples], m.cfg)
    return samples, plain, files, [command] + ([plain_command] if plain_command else [])


@section(
    "C4", "C4 · Samples by class", "Samples drawn for every class, coloured by the class they were drawn for.", "cond"
)
def c4(spec: SectionSpec, c: Context) -> Section:
    samples, plain, files, commands = c.shared("class_samples", lambda: _class_samples(c))
    tables, finding = samples.tables()[:1], samples.quality_finding()
    numbers = {
        k: v
        for k, v in samples.to_dict().items()
        if k in ("n", "inside_fraction", "tv_distance", "steps", "own_region_mean", "own_region_worst")
    }
    if plain is not None:
        tables.append(plain.tables()[0])
        numbers["standard_start"] = {
            "inside_fraction": plain.inside_fraction,
            "tv_distance": plain.tv_distance,
            "own_region_mean": plain.own_mean,
            "own_region_worst": plain.own_worst[1],
        }
        finding += (
            f" With the exercise's N(0, I) start: {plain.inside_fraction:.1%} inside and TV {plain.tv_distance:.3f}, "
            f"{'above' if plain.tv_distance > samples.tv_distance else 'at or below'} the matched start's "
            f"{samples.tv_distance:.3f}."
        )
    return Section(
        spec.id,
        spec.title,
        [Figure("samples coloured by the class they were drawn for", files[Samples.FIGURE])],
        tables,
        finding,
        commands,
        numbers,
        question=spec.question,
    )


@section(
    "C5",
    "C5 · Per-class numbers",
    "Per class: what fraction of the samples lands in its own region, and how does "
    "their spread compare with the data's?",
    "cond",
)
def c5(spec: SectionSpec, c: Context) -> Section:
    samples, plain, files, commands = c.shared("class_samples", lambda: _class_samples(c))
    finding = samples.class_finding()
    if plain is not None:
        finding += (
            f" With the N(0, I) start the mean own-{samples.view.region} fraction is {plain.own_mean:.3f}, "
            f"{'below' if plain.own_mean < samples.own_mean else 'at or above'} the matched start's "
            f"{samples.own_mean:.3f}."
        )
    return Section(
        spec.id,
        spec.title,
        [Figure("own-region fraction and spread per class", files[Samples.CLASS_FIGURE])],
        samples.tables()[1:],
        finding,
        commands[:1],
        {
            k: v
            for k, v in samples.to_dict().items()
            if k in ("own_region_fraction", "own_region_mean", "own_region_worst", "spread", "data_spread")
        },
        question=spec.question,
    )


@section(
    "C6",
    "C6 · Probability estimates",
    "What lower bound on log p does the model give to points inside and outside "
    "the data, and to one place under the matching class and a wrong one? And the exact value?",
    "cond",
)
def c6(spec: SectionSpec, c: Context) -> Section:
    d, m, sc = c.cfg.diffusion, c.models["cond"], c.sample("cond")
    prob = analyses.probability_table(m, sc, None, d.prob_samples, 0, c.models.get("diffusion"), exact=True)
    grid = analyses.exact_density_grid(m, sc, size=d.density_grid)
    return c.section(
        spec,
        [prob, grid],
        [
            (prob.FIGURE, "the bound at each point, numbered; values listed on the right"),
            (grid.FIGURE, "the model's exact log p(x | c) over a grid, beside the truth"),
        ],
        [command_line("diffusion prob", **c.ckpt_options("cond"), samples=d.prob_samples, steps=d.steps, exact=True)],
        config=m.cfg,
    )


@section(
    "C7",
    "C7 · Classifier-free guidance",
    "How much class fidelity does classifier-free guidance buy, and at what cost in diversity within each class?",
    "cond",
)
def c7(spec: SectionSpec, c: Context) -> Section | None:
    d, m = c.cfg.diffusion, c.models["cond"]
    if m.model.null_index is None:
        return None  # a model without the null class cannot guide itself
    n = max(d.n_samples, 1000)
    sweep = analyses.guidance_sweep(m, c.sample("cond"), n, 0, d.guidance_weights)
    return c.section(
        spec,
        [sweep],
        [
            (
                sweep.FIGURE,
                "samples per guidance weight W (columns), guidance in the default "
                "interval (top) and at every step (bottom)",
            )
        ],
        [
            command_line(
                "diffusion sample", **c.ckpt_options("cond"), n=n, steps=d.steps, guidance_sweep=d.guidance_weights
            )
        ],
        config=m.cfg,
    )
