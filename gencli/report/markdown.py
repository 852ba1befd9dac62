"""The report as Markdown, figures as PNG files beside it."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from gencli.core.results import Table
from gencli.report.page import Block, Report, Section, blocks


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table_md(t: Table) -> str:
    """A result table as a Markdown pipe table under its title."""
    align = ["---:" if t.numeric(i) else "---" for i in range(len(t.header))]
    lines = [
        f"**{_cell(t.title)}**",
        "",
        "| " + " | ".join(_cell(h) for h in t.header) + " |",
        "|" + "|".join(align) + "|",
    ]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in t.formatted()]
    return "\n".join(lines)


def block_md(b: Block, root: Path) -> str:
    if b.kind == "question":
        return f"*{b.text}*"
    if b.kind == "paragraph":
        return b.text
    if b.kind == "figure":
        return f"![{b.text}]({Path(os.path.relpath(b.figure.path, root)).as_posix()})"
    if b.kind == "table":
        return table_md(b.table)
    if b.kind == "finding":
        return f"> {b.text}"
    return "```bash\n" + "\n".join(b.lines) + "\n```"


def section_md(s: Section, root: Path) -> str:
    anchor = f'<a id="{s.id.lower()}"></a>\n\n## {s.title}'  # the anchor the contents link to
    return "\n\n".join([anchor] + [block_md(b, root) for b in blocks(s)])


def render_markdown(report: Report, root: Path) -> str:
    """The whole report; figure links are relative to `root` (the report's folder)."""
    toc = "\n".join(f"{i}. [{s.title}](#{s.id.lower()})" for i, s in enumerate(report.sections, 1))
    kind = "quick (tiny budgets)" if report.quick else "full"
    settings = "\n\n".join(
        f"### {name}\n\n```yaml\n{yaml.safe_dump(report.settings[name], sort_keys=False)}```"
        for name in ("report", "diffusion", "diffusion-cond", "lm")
        if name in report.settings
    )
    versions = "\n".join(f"- {k}: {v}" for k, v in report.versions.items())
    timings = "\n".join(f"- {k}: {v:.1f} s" for k, v in report.timings.items())
    return (
        f"# gencli report\n\nThe course exercise on generative models, answered ({kind} run, "
        f"device {report.settings['device']}).\n\n## Contents\n\n{toc}\n\n"
        + "\n\n".join(section_md(s, root) for s in report.sections)
        + f"\n\n## Settings and versions\n\n{timings}\n\n{versions}\n\n{settings}\n"
    )
