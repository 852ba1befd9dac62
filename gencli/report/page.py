"""The report's content as data: sections of figures, tables, findings and commands; the HTML and Markdown writers
walk a section through `blocks`, so both show the same things in the same order."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gencli.core.results import Table


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
    question: str = ""


@dataclass
class Report:
    sections: list[Section]
    settings: dict
    versions: dict
    timings: dict
    quick: bool
    trained: list[str] = field(default_factory=list)


@dataclass
class Block:
    """One piece of a section as a writer lays it out: kind is question, paragraph, figure, table, finding or
    commands."""

    kind: str
    text: str = ""
    figure: Figure | None = None
    table: Table | None = None
    lines: list[str] = field(default_factory=list)


def blocks(s: Section) -> list[Block]:
    """A section in reading order: the question, the prose, the figures, the tables, the finding, the commands."""
    out = [Block("question", s.question)] if s.question else []
    out += [Block("paragraph", " ".join(p.split())) for p in s.prose.split("\n\n") if p.strip()]
    out += [Block("figure", f.caption, figure=f) for f in s.figures]
    out += [Block("table", t.title, table=t) for t in s.tables]
    if s.finding:
        out.append(Block("finding", s.finding))
    if s.commands:
        out.append(Block("commands", lines=s.commands))
    return out
