"""Write a built report: index.html (self-contained), report.md (figures beside it) and report.json (every number)."""

from __future__ import annotations

import json
from pathlib import Path

from gencli.core.atomic import write_text_atomic
from gencli.core.outputs import claim, record
from gencli.core.results import jsonable
from gencli.report.html import render_html
from gencli.report.markdown import render_markdown
from gencli.report.page import Report


def report_json(report: Report, root: Path) -> dict:
    """Every number of every section, with the settings, versions and timings."""
    return {
        "quick": report.quick,
        "timings": report.timings,
        "versions": report.versions,
        "settings": report.settings,
        "trained": report.trained,
        "sections": {
            s.id: {
                "title": s.title,
                "finding": s.finding,
                "commands": s.commands,
                "numbers": s.numbers,
                "figures": [str(Path(f.path).relative_to(root)) for f in s.figures],
            }
            for s in report.sections
        },
    }


def write_report(report: Report, out: Path, force: bool = False) -> dict[str, Path]:
    """The three report files in `out`, each written atomically; a file of the same name that gencli did not write
    there is refused unless `force`."""
    out = Path(out)
    texts = {
        "html": ("index.html", render_html(report)),
        "markdown": ("report.md", render_markdown(report, out)),
        "json": ("report.json", json.dumps(jsonable(report_json(report, out)), indent=1)),
    }
    claim(out, [Path(name) for name, _ in texts.values()], force)
    files = {key: write_text_atomic(out / name, text) for key, (name, text) in texts.items()}
    record(out, [Path(name) for name, _ in texts.values()])
    return files
