"""The report's table of sections, filled where each section is built.

Each builder is registered with `@section(id, title, question, model)` in the module of its part
(`gencli/report/sections/`); the page shows the sections in the order they register, and those modules are
imported in page order. A builder runs its analyses and lays out figures, tables, finding, numbers and the
commands that reproduce them. Results two sections share (C4/C5, L3/L4) are computed once via `Context.shared`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gencli.core.outputs import write_outputs
from gencli.core.results import Result, Table
from gencli.report.config import ReportConfig
from gencli.report.page import Figure, Section


@dataclass
class Context:
    """What a section's function needs: the loaded models, the budgets, the checkpoint paths and the output folder."""

    cfg: ReportConfig
    out: Path
    paths: dict[str, Path]
    models: dict = field(default_factory=dict)
    memo: dict = field(default_factory=dict)
    force: bool = False  # replace files under out/files/ that gencli did not write there

    def shared(self, key: str, compute: Callable[[], object]):
        """A result two sections use, computed once."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    def sample(self, key: str):
        """The sampler settings of model `key` at the report's number of steps."""
        return dataclasses.replace(self.models[key].cfg.sample, steps=self.cfg.diffusion.steps)

    def ckpt_options(self, key: str) -> dict:
        """The options that point a command at model `key`'s checkpoint (and say it is the conditional one)."""
        return {"conditional": key == "cond", "ckpt": self.paths[key]}

    def files(self, sid: str, results: list[Result], config=None, sub: str = "") -> dict[str, Path]:
        return write_outputs(results, self.out / "files" / sid.lower() / sub, config, self.force)

    def section(
        self,
        spec: SectionSpec,
        results: list[Result],
        figures: list[tuple[str, str]],
        commands: list[str],
        config=None,
        tables: list[Table] | None = None,
        finding: str | None = None,
        numbers: dict | None = None,
    ) -> Section:
        """A section from its results: figures picked by file key, all tables unless given, every number unless
        given."""
        files = self.files(spec.id, results, config)
        merged: dict = {}
        for r in results:
            merged.update(r.to_dict())
        text = finding if finding is not None else " ".join(r.finding() for r in results if r.finding())
        return Section(
            spec.id,
            spec.title,
            [Figure(caption, files[key]) for key, caption in figures],
            tables if tables is not None else [t for r in results for t in r.tables()],
            text,
            commands,
            numbers if numbers is not None else merged,
            question=spec.question,
        )


@dataclass(frozen=True)
class SectionSpec:
    id: str
    title: str
    question: str
    model: str  # "diffusion", "cond" or "lm": the checkpoint it reads
    build: Callable[[SectionSpec, Context], Section | None]


SECTIONS: list[SectionSpec] = []


def section(sid: str, title: str, question: str, model: str):
    """Register the decorated builder as section `sid` of the page (after those registered before it)."""

    def register(build: Callable[[SectionSpec, Context], Section | None]):
        if any(s.id == sid for s in SECTIONS):
            raise ValueError(f"section {sid} is registered twice")
        SECTIONS.append(SectionSpec(sid, title, question, model, build))
        return build

    return register


def with_exercise_start(sc, command: str, run: Callable):
    """`run(sc)` again with the exercise's own N(0, I) start, and the command that shows it; (None, None) when `sc`
    is that start already. The report shows the exercise's start beside the default wherever the start matters."""
    if sc.start == "standard":
        return None, None
    return run(dataclasses.replace(sc, start="standard")), command + " --start standard"


def specs() -> list[SectionSpec]:
    """Every section of the page, in order (importing the parts registers them)."""
    import gencli.report.sections  # noqa: F401

    return list(SECTIONS)
