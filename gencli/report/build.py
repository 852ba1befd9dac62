"""Run the whole course exercise: train what is missing, then walk the report's table of sections.

`build_report` trains the checkpoints that are missing (or all, with `retrain`), walks
the table of sections (`gencli.report.registry`) (each entry runs its analyses and writes its figures and data
files under `out/files/SECTION/`), and opens the page with the departures from the exercise.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path

import torch

from gencli.checkpoint.format import META, library_versions
from gencli.core.config import ConfigSources, to_dict
from gencli.core.errors import GencliError
from gencli.core.outputs import write_figures
from gencli.core.paths import CHECKPOINT_NAMES, CHECKPOINTS, checkpoint_path
from gencli.diffusion.model.store import TrainedDiffusion
from gencli.diffusion.model.store import load_trained as load_diffusion
from gencli.diffusion.training import fit as diffusion_fit
from gencli.lm.model.store import TrainedLM
from gencli.lm.model.store import load_trained as load_lm
from gencli.lm.training import fit as lm_fit
from gencli.report.config import ReportConfig
from gencli.report.departures import (
    DEPARTURES_QUESTION,
    DEPARTURES_TITLE,
    departures,
    departures_finding,
    departures_table,
)
from gencli.report.page import Report, Section
from gencli.report.registry import Context, SectionSpec
from gencli.report.registry import specs as all_specs

# A stage of work: `stage(name, total)` returns `advance(done, info=None)`.
Stage = Callable[[str, int], Callable[..., None]]
STAGE_NAMES = {
    "diffusion": "diffusion analyses (U1-U6, bonus)",
    "cond": "conditional analyses (C1-C7)",
    "lm": "language-model analyses (L1-L6)",
    "gallery": "other distributions",
    "flow": "diffusion or flow",
}


def _quiet(name: str, total: int) -> Callable[..., None]:
    return lambda *a, **k: None


class _Builder:
    """Holds the paths, budgets and loaded models while the report is assembled."""

    def __init__(self, out: Path, cfg: ReportConfig, quick: bool, retrain: bool, device: torch.device, stage: Stage):
        self.out, self.cfg, self.quick, self.retrain, self.device, self.stage = out, cfg, quick, retrain, device, stage
        root = out / "checkpoints" if quick else CHECKPOINTS
        self.paths = {key: checkpoint_path(key, root) for key in CHECKPOINT_NAMES}
        data = cfg.diffusion.data
        if data != "square":  # another set's models live beside the square's, never in their place
            suffix = Path(data).stem if data.lower().endswith(".csv") else data
            self.paths.update(
                {k: self.paths[k].with_name(f"{self.paths[k].name}-{suffix}") for k in ("diffusion", "cond")}
            )
        self.gallery_root = root / "gallery"
        self.flow_root = root / "flow"
        self.trained: list[str] = []
        self.timings: dict[str, float] = {}

    # ------------------------------------------------------------ training

    def _todo(self, key: str) -> str:
        return self._todo_at(self.paths[key])

    def _todo_at(self, path: Path) -> str:
        """ "train" (missing, or --retrain), "resume" (a run that was interrupted) or "ready"."""
        meta = path / META
        if self.retrain or not meta.is_file():
            return "train"
        try:
            return "resume" if json.loads(meta.read_text()).get("interrupted") else "ready"
        except ValueError:
            return "train"

    def ensure_diffusion(self, key: str) -> TrainedDiffusion:
        d = self.cfg.diffusion
        cond = key == "cond"
        epochs = d.cond_epochs if cond else d.epochs
        name = f"{'conditional' if cond else 'unconditional'} diffusion model"
        return self._ensure_diffusion(self.paths[key], name, d.data, cond, epochs, f"train {key}")

    def _ensure_diffusion(
        self, path: Path, name: str, data: str, cond: bool, epochs: int, timing: str, objective: str = "vesde"
    ):
        """The model in `path`, trained first when missing (or --retrain), resumed when a run was interrupted; a
        checkpoint of another set there is refused rather than replaced."""
        todo = self._todo_at(path)
        if todo == "ready":
            trained = load_diffusion(path, self.device)
            held = (trained.cfg.data.name, trained.cfg.model.objective)
            if held != (data, objective):
                raise GencliError(
                    f"{path}: holds a {held[1]} model of {held[0]!r}, not a {objective} model of {data!r}; use "
                    "--retrain, or another --out with --quick"
                )
            return trained
        t0 = time.perf_counter()
        explicit = {"train.epochs": epochs or None}
        if todo != "resume":
            explicit.update({"model.conditional": cond or None, "data.name": data, "model.objective": objective})
        trainer = diffusion_fit.prepare(
            path, todo == "resume", ConfigSources(explicit=explicit), self.device, self.retrain
        )
        total = trainer.cfg.train.epochs
        advance = self.stage(f"train {name}", total)
        diffusion_fit.fit(
            trainer, path, lambda e, loss: advance(e, f"loss {loss:.4f}") if e % 25 == 0 else None, write_figures
        )
        advance(total)
        self.trained.append(str(path))
        self.timings[timing] = time.perf_counter() - t0
        return load_diffusion(path, self.device)

    def ensure_gallery(self) -> dict[str, TrainedDiffusion]:
        """A model per built-in set of the gallery (under checkpoints/gallery/)."""
        g = self.cfg.gallery
        return {
            name: self._ensure_diffusion(
                self.gallery_root / name,
                f"{name} model (other distributions)",
                name,
                False,
                g.epochs,
                f"train gallery {name}",
            )
            for name in g.sets
        }

    def ensure_flow(self) -> dict[str, list[TrainedDiffusion]]:
        """Per set of "Diffusion or flow?", a model of each objective: the VE-SDE's is the report's own square model
        or the gallery's model of the set (where they are of that set), the flows' live under checkpoints/flow/."""
        f, g = self.cfg.flow, self.cfg.gallery
        out: dict[str, list[TrainedDiffusion]] = {}
        for name in f.sets:
            models = []
            for objective in f.objectives:
                if objective == "vesde" and name == self.cfg.diffusion.data:
                    path, epochs = self.paths["diffusion"], self.cfg.diffusion.epochs
                elif objective == "vesde" and name in g.sets:
                    path, epochs = self.gallery_root / name, g.epochs
                else:
                    path = self.flow_root / f"{name}-{objective}"
                    epochs = f.epochs or (0 if name == "square" else g.epochs)
                models.append(
                    self._ensure_diffusion(
                        path, f"{name} {objective} model", name, False, epochs, f"train {name} {objective}", objective
                    )
                )
            out[name] = models
        return out

    def ensure_lm(self) -> TrainedLM:
        path, b = self.paths["lm"], self.cfg.lm
        todo = self._todo("lm")
        if todo != "ready":
            t0 = time.perf_counter()
            explicit = (
                {"train.max_iters": b.max_iters}
                if todo == "resume"
                else {
                    "data.corpus": b.corpus,
                    "model.preset": b.preset,
                    "tokenizer.vocab_size": b.vocab_size,
                    "train.max_iters": b.max_iters,
                    "train.eval_every": b.eval_every,
                    "train.precision": b.precision,
                }
            )
            run = lm_fit.prepare(
                path, todo == "resume", ConfigSources(explicit=explicit), self.device, force=self.retrain
            )
            advance = self.stage("train language model", b.max_iters)
            lm_fit.fit(run, lambda s, loss, val: advance(s, f"loss {loss:.3f}") if s % 10 == 0 else None, write_figures)
            advance(b.max_iters)
            self.trained.append(str(path))
            self.timings["train lm"] = time.perf_counter() - t0
        return load_lm(self.paths["lm"], device=self.device)

    def context(self) -> Context:
        return Context(self.cfg, self.out, self.paths)


def build_sections(
    ctx: Context, stage: Stage = _quiet, specs: list[SectionSpec] | None = None, timings: dict | None = None
) -> list[Section]:
    """Every section of `specs` (default: the report's table) whose model is loaded in `ctx`, in order; each
    section's wall seconds go into `timings` under "section ID"."""
    table = all_specs()
    specs = [s for s in (specs or table) if s.model in ctx.models]
    out: list[Section] = []
    for model in dict.fromkeys(s.model for s in specs):  # one progress stage per model, in table order
        group = [s for s in specs if s.model == model]
        advance = stage(STAGE_NAMES[model], len(group))
        for i, spec in enumerate(group, 1):
            advance(i - 1, spec.id)
            t0 = time.perf_counter()
            section = spec.build(spec, ctx)
            if timings is not None:
                timings[f"section {spec.id}"] = time.perf_counter() - t0
            if section is not None:
                out.append(section)
            advance(i, spec.id)
    order = [s.id for s in table]
    return sorted(out, key=lambda s: order.index(s.id) if s.id in order else -1)


def departures_section(sections: list[Section], settings: dict) -> Section:
    """The departures from the exercise, from the resolved configs and the LM sections' numbers."""
    by_id = {s.id: s for s in sections}
    budget = "the report's --quick budget" if settings.get("quick") else "the report's config"
    rows = departures(
        settings, by_id["L1"].numbers if "L1" in by_id else None, by_id["L2"].numbers if "L2" in by_id else None, budget
    )
    return Section(
        "departures",
        DEPARTURES_TITLE,
        [],
        [departures_table(rows)],
        departures_finding(rows),
        [],
        {"departures": [dataclasses.asdict(d) for d in rows]},
        question=DEPARTURES_QUESTION,
    )


def chosen_specs(only: list[str] | None) -> list[SectionSpec]:
    """The sections `--only` names (all without it), in page order; an unknown one is refused naming the known."""
    table = all_specs()
    if not only:
        return table
    known = {s.id.lower(): s for s in table}
    unknown = [o for o in only if o.lower() not in known and o.lower() != "departures"]
    if unknown:
        raise GencliError(
            f"--only {','.join(unknown)}: no such section; the sections are departures, "
            + ", ".join(s.id for s in table)
        )
    wanted = {o.lower() for o in only}
    return [s for s in table if s.id.lower() in wanted]


def build_report(
    out: Path,
    cfg: ReportConfig,
    quick: bool = False,
    retrain: bool = False,
    device: torch.device | str = "cpu",
    stage: Stage = _quiet,
    only: list[str] | None = None,
    force: bool = False,
) -> Report:
    """Train what is missing and run every analysis (or the sections of `only`, training only the models they read);
    figures and data files go under out/files/."""
    t0 = time.perf_counter()
    specs = chosen_specs(only)
    b = _Builder(Path(out), cfg, quick, retrain, torch.device(device), stage)
    ctx = b.context()
    ctx.force = force
    need = {s.model for s in specs}
    loaders = {
        "diffusion": lambda: b.ensure_diffusion("diffusion"),
        "cond": lambda: b.ensure_diffusion("cond"),
        "lm": b.ensure_lm,
        "gallery": b.ensure_gallery,
        "flow": b.ensure_flow,
    }
    if not only or "departures" in {o.lower() for o in only}:
        need |= {"diffusion", "cond", "lm"}  # the departures compare every model's settings with the exercise's
    ctx.models = {key: load() for key, load in loaders.items() if key in need}
    t1 = time.perf_counter()
    sections = build_sections(ctx, stage, specs, b.timings)
    settings = {
        "report": to_dict(cfg),
        "quick": quick,
        "device": str(b.device),
        "checkpoints": {k: str(v) for k, v in b.paths.items()},
    }
    names = {"diffusion": "diffusion", "cond": "diffusion-cond", "lm": "lm"}
    settings.update({name: to_dict(ctx.models[key].cfg) for key, name in names.items() if key in ctx.models})
    if not only or "departures" in {o.lower() for o in only}:
        sections.insert(0, departures_section(sections, settings))
    b.timings["analyses"] = time.perf_counter() - t1
    b.timings["total"] = time.perf_counter() - t0
    return Report(sections, settings, library_versions(), b.timings, quick, b.trained)
