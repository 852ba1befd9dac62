"""Run the whole course exercise: train what is missing, run every analysis, collect the sections of the report.

`build_report` trains the checkpoints that are missing (or all, with `retrain`), runs
each analysis of the diffusion and language-model libraries, writes every figure and
data file under `out/files/SECTION/`, and returns the sections (figures, tables, the
sentence that states what the numbers show, and the command that reproduces them).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from gencli.checkpoint import META, library_versions
from gencli.config import to_dict
from gencli.diffusion import analyses as diffusion_analyses
from gencli.diffusion import fit as diffusion_fit
from gencli.diffusion.config import BONUS_TARGET, sampler_pairs
from gencli.diffusion.store import TrainedDiffusion
from gencli.diffusion.store import load_trained as load_diffusion
from gencli.lm import analyses as lm_analyses
from gencli.lm import fit as lm_fit
from gencli.lm.store import TrainedLM
from gencli.lm.store import load_trained as load_lm
from gencli.outputs import write_figures, write_outputs
from gencli.report.config import ReportConfig
from gencli.report.departures import departures, departures_finding, departures_table
from gencli.report.sections import (
    SECTION_TITLES,
    c2_prose,
    network_table,
)
from gencli.results import Result, Table

# A stage of work: `stage(name, total)` returns `advance(done, info=None)`.
COMPARE_STEPS = (10, 20, 50)
PROMPT_TOKENS = 20  # L2's real-token prompts (at most half the block)  # U5 compares the samplers at these T too (all converge at T = 1000)
Stage = Callable[[str, int], Callable[..., None]]


@dataclass
class Figure:
    caption: str
    path: Path


@dataclass
class Section:
    """One question of the course: its figures, tables, what they show and how to reproduce them."""

    id: str
    title: str
    figures: list[Figure]
    tables: list[Table]
    finding: str
    commands: list[str]
    numbers: dict
    prose: str = ""


@dataclass
class Report:
    sections: list[Section]
    settings: dict
    versions: dict
    timings: dict
    quick: bool
    trained: list[str] = field(default_factory=list)


def _quiet(name: str, total: int) -> Callable[..., None]:
    return lambda *a, **k: None


class _Builder:
    """Holds the paths, budgets and loaded models while the report is assembled."""

    def __init__(self, out: Path, cfg: ReportConfig, quick: bool, retrain: bool, device: torch.device, stage: Stage):
        self.out, self.cfg, self.quick, self.retrain, self.device, self.stage = out, cfg, quick, retrain, device, stage
        root = out / "checkpoints" if quick else Path("checkpoints")
        self.paths = {"diffusion": root / "diffusion", "cond": root / "diffusion-cond", "lm": root / "lm"}
        self.trained: list[str] = []
        self.timings: dict[str, float] = {}

    # ------------------------------------------------------------ training

    def _todo(self, key: str) -> str:
        """"train" (missing, or --retrain), "resume" (a run that was interrupted) or "ready"."""
        meta = self.paths[key] / META
        if self.retrain or not meta.is_file():
            return "train"
        try:
            return "resume" if json.loads(meta.read_text()).get("interrupted") else "ready"
        except ValueError:
            return "train"

    def ensure_diffusion(self, key: str) -> TrainedDiffusion:
        path, d = self.paths[key], self.cfg.diffusion
        todo = self._todo(key)
        if todo != "ready":
            t0 = time.perf_counter()
            cond = key == "cond"
            epochs = d.cond_epochs if cond else d.epochs
            explicit = {"train.epochs": epochs} if todo == "resume" else {"train.epochs": epochs, "model.conditional": cond or None}
            trainer = diffusion_fit.prepare(path, todo == "resume", explicit=explicit, device=self.device)
            advance = self.stage(f"train {'conditional' if cond else 'unconditional'} diffusion model", epochs)
            diffusion_fit.fit(trainer, path, lambda e, loss: advance(e, f"loss {loss:.4f}") if e % 25 == 0 else None,
                              write_figures)
            advance(epochs)
            self.trained.append(str(path))
            self.timings[f"train {key}"] = time.perf_counter() - t0
        return load_diffusion(path, self.device)

    def ensure_lm(self) -> TrainedLM:
        path, b = self.paths["lm"], self.cfg.lm
        todo = self._todo("lm")
        if todo != "ready":
            t0 = time.perf_counter()
            explicit = {"train.max_iters": b.max_iters} if todo == "resume" else {
                "data.corpus": b.corpus, "model.preset": b.preset, "tokenizer.vocab_size": b.vocab_size,
                "train.max_iters": b.max_iters, "train.eval_every": b.eval_every, "train.precision": b.precision}
            run = lm_fit.prepare(path, todo == "resume", explicit=explicit, device=self.device)
            advance = self.stage("train language model", b.max_iters)
            lm_fit.fit(run, lambda s, loss, val: advance(s, f"loss {loss:.3f}") if s % 10 == 0 else None, write_figures)
            advance(b.max_iters)
            self.trained.append(str(path))
            self.timings["train lm"] = time.perf_counter() - t0
        return load_lm(self.paths["lm"], device=self.device)

    # ------------------------------------------------------------ sections

    def files(self, sid: str, results: list[Result], config=None) -> dict[str, Path]:
        return write_outputs(results, self.out / "files" / sid.lower(), config)

    def section(self, sid: str, results: list[Result], figures: list[tuple[str, str]], commands: list[str],
                tables: list[Table] | None = None, config=None, prose: str = "", finding: str | None = None) -> Section:
        """A section from its results: figures picked by file key, all tables unless given, every number."""
        files = self.files(sid, results, config)
        numbers: dict = {}
        for r in results:
            numbers.update(r.to_dict())
        figs = [Figure(caption, files[key]) for key, caption in figures]
        text = finding if finding is not None else " ".join(r.finding() for r in results if r.finding())
        return Section(sid, SECTION_TITLES[sid], figs, tables if tables is not None else [t for r in results for t in r.tables()],
                       text, commands, numbers, prose)


def _sample_settings(trained: TrainedDiffusion, steps: int):
    return dataclasses.replace(trained.cfg.sample, steps=steps)


def diffusion_sections(b: _Builder, model: TrainedDiffusion) -> list[Section]:
    """U1-U6 and the bonus, from the unconditional model."""
    d, p = b.cfg.diffusion, b.paths["diffusion"]
    sc = _sample_settings(model, d.steps)
    ck = f"--ckpt {p}"
    advance = b.stage("diffusion analyses (U1-U6, bonus)", 7)
    out = []
    fwd = diffusion_analyses.forward_path(model.sde, (1.5, -1.25), min(d.steps, 500), 0)
    out.append(b.section("U1", [fwd], [("trajectory_figure", "forward process of one point, coloured by t")],
                         [f"gencli diffusion trajectory --forward --point 1.5,-1.25 --steps {min(d.steps, 500)}"], config=model.cfg))
    advance(1)
    curve = diffusion_analyses.training_curve(model)
    out.append(b.section("U2", [curve], [("loss_figure", "training loss per epoch")],
                         [f"gencli diffusion train {ck} --epochs {model.cfg.train.epochs} --set model.hidden={model.cfg.model.hidden}"]))
    advance(2)
    grid = diffusion_analyses.seeds_grid(model, sc, d.grid_points, 0)
    out.append(b.section("U3", [grid], [("seeds_grid_figure", "9 samplings with 9 seeds")],
                         [f"gencli diffusion sample {ck} --n {d.grid_points} --steps {d.steps} --seeds-grid"], config=model.cfg))
    advance(3)
    variants = [(sc.sampler, sc.schedule, t) for t in d.steps_sweep]
    sweep = diffusion_analyses.sampler_sweep(model, sc, d.n_samples, 0, variants, "steps_sweep")
    results, finding = [sweep], sweep.finding()
    u4 = [f"gencli diffusion sample {ck} --n {d.n_samples} --steps {d.steps} --steps-sweep {','.join(map(str, d.steps_sweep))}"]
    if sc.start != "standard":  # the exercise's own start, beside
        plain = diffusion_analyses.sampler_sweep(model, dataclasses.replace(sc, start="standard"), d.n_samples, 0, variants,
                                                 "steps_sweep_standard")
        results.append(plain)
        u4.append(u4[0] + " --start standard")
        a, s_ = sweep.rows[-1], plain.rows[-1]
        finding += (f" With the exercise's N(0, I) start the TV at T={a.steps} is {s_.tv_distance:.3f}, "
                    f"{'above' if s_.tv_distance > a.tv_distance else 'at or below'} the matched start's {a.tv_distance:.3f}.")
    u4_section = b.section("U4", results, [("steps_sweep_figure", "the same noise with different numbers of steps T")],
                           u4, config=model.cfg, finding=finding)
    if "steps_sweep_standard" in u4_section.numbers:  # as `--start standard` prints it
        u4_section.numbers["standard_start"] = {"steps_sweep": u4_section.numbers.pop("steps_sweep_standard")}
    out.append(u4_section)
    advance(4)
    pairs = sampler_pairs(d.compare, "diffusion.compare")
    compare_steps = sorted({t for t in COMPARE_STEPS if t < d.steps} | {d.steps})
    comp = diffusion_analyses.sampler_sweep(model, sc, d.n_samples, 0, [(s_, g, t) for t in compare_steps for s_, g in pairs],
                                            "compare")
    sched = diffusion_analyses.sigma_schedules(model.sde, 50, sc.rho)
    out.append(b.section("U5", [comp, sched], [("compare_figure", "samplers and time grids side by side"),
                                               ("schedule_figure", "sigma per step: uniform (exercise) and Karras grids")],
                         [f"gencli diffusion sample {ck} --n {d.n_samples} --steps {t} --compare {','.join(d.compare)}"
                          for t in compare_steps] + ["gencli diffusion schedule --steps 50"], config=model.cfg))
    advance(5)
    runs = [diffusion_analyses.determinism(model, dataclasses.replace(sc, sampler=s), d.repeats, d.determinism_points, 0)
            for s in ("euler", "sde")]
    files = b.files("U6", runs[:1], model.cfg)
    files_sde = write_outputs(runs[1:], b.out / "files" / "u6" / "sde")
    numbers = {r.sampler: r.to_dict() for r in runs}
    out.append(Section("U6", SECTION_TITLES["U6"],
                       [Figure("deterministic sampler (euler): 4 points' trajectories in every run", files["determinism_figure"]),
                        Figure("stochastic sampler (sde): the same 4 points, fresh noise in each step", files_sde["determinism_figure"])],
                       [t for r in runs for t in r.tables()], " ".join(r.finding() for r in runs),
                       [f"gencli diffusion determinism {ck} --repeats {d.repeats} --n {d.determinism_points} --steps {d.steps} "
                        f"--sampler {s}" for s in ("euler", "sde")], numbers))
    advance(6)
    tx, ty = BONUS_TARGET
    steer = diffusion_analyses.steer_to_target(model, BONUS_TARGET, None, "sde", d.invert_steps, d.invert_iterations)
    out.append(b.section("bonus", [steer], [("invert_figure", f"the steered trajectory to ({tx:g}, {ty:g})"),
                                            ("invert_loss_figure", "distance to the target per Adam step")],
                         [f"gencli diffusion invert {ck} --target {tx:g},{ty:g} --iterations {d.invert_iterations} "
                          f"--steps {d.invert_steps}"],
                         config=model.cfg))
    advance(7)
    return out


def conditional_sections(b: _Builder, model: TrainedDiffusion, unconditional: TrainedDiffusion | None = None) -> list[Section]:
    """C1-C7 from the conditional model (C6 also scores its places under the `unconditional` one)."""
    d, p = b.cfg.diffusion, b.paths["cond"]
    sc = _sample_settings(model, d.steps)
    ck = f"--conditional --ckpt {p}"
    advance = b.stage("conditional analyses (C1-C7)", 6)
    out = []
    data = diffusion_analyses.training_data(model.cfg)
    out.append(b.section("C1", [data], [("data_figure", "training data coloured by class")],
                         [f"gencli diffusion train {ck} --epochs {model.cfg.train.epochs} --set model.hidden={model.cfg.model.hidden}"]))
    advance(1)
    out.append(Section("C2", SECTION_TITLES["C2"], [], [network_table(model.model)], "", [], {}, c2_prose(model.cfg)))
    advance(2)
    paths = diffusion_analyses.reverse_paths(model, sc, 4, 0)
    out.append(b.section("C3", [paths], [("trajectory_figure", "one point per class, its path coloured by its class")],
                         [f"gencli diffusion trajectory {ck} --steps {d.steps}"], config=model.cfg))
    advance(3)
    n = max(d.n_samples, 1000)
    samples = diffusion_analyses.sample_quality(model, sc, n, 0)
    tables = samples.tables()
    files = b.files("C4", [samples], model.cfg)
    cmd = [f"gencli diffusion sample {ck} --n {n} --steps {d.steps}"]
    c4_tables, c4_finding, c5_finding = tables[:1], samples.quality_finding(), samples.class_finding()
    c4_numbers = {k: v for k, v in samples.to_dict().items()
                  if k in ("n", "inside_fraction", "tv_distance", "steps", "own_region_mean", "own_region_worst")}
    if sc.start != "standard":  # the exercise's own N(0, I) start, beside
        plain = diffusion_analyses.sample_quality(model, dataclasses.replace(sc, start="standard"), n, 0)
        c4_tables.append(plain.tables()[0])
        cmd.append(cmd[0] + " --start standard")
        c4_numbers["standard_start"] = {"inside_fraction": plain.inside_fraction, "tv_distance": plain.tv_distance,
                                        "own_region_mean": plain.own_mean, "own_region_worst": plain.own_worst[1]}
        c4_finding += (f" With the exercise's N(0, I) start: {plain.inside_fraction:.1%} inside and TV "
                       f"{plain.tv_distance:.3f}, {'above' if plain.tv_distance > samples.tv_distance else 'at or below'} "
                       f"the matched start's {samples.tv_distance:.3f}.")
        c5_finding += (f" With the N(0, I) start the mean own-cell fraction is {plain.own_mean:.3f}, "
                       f"{'below' if plain.own_mean < samples.own_mean else 'at or above'} the matched start's "
                       f"{samples.own_mean:.3f}.")
    out.append(Section("C4", SECTION_TITLES["C4"], [Figure("samples coloured by the class they were drawn for", files["samples_figure"])],
                       c4_tables, c4_finding, cmd, c4_numbers))
    out.append(Section("C5", SECTION_TITLES["C5"],
                       [Figure("own-cell fraction and spread per class", files["class_numbers_figure"])],
                       tables[1:], c5_finding, cmd[:1],
                       {k: v for k, v in samples.to_dict().items()
                        if k in ("own_region_fraction", "own_region_mean", "own_region_worst", "spread", "data_spread")}))
    advance(4)
    prob = diffusion_analyses.probability_table(model, sc, None, d.prob_samples, 0, unconditional, exact=True)
    grid = diffusion_analyses.exact_density_grid(model, sc, size=d.density_grid)
    out.append(b.section("C6", [prob, grid], [("prob_figure", "the bound at each point, numbered; values listed on the right"),
                                              ("density_figure", "the model's exact log p(x | c) over a grid, beside the truth")],
                         [f"gencli diffusion prob {ck} --samples {d.prob_samples} --steps {d.steps} --exact"], config=model.cfg))
    advance(5)
    if model.model.null_index is not None:
        n = max(d.n_samples, 1000)
        sweep = diffusion_analyses.guidance_sweep(model, sc, n, 0, d.guidance_weights)
        weights = ",".join(f"{w:g}" for w in d.guidance_weights)
        out.append(b.section("C7", [sweep], [("guidance_sweep_figure", "samples per guidance weight W (columns), guidance in "
                                               "the default interval (top) and at every step (bottom)")],
                             [f"gencli diffusion sample {ck} --n {n} --steps {d.steps} --guidance-sweep {weights}"], config=model.cfg))
    advance(6)
    return out


def lm_sections(b: _Builder, model: TrainedLM) -> list[Section]:
    """L1-L5 from the language model."""
    lb, p = b.cfg.lm, b.paths["lm"]
    ck = f"--ckpt {p}"
    advance = b.stage("language-model analyses (L1-L5)", 4)
    out = []
    summary = lm_analyses.training_summary(model)
    cfg = model.cfg
    out.append(b.section("L1", [summary], [("loss_figure", "train and validation loss; the star marks the best validation")],
                         [f"gencli lm train --corpus {cfg.data.corpus} {ck} --set model.preset={cfg.model.preset} "
                          f"--set tokenizer.vocab_size={cfg.tokenizer.vocab_size} --set train.eval_every={cfg.train.eval_every} "
                          f"--max-iters {cfg.train.max_iters}"
                          + (f" --set train.precision={cfg.train.precision}" if cfg.train.precision != "auto" else "")]))
    advance(1)
    target = lm_analyses.fitting_words(model, lm_analyses.EXERCISE_SENTENCE)
    cut = "" if target == lm_analyses.EXERCISE_SENTENCE else (
        f"The exercise sentence is longer than this model's block of {cfg.model.block_size} tokens; "
        f"its first {len(target.split())} words are the target. ")
    inv = lm_analyses.invert_sentence(model, target, lb.invert_steps)
    prompt_len = min(PROMPT_TOKENS, cfg.model.block_size // 2)
    searches = [lm_analyses.real_token_prompt(model, t, prompt_len, lb.prompt_steps, forbid_target_words=True)
                for t in (lm_analyses.fitting_words(model, t, room=prompt_len) for t in [target, *lb.prompt_targets]) if t]
    found = sum(r.success for r in searches)
    rate = (f" With real tokens instead (a GCG search of {lb.prompt_steps} steps per sentence, no word of the target in "
            f"the prompt), {found} of {len(searches)} sentences got a prompt whose greedy continuation is the sentence. "
            + " ".join(r.finding() for r in searches))
    table = Table("real-token prompts (GCG; no word of the target in the prompt)",
                  [("target", ""), ("prompt found", ""), ("greedy continuation", ""), ("success", ""), ("steps", "d"),
                   ("seconds", ".1f")],
                  [(r.target, r.prompt, r.continuation, r.success, r.steps, r.seconds) for r in searches])
    files = b.files("L2", [inv, *searches[:1]], cfg)
    out.append(Section("L2", SECTION_TITLES["L2"],
                       [Figure("the inversion loss per Adam step", files["invert_loss_figure"]),
                        Figure("the real-token search for the exercise sentence: best margin loss per step",
                               files["prompt_search_figure"])],
                       inv.tables() + [table], cut + inv.finding() + rate,
                       [f"gencli lm invert {ck} --target \"{target}\" --steps {lb.invert_steps}"]
                       + [f"gencli lm invert {ck} --tokens --forbid-target-words --target \"{r.target}\" --steps "
                          f"{lb.prompt_steps} --prompt-len {prompt_len}" for r in searches],
                       {**inv.to_dict(), "real_token_prompts": [r.to_dict() for r in searches]}))
    advance(2)
    prompt = lm_analyses.fitting_words(model, lm_analyses.ATTENTION_PROMPT)
    att = lm_analyses.attention_maps(model, prompt)
    files = b.files("L3", [att], cfg)
    cmd = [f"gencli lm attention {ck} --prompt \"{prompt}\""]
    last_table = _attention_table(att, ["last"])
    out.append(Section("L3", SECTION_TITLES["L3"],
                       [Figure("last block: heatmap (the red line is the query) and the tokens painted by their attention",
                               files["attention_last_figure"])],
                       [last_table], att.finding(["last"]), cmd,
                       {**att.to_dict(), "blocks": {"last": att.to_dict()["blocks"]["last"]}}))
    out.append(Section("L4", SECTION_TITLES["L4"],
                       [Figure("first and last block side by side, on one colour scale", files["attention_figure"])],
                       att.tables(), att.finding(), cmd, att.to_dict()))
    advance(3)
    lp = lm_analyses.sequence_logprob(model, sample=True, max_new_tokens=lb.prob_tokens)
    out.append(b.section("L5", [lp], [("prob_figure", "log-probability of each token given the ones before it")],
                         [f"gencli lm prob {ck} --sample --max-new-tokens {lb.prob_tokens}"], config=cfg))
    advance(4)
    return out


def _attention_table(att, names: list[str]) -> Table:
    t = att.tables()[0]
    keep = [0, 1] + [2 + list(att.matrices).index(n) for n in names]
    return Table(t.title, [t.columns[i] for i in keep], [tuple(row[i] for i in keep) for row in t.rows])


def departures_section(sections: list[Section], settings: dict) -> Section:
    """The departures from the exercise, from the resolved configs and the LM sections' numbers."""
    by_id = {s.id: s for s in sections}
    rows = departures(settings, by_id["L1"].numbers if "L1" in by_id else None, by_id["L2"].numbers if "L2" in by_id else None)
    return Section("departures", SECTION_TITLES["departures"], [], [departures_table(rows)], departures_finding(rows), [],
                   {"departures": [dataclasses.asdict(d) for d in rows]})


def build_report(
    out: Path, cfg: ReportConfig, quick: bool = False, retrain: bool = False, device: torch.device | str = "cpu",
    stage: Stage = _quiet,
) -> Report:
    """Train what is missing and run every analysis; figures and data files go under out/files/."""
    t0 = time.perf_counter()
    b = _Builder(Path(out), cfg, quick, retrain, torch.device(device), stage)
    uncond = b.ensure_diffusion("diffusion")
    cond = b.ensure_diffusion("cond")
    lm = b.ensure_lm()
    t1 = time.perf_counter()
    sections = diffusion_sections(b, uncond) + conditional_sections(b, cond, uncond) + lm_sections(b, lm)
    settings = {"report": to_dict(cfg), "quick": quick, "device": str(b.device),
                "checkpoints": {k: str(v) for k, v in b.paths.items()},
                "diffusion": to_dict(uncond.cfg), "diffusion-cond": to_dict(cond.cfg), "lm": to_dict(lm.cfg)}
    sections.append(departures_section(sections, settings))
    order = list(SECTION_TITLES)
    sections.sort(key=lambda s: order.index(s.id))
    b.timings["analyses"] = time.perf_counter() - t1
    b.timings["total"] = time.perf_counter() - t0
    return Report(sections, settings, library_versions(), b.timings, quick, b.trained)
