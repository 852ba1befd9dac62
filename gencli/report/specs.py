"""The report as a table: one entry per question, walked in order by `build_report`.

Each `SectionSpec` names its section (id, title, the question it answers), the checkpoint it
reads, and the function that runs its analyses and lays out its figures, tables, finding,
numbers and the commands that reproduce it. Adding a question is one entry and one function.
Results two sections share (C4/C5, L3/L4) are computed once through `Context.shared`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gencli.core.atomic import write_text_atomic
from gencli.core.errors import GencliError
from gencli.core.outputs import write_outputs
from gencli.core.results import Result, Table
from gencli.diffusion import analyses as diffusion_analyses
from gencli.diffusion.config import BONUS_TARGET, sampler_pairs
from gencli.lm import analyses as lm_analyses
from gencli.lm.data.unseen import UNSEEN_TEXT
from gencli.lm.results import prompt_search_rate, slug
from gencli.report.config import ReportConfig
from gencli.report.page import Figure, Section
from gencli.report.sections import c2_prose, network_table

COMPARE_STEPS = (10, 20, 50)  # U5 compares the samplers at these T too (all converge at T = 1000)
PROMPT_TOKENS = 20  # L2's real-token prompts (at most half the block)
FORWARD_START = (1.5, -1.25)  # U1's point, outside the square


@dataclass
class Context:
    """What a section's function needs: the loaded models, the budgets, the checkpoint paths and the output folder."""

    cfg: ReportConfig
    out: Path
    paths: dict[str, Path]
    models: dict = field(default_factory=dict)
    memo: dict = field(default_factory=dict)

    def shared(self, key: str, compute: Callable[[], object]):
        """A result two sections use, computed once."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    def sample(self, key: str):
        """The sampler settings of model `key` at the report's number of steps."""
        return dataclasses.replace(self.models[key].cfg.sample, steps=self.cfg.diffusion.steps)

    def ck(self, key: str) -> str:
        return ("--conditional " if key == "cond" else "") + f"--ckpt {self.paths[key]}"

    def files(self, sid: str, results: list[Result], config=None, sub: str = "") -> dict[str, Path]:
        return write_outputs(results, self.out / "files" / sid.lower() / sub, config)

    def section(self, spec: SectionSpec, results: list[Result], figures: list[tuple[str, str]], commands: list[str],
                config=None, tables: list[Table] | None = None, finding: str | None = None,
                numbers: dict | None = None) -> Section:
        """A section from its results: figures picked by file key, all tables unless given, every number unless given."""
        files = self.files(spec.id, results, config)
        merged: dict = {}
        for r in results:
            merged.update(r.to_dict())
        text = finding if finding is not None else " ".join(r.finding() for r in results if r.finding())
        return Section(spec.id, spec.title, [Figure(caption, files[key]) for key, caption in figures],
                       tables if tables is not None else [t for r in results for t in r.tables()], text, commands,
                       numbers if numbers is not None else merged, question=spec.question)


@dataclass(frozen=True)
class SectionSpec:
    id: str
    title: str
    question: str
    model: str  # "diffusion", "cond" or "lm": the checkpoint it reads
    build: Callable[[SectionSpec, Context], Section]


# ---------------------------------------------------------------- the unconditional model


def u1(spec: SectionSpec, c: Context) -> Section:
    m, steps = c.models["diffusion"], min(c.cfg.diffusion.steps, 500)
    fwd = diffusion_analyses.forward_path(m.sde, FORWARD_START, steps, 0)
    x, y = FORWARD_START
    return c.section(spec, [fwd], [("trajectory_figure", "forward process of one point, coloured by t")],
                     [f"gencli diffusion trajectory --forward --point {x:g},{y:g} --steps {steps}"], config=m.cfg)


def u2(spec: SectionSpec, c: Context) -> Section:
    m = c.models["diffusion"]
    return c.section(spec, [diffusion_analyses.training_curve(m)], [("loss_figure", "training loss per epoch")],
                     [f"gencli diffusion train {c.ck('diffusion')} --epochs {m.cfg.train.epochs} "
                      f"--set model.hidden={m.cfg.model.hidden}"])


def u3(spec: SectionSpec, c: Context) -> Section:
    d, m, sc = c.cfg.diffusion, c.models["diffusion"], c.sample("diffusion")
    grid = diffusion_analyses.seeds_grid(m, sc, d.grid_points, 0)
    commands = [f"gencli diffusion sample {c.ck('diffusion')} --n {d.grid_points} --steps {d.steps} --seeds-grid"]
    finding, numbers, tables = grid.finding(), grid.to_dict(), grid.tables()
    if sc.start != "standard":  # the exercise's own start, beside
        plain = diffusion_analyses.seeds_grid(m, dataclasses.replace(sc, start="standard"), d.grid_points, 0)
        commands.append(commands[0] + " --start standard")
        numbers["standard_start"] = plain.to_dict()
        tables.append(plain.tables()[0])
        mean = sum(p.tv_distance for p in grid.panels) / len(grid.panels)
        plain_mean = sum(p.tv_distance for p in plain.panels) / len(plain.panels)
        finding += (f" With the exercise's N(0, I) start the mean TV over the seeds is {plain_mean:.3f}, "
                    f"{'above' if plain_mean > mean else 'at or below'} the matched start's {mean:.3f}.")
    return c.section(spec, [grid], [("seeds_grid_figure", "9 samplings with 9 seeds")], commands, config=m.cfg,
                     tables=tables, finding=finding, numbers=numbers)


def u4(spec: SectionSpec, c: Context) -> Section:
    d, m, sc = c.cfg.diffusion, c.models["diffusion"], c.sample("diffusion")
    variants = [(sc.sampler, sc.schedule, t) for t in d.steps_sweep]
    sweep = diffusion_analyses.sampler_sweep(m, sc, d.n_samples, 0, variants, "steps_sweep")
    results, finding = [sweep], sweep.finding()
    commands = [f"gencli diffusion sample {c.ck('diffusion')} --n {d.n_samples} --steps {d.steps} --steps-sweep "
                f"{','.join(map(str, d.steps_sweep))}"]
    numbers = sweep.to_dict()
    if sc.start != "standard":  # the exercise's own start, beside
        plain = diffusion_analyses.sampler_sweep(m, dataclasses.replace(sc, start="standard"), d.n_samples, 0, variants,
                                                 "steps_sweep_standard")
        results.append(plain)
        commands.append(commands[0] + " --start standard")
        numbers["standard_start"] = {"steps_sweep": plain.to_dict()["steps_sweep_standard"]}  # as that command prints it
        a, s = sweep.rows[-1], plain.rows[-1]
        finding += (f" With the exercise's N(0, I) start the TV at T={a.steps} is {s.tv_distance:.3f}, "
                    f"{'above' if s.tv_distance > a.tv_distance else 'at or below'} the matched start's {a.tv_distance:.3f}.")
    return c.section(spec, results, [("steps_sweep_figure", "the same noise with different numbers of steps T")], commands,
                     config=m.cfg, finding=finding, numbers=numbers)


def u5(spec: SectionSpec, c: Context) -> Section:
    d, m, sc = c.cfg.diffusion, c.models["diffusion"], c.sample("diffusion")
    pairs = sampler_pairs(d.compare, "diffusion.compare")
    steps = sorted({t for t in COMPARE_STEPS if t < d.steps} | {d.steps})
    comp = diffusion_analyses.sampler_sweep(m, sc, d.n_samples, 0, [(s, g, t) for t in steps for s, g in pairs], "compare")
    sched = diffusion_analyses.sigma_schedules(m.sde, 50, sc.rho)
    return c.section(spec, [comp, sched], [("compare_figure", "samplers and time grids side by side"),
                                           ("schedule_figure", "sigma per step: uniform (exercise) and Karras grids")],
                     [f"gencli diffusion sample {c.ck('diffusion')} --n {d.n_samples} --steps {t} --compare "
                      f"{','.join(d.compare)}" for t in steps] + ["gencli diffusion schedule --steps 50"], config=m.cfg)


def u6(spec: SectionSpec, c: Context) -> Section:
    d, m, sc = c.cfg.diffusion, c.models["diffusion"], c.sample("diffusion")
    runs = [diffusion_analyses.determinism(m, dataclasses.replace(sc, sampler=s), d.repeats, d.determinism_points, 0)
            for s in ("euler", "sde")]
    files = [c.files(spec.id, [r], m.cfg, sub="" if r.sampler == "euler" else r.sampler) for r in runs]
    return Section(spec.id, spec.title,
                   [Figure("deterministic sampler (euler): 4 points' trajectories in every run", files[0]["determinism_figure"]),
                    Figure("stochastic sampler (sde): the same 4 points, fresh noise in each step", files[1]["determinism_figure"])],
                   [t for r in runs for t in r.tables()], " ".join(r.finding() for r in runs),
                   [f"gencli diffusion determinism {c.ck('diffusion')} --repeats {d.repeats} --n {d.determinism_points} "
                    f"--steps {d.steps} --sampler {r.sampler}" for r in runs], {r.sampler: r.to_dict() for r in runs},
                   question=spec.question)


def bonus(spec: SectionSpec, c: Context) -> Section:
    d, m = c.cfg.diffusion, c.models["diffusion"]
    tx, ty = BONUS_TARGET
    steer = diffusion_analyses.steer_to_target(m, BONUS_TARGET, None, "sde", d.invert_steps, d.invert_iterations)
    return c.section(spec, [steer], [("invert_figure", f"the steered trajectory to ({tx:g}, {ty:g})"),
                                     ("invert_loss_figure", "distance to the target per Adam step")],
                     [f"gencli diffusion invert {c.ck('diffusion')} --target {tx:g},{ty:g} --iterations "
                      f"{d.invert_iterations} --steps {d.invert_steps}"], config=m.cfg)


# ---------------------------------------------------------------- the conditional model


def c1(spec: SectionSpec, c: Context) -> Section:
    m = c.models["cond"]
    return c.section(spec, [diffusion_analyses.training_data(m.cfg)], [("data_figure", "training data coloured by class")],
                     [f"gencli diffusion train {c.ck('cond')} --epochs {m.cfg.train.epochs} "
                      f"--set model.hidden={m.cfg.model.hidden}"])


def c2(spec: SectionSpec, c: Context) -> Section:
    m = c.models["cond"]
    return Section(spec.id, spec.title, [], [network_table(m.model)], "", [], {}, c2_prose(m.cfg), question=spec.question)


def c3(spec: SectionSpec, c: Context) -> Section:
    m, sc = c.models["cond"], c.sample("cond")
    paths = diffusion_analyses.reverse_paths(m, sc, 4, 0)
    commands = [f"gencli diffusion trajectory {c.ck('cond')} --steps {c.cfg.diffusion.steps}"]
    finding, numbers, tables = paths.finding(), paths.to_dict(), paths.tables()
    if sc.start != "standard":  # the exercise's own start, beside
        plain = diffusion_analyses.reverse_paths(m, dataclasses.replace(sc, start="standard"), 4, 0)
        commands.append(commands[0] + " --start standard")
        numbers["standard_start"] = plain.to_dict()
        tables.append(plain.tables()[0])
        finding += f" With the exercise's N(0, I) start: {plain.finding()[0].lower()}{plain.finding()[1:]}"
    return c.section(spec, [paths], [("trajectory_figure", "one point per class, its path coloured by its class")],
                     commands, config=m.cfg, tables=tables, finding=finding, numbers=numbers)


def _class_samples(c: Context):
    """C4 and C5's samples with their files (written once, under C4), the exercise's N(0, I) start beside (None when
    that is the start already), and the command."""
    m, sc, n = c.models["cond"], c.sample("cond"), max(c.cfg.diffusion.n_samples, 1000)
    samples = diffusion_analyses.sample_quality(m, sc, n, 0)
    plain = (diffusion_analyses.sample_quality(m, dataclasses.replace(sc, start="standard"), n, 0)
             if sc.start != "standard" else None)
    files = c.files("C4", [samples], m.cfg)
    return samples, plain, files, [f"gencli diffusion sample {c.ck('cond')} --n {n} --steps {c.cfg.diffusion.steps}"]


def c4(spec: SectionSpec, c: Context) -> Section:
    samples, plain, files, commands = c.shared("class_samples", lambda: _class_samples(c))
    tables, finding = samples.tables()[:1], samples.quality_finding()
    numbers = {k: v for k, v in samples.to_dict().items()
               if k in ("n", "inside_fraction", "tv_distance", "steps", "own_region_mean", "own_region_worst")}
    if plain is not None:
        tables.append(plain.tables()[0])
        commands = [*commands, commands[0] + " --start standard"]
        numbers["standard_start"] = {"inside_fraction": plain.inside_fraction, "tv_distance": plain.tv_distance,
                                     "own_region_mean": plain.own_mean, "own_region_worst": plain.own_worst[1]}
        finding += (f" With the exercise's N(0, I) start: {plain.inside_fraction:.1%} inside and TV {plain.tv_distance:.3f}, "
                    f"{'above' if plain.tv_distance > samples.tv_distance else 'at or below'} the matched start's "
                    f"{samples.tv_distance:.3f}.")
    return Section(spec.id, spec.title, [Figure("samples coloured by the class they were drawn for", files["samples_figure"])],
                   tables, finding, commands, numbers, question=spec.question)


def c5(spec: SectionSpec, c: Context) -> Section:
    samples, plain, files, commands = c.shared("class_samples", lambda: _class_samples(c))
    finding = samples.class_finding()
    if plain is not None:
        finding += (f" With the N(0, I) start the mean own-cell fraction is {plain.own_mean:.3f}, "
                    f"{'below' if plain.own_mean < samples.own_mean else 'at or above'} the matched start's "
                    f"{samples.own_mean:.3f}.")
    return Section(spec.id, spec.title, [Figure("own-cell fraction and spread per class", files["class_numbers_figure"])],
                   samples.tables()[1:], finding, commands,
                   {k: v for k, v in samples.to_dict().items()
                    if k in ("own_region_fraction", "own_region_mean", "own_region_worst", "spread", "data_spread")},
                   question=spec.question)


def c6(spec: SectionSpec, c: Context) -> Section:
    d, m, sc = c.cfg.diffusion, c.models["cond"], c.sample("cond")
    prob = diffusion_analyses.probability_table(m, sc, None, d.prob_samples, 0, c.models.get("diffusion"), exact=True)
    grid = diffusion_analyses.exact_density_grid(m, sc, size=d.density_grid)
    return c.section(spec, [prob, grid], [("prob_figure", "the bound at each point, numbered; values listed on the right"),
                                          ("density_figure", "the model's exact log p(x | c) over a grid, beside the truth")],
                     [f"gencli diffusion prob {c.ck('cond')} --samples {d.prob_samples} --steps {d.steps} --exact"],
                     config=m.cfg)


def c7(spec: SectionSpec, c: Context) -> Section | None:
    d, m = c.cfg.diffusion, c.models["cond"]
    if m.model.null_index is None:
        return None  # a model without the null class cannot guide itself
    n = max(d.n_samples, 1000)
    sweep = diffusion_analyses.guidance_sweep(m, c.sample("cond"), n, 0, d.guidance_weights)
    weights = ",".join(f"{w:g}" for w in d.guidance_weights)
    return c.section(spec, [sweep], [("guidance_sweep_figure", "samples per guidance weight W (columns), guidance in the "
                                      "default interval (top) and at every step (bottom)")],
                     [f"gencli diffusion sample {c.ck('cond')} --n {n} --steps {d.steps} --guidance-sweep {weights}"],
                     config=m.cfg)


# ---------------------------------------------------------------- the language model


def l1(spec: SectionSpec, c: Context) -> Section:
    m = c.models["lm"]
    cfg = m.cfg
    return c.section(spec, [lm_analyses.training_summary(m)],
                     [("loss_figure", "train and validation loss; the star marks the best validation")],
                     [f"gencli lm train --corpus {cfg.data.corpus} {c.ck('lm')} --set model.preset={cfg.model.preset} "
                      f"--set tokenizer.vocab_size={cfg.tokenizer.vocab_size} --set train.eval_every={cfg.train.eval_every} "
                      f"--max-iters {cfg.train.max_iters}"
                      + (f" --set train.precision={cfg.train.precision}" if cfg.train.precision != "auto" else "")])


def l2(spec: SectionSpec, c: Context) -> Section:
    lb, m = c.cfg.lm, c.models["lm"]
    cfg, ck = m.cfg, c.ck("lm")
    target = lm_analyses.fitting_words(m, lm_analyses.EXERCISE_SENTENCE)
    cut = "" if target == lm_analyses.EXERCISE_SENTENCE else (
        f"The exercise sentence is longer than this model's block of {cfg.model.block_size} tokens; "
        f"its first {len(target.split())} words are the target. ")
    inv = lm_analyses.invert_sentence(m, target, lb.invert_steps)
    prompt_len = min(PROMPT_TOKENS, cfg.model.block_size // 2)
    training_text = lm_analyses.training_text_if_readable(m)  # None: the searches cannot say what the text holds
    searches = [lm_analyses.real_token_prompt(m, t, prompt_len, lb.prompt_steps, forbid_target_words=True,
                                              training_text=training_text)
                for t in (lm_analyses.fitting_words(m, t, room=prompt_len) for t in [target, *lb.prompt_targets]) if t]
    rate = (f" With real tokens instead (a GCG search of {lb.prompt_steps} steps per sentence, no word of the target in "
            f"the prompt), {prompt_search_rate(searches)} " + " ".join(r.finding() for r in searches))
    table = Table("real-token prompts (GCG; no word of the target in the prompt)",
                  [("target", ""), ("prompt found", ""), ("greedy continuation", ""), ("success", ""), ("steps", "d"),
                   ("seconds", ".1f")],
                  [(r.target, r.prompt, r.continuation, r.success, r.steps, r.seconds) for r in searches])
    files = c.files(spec.id, [inv, *searches[:1]], cfg)
    figures = [Figure("the inversion loss per Adam step", files["invert_loss_figure"])]
    if searches:
        figures.append(Figure("the real-token search for the exercise sentence: best margin loss per step",
                              files["prompt_search_figure"]))
    return Section(spec.id, spec.title, figures, inv.tables() + [table], cut + inv.finding() + rate,
                   [f"gencli lm invert {ck} --target \"{target}\" --steps {lb.invert_steps}"]
                   + [f"gencli lm invert {ck} --tokens --forbid-target-words --target \"{r.target}\" --steps "
                      f"{lb.prompt_steps} --prompt-len {prompt_len}" for r in searches],
                   {**inv.to_dict(), "real_token_prompts": [r.to_dict() for r in searches]}, question=spec.question)


def _attention(c: Context):
    """L3 and L4's attention maps with their files (written once, under L3) and the command."""
    m = c.models["lm"]
    prompt = lm_analyses.fitting_words(m, lm_analyses.ATTENTION_PROMPT)
    att = lm_analyses.attention_maps(m, prompt)
    return att, c.files("L3", [att], m.cfg), [f"gencli lm attention {c.ck('lm')} --prompt \"{prompt}\""]


def _attention_table(att, names: list[str]) -> Table:
    t = att.tables()[0]
    keep = [0, 1] + [2 + list(att.matrices).index(n) for n in names]
    return Table(t.title, [t.columns[i] for i in keep], [tuple(row[i] for i in keep) for row in t.rows])


def l3(spec: SectionSpec, c: Context) -> Section:
    att, files, commands = c.shared("attention", lambda: _attention(c))
    return Section(spec.id, spec.title,
                   [Figure("last block: heatmap (the red line is the query) and the tokens painted by their attention",
                           files["attention_last_figure"])],
                   [_attention_table(att, ["last"])], att.finding(["last"]), commands,
                   {**att.to_dict(), "blocks": {"last": att.to_dict()["blocks"]["last"]}}, question=spec.question)


def l4(spec: SectionSpec, c: Context) -> Section:
    att, files, commands = c.shared("attention", lambda: _attention(c))
    return Section(spec.id, spec.title, [Figure("first and last block side by side, on one colour scale",
                                                files["attention_figure"])],
                   att.tables(), att.finding(), commands, att.to_dict(), question=spec.question)


def l5(spec: SectionSpec, c: Context) -> Section:
    lb, m = c.cfg.lm, c.models["lm"]
    lp = lm_analyses.sequence_logprob(m, sample=True, max_new_tokens=lb.prob_tokens)
    return c.section(spec, [lp], [("prob_figure", "log-probability of each token given the ones before it")],
                     [f"gencli lm prob {c.ck('lm')} --sample --max-new-tokens {lb.prob_tokens}"], config=m.cfg)


def l6(spec: SectionSpec, c: Context) -> Section:
    m, ck = c.models["lm"], c.ck("lm")
    try:
        train, held_out = lm_analyses.held_out_text(m)
        texts, given = {"held-out chapters": held_out, "unseen story": UNSEEN_TEXT}, "given the training text first"
        missing = ""
    except GencliError as e:  # the corpus the checkpoint was trained on is gone: the unseen story alone
        train, texts, given = "", {"unseen story": UNSEEN_TEXT}, "given nothing first"
        missing = f"The training corpus could not be read ({e}), so the held-out chapters are left out. "
    folder = c.out / "files" / spec.id.lower()
    paths = {name: write_text_atomic(folder / f"{slug(name)}.txt", text) for name, text in texts.items()}  # the archives: beside
    result = lm_analyses.compression_comparison(m, texts, train, f"the classic compressors are {given}")
    first, unseen = next(iter(paths.values())), paths["unseen story"]
    commands = [f"gencli lm compress {first} {ck} --no-adapt -o {first}.static.gcz --force",
                f"gencli lm compress {first} {ck} --force",
                f"gencli lm decompress {first}.gcz {ck} -o {folder / 'decoded.txt'} --force"]
    commands += [f"gencli lm compress {unseen} {ck} --force"] if unseen != first else []
    return c.section(spec, [result], [("compression_figure", "bits per byte of each coder's file, on "
                                       + " and on ".join(f"the {t}" for t in texts) + " (a story no model here was "
                                       "trained on)")], commands, config=m.cfg, finding=missing + result.finding())


_T = f"({BONUS_TARGET[0]:g}, {BONUS_TARGET[1]:g})"

SPECS: list[SectionSpec] = [
    SectionSpec("U1", "U1 · The forward process of one point", "How does one point, starting outside the square, move "
                "under x_t = x_0 + sigma(t) eps, sigma(t) = exp(5 (t - 1))?", "diffusion", u1),
    SectionSpec("U2", "U2 · Training loss", "Does the denoiser's eps-prediction loss go down over training?", "diffusion", u2),
    SectionSpec("U3", "U3 · Nine seeds", "What do nine samplings of the same model with nine different seeds look like?",
                "diffusion", u3),
    SectionSpec("U4", "U4 · Number of sampling steps", "How does sample quality depend on the number of reverse steps T?",
                "diffusion", u4),
    SectionSpec("U5", "U5 · Samplers and sigma schedules", "How do other samplers and time grids compare with the "
                "exercise's Euler steps on a uniform grid, and where does each grid place its sigmas?", "diffusion", u5),
    SectionSpec("U6", "U6 · Determinism", "Does the same input noise give the same output every time? And with noise "
                "injected in each step?", "diffusion", u6),
    SectionSpec("C1", "C1 · Training data by class", "What does the class-labelled training data look like?", "cond", c1),
    SectionSpec("C2", "C2 · How the class enters the network", "How does the class enter the network, and which equations "
                "change?", "cond", c2),
    SectionSpec("C3", "C3 · One point per class", "Sampling one point per class: does each end in its own region?",
                "cond", c3),
    SectionSpec("C4", "C4 · Samples by class", "Samples drawn for every class, coloured by the class they were drawn for.",
                "cond", c4),
    SectionSpec("C5", "C5 · Per-class numbers", "Per class: what fraction of the samples lands in its own region, and how "
                "does their spread compare with the data's?", "cond", c5),
    SectionSpec("C6", "C6 · Probability estimates", "What lower bound on log p does the model give to points inside and "
                "outside the square, and to one place under the matching class and a wrong one? And the exact value?",
                "cond", c6),
    SectionSpec("C7", "C7 · Classifier-free guidance", "How much class fidelity does classifier-free guidance buy, and at "
                "what cost in diversity within each class?", "cond", c7),
    SectionSpec("bonus", f"Bonus · Steering the sampler to {_T}", f"Can the frozen model be made to output the point {_T}, "
                "far outside the square, by optimising what goes into the sampler?", "diffusion", bonus),
    SectionSpec("L1", "L1 · Language-model training", "How do the train and validation losses evolve, and where is "
                "validation best?", "lm", l1),
    SectionSpec("L2", "L2 · Inversion: input vectors for a target sentence", "Which input vectors, fed in place of the "
                "token embeddings, make the model's greedy prediction at every position spell \"I am a little squirrel "
                "holding a walnut\"? And which prompt of real tokens would?", "lm", l2),
    SectionSpec("L3", "L3 · Attention of the last block", "When the model writes the 12th word of a sentence it continues, "
                "where does the last block attend?", "lm", l3),
    SectionSpec("L4", "L4 · First block beside the last", "The same for the first block, beside the last.", "lm", l4),
    SectionSpec("L5", "L5 · Log-probability of a sampled sentence", "What is the log-probability of a sampled sentence, as "
                "the sum of per-token log-probabilities?", "lm", l5),
    SectionSpec("L6", "L6 · Likelihood is compression", "How many bytes does the model need to store text it was not "
                "trained on, coding each token with its predicted probability, with and without adapting to the text as it "
                "goes, beside classic compressors? And does the file decode to the same bytes?", "lm", l6),
]

DEPARTURES_TITLE = "Where this differs from the exercise"
DEPARTURES_QUESTION = ("Which settings of this report are not the exercise's own, why, and where can the exercise's "
                       "setting be seen?")
