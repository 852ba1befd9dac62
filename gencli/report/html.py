"""The report as one self-contained HTML page: figures embedded, no scripts, no network."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import yaml

from gencli.core.results import Table
from gencli.report.page import Block, Report, Section, blocks

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #1d1d1f; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2.2em; }
nav ol { columns: 2; } nav a { text-decoration: none; }
.question { color: #555; font-style: italic; }
.finding { background: #f3f7ff; border-left: 4px solid #3b6fd8; padding: 0.6em 0.9em; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.88em; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; } th { background: #f6f6f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f6f6; padding: 0.6em 0.9em; overflow-x: auto; font-size: 0.85em; }
.meta { color: #555; }
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def table_html(t: Table) -> str:
    """A result table as an HTML table with its caption; numbers right-aligned."""
    head = "".join(f"<th>{_e(h)}</th>" for h in t.header)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{"num" if t.numeric(i) else "text"}">{_e(c)}</td>' for i, c in enumerate(row))
        + "</tr>"
        for row in t.formatted()
    )
    return f"<table><caption>{_e(t.title)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{_e(alt)}">'


def block_html(b: Block) -> str:
    if b.kind == "question":
        return f'<p class="question">{_e(b.text)}</p>'
    if b.kind == "paragraph":
        return f"<p>{_e(b.text)}</p>"
    if b.kind == "figure":
        return f"<figure>{_image(b.figure.path, b.text)}<figcaption>{_e(b.text)}</figcaption></figure>"
    if b.kind == "table":
        return table_html(b.table)
    if b.kind == "finding":
        return f'<p class="finding">{_e(b.text)}</p>'
    return "<p>Reproduce with:</p><pre>" + _e("\n".join(b.lines)) + "</pre>"


def section_html(s: Section) -> str:
    body = "\n".join(block_html(b) for b in blocks(s))
    return f'<section id="{s.id.lower()}"><h2>{_e(s.title)}</h2>\n{body}\n</section>'


def settings_html(report: Report) -> str:
    versions = Table("library versions", [("library", ""), ("version", "")], list(report.versions.items()))
    timings = Table("wall time of this report (s)", [("stage", ""), ("seconds", ".1f")], list(report.timings.items()))
    trained = ", ".join(report.trained) if report.trained else "none (all checkpoints were already there)"
    cfgs = "".join(
        f"<h3>{_e(name)}</h3><pre>{_e(yaml.safe_dump(report.settings[name], sort_keys=False))}</pre>"
        for name in ("report", "diffusion", "diffusion-cond", "lm")
        if name in report.settings
    )
    return (
        f'<section id="settings"><h2>Settings and versions</h2><p>Device: {_e(report.settings["device"])}. '
        "Checkpoints trained for this report: "
        f"{_e(trained)}.</p>{table_html(timings)}{table_html(versions)}{cfgs}</section>"
    )


def render_html(report: Report) -> str:
    """The whole page."""
    kind = "quick (tiny budgets)" if report.quick else "full"
    toc = "".join(f'<li><a href="#{s.id.lower()}">{_e(s.title)}</a></li>' for s in report.sections)
    toc += '<li><a href="#settings">Settings and versions</a></li>'
    body = "\n".join(section_html(s) for s in report.sections)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>gencli report</title>'
        f'<link rel="icon" href="data:,"><style>{STYLE}</style></head><body>'
        f'<h1>gencli report</h1><p class="meta">The course exercise on generative models, answered: a 2D point '
        f"diffusion model and a small GPT. Run: {kind}, {report.timings.get('total', 0):.0f} s.</p>"
        f"<nav><h2>Contents</h2><ol>{toc}</ol></nav>{body}{settings_html(report)}</body></html>\n"
    )
