"""`gencli report`: the whole course exercise on one page (index.html, report.md, report.json)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gencli.cli import console, signals
from gencli.cli.options import ConfigOpt, DeviceOpt, ForceOutOpt, JsonOpt, SetOpt
from gencli.core.config import resolve
from gencli.core.errors import TrainingInterrupted
from gencli.core.lazy import lazy_module
from gencli.core.outputs import output_dir
from gencli.core.paths import REPORT_DIR
from gencli.core.results import Table
from gencli.report.config import QUICK, ReportConfig

# loaded when the command runs, not for --help or completion
building = lazy_module("gencli.report.build")
devices = lazy_module("gencli.core.device")
writing = lazy_module("gencli.report.write")


def report(
    out: Annotated[
        Path,
        typer.Option(
            "--out-dir", "--out", "-o", help="Folder of the report (index.html, report.md, report.json, files/)."
        ),
    ] = REPORT_DIR,
    only: Annotated[
        str | None, typer.Option("--only", help="Only these sections, e.g. U4,C7 (and only the models they read).")
    ] = None,
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="Tiny budgets (1-2 minutes from nothing on 2 cores); its own small "
            "checkpoints under OUT/checkpoints, never the full ones.",
        ),
    ] = False,
    retrain: Annotated[
        bool, typer.Option("--retrain", help="Train every checkpoint anew instead of re-using those present.")
    ] = False,
    corpus: Annotated[
        str | None, typer.Option("--corpus", help="Corpus of the language model: a UTF-8 file or `alice` (lm.corpus).")
    ] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    device: DeviceOpt = "auto",
    force: ForceOutOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Answer the whole exercise on one page: U1-U6, C1-C6, the bonus and L1-L5, with C7, D1, F1 and L6 beyond it.

    Trains the checkpoints that are missing (checkpoints/diffusion, checkpoints/diffusion-cond,
    checkpoints/lm; with --quick, small ones under OUT/checkpoints), runs every analysis and
    writes OUT/index.html (self-contained, open it in any browser), OUT/report.md with its
    figures under OUT/files/, and OUT/report.json with every number. Budgets are config keys
    (--set diffusion.n_samples=2000, --set lm.max_iters=500; see --config).

    Example: gencli report --quick --out runs/report-quick
    """
    cfg = resolve(
        ReportConfig, base=QUICK if quick else None, yaml_path=config, sets=set_, explicit={"lm.corpus": corpus}
    )
    dev = devices.resolve_device(device)
    folder = output_dir(out, REPORT_DIR)
    try:
        with console.stages() as stage:
            sections = [s.strip() for s in only.split(",") if s.strip()] if only else None
            rep = building.build_report(folder, cfg, quick, retrain, dev, stage, sections, force)
            files = writing.write_report(rep, folder, force)
    except TrainingInterrupted as e:
        console.note(f"{e}; run the report again to continue from there")
        raise typer.Exit(signals.interrupted_exit_code()) from None
    if json_:
        console.emit_json(
            {"sections": [s.id for s in rep.sections], "timings": rep.timings, "trained": rep.trained, "files": files}
        )
        return
    console.print_table(
        Table(
            "what the report shows",
            [("section", ""), ("finding", "")],
            [(s.id, s.finding or "(explanation)") for s in rep.sections],
        )
    )
    console.files_table(files)
    console.out.print(f"open {files['html'].resolve()} in a browser", markup=False)


app = typer.Typer(rich_markup_mode="markdown", add_completion=False)  # the root loads it on first use
app.command("report")(report)
