"""Options shared by many commands, defined once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="YAML config file (values override the built-in defaults).")
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override one config value, e.g. --set train.lr=1e-3 (repeatable, typed)."),
]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Random seed.")]
Device = Literal["auto", "cpu", "cuda", "mps"]
DeviceOpt = Annotated[
    Device, typer.Option("--device", help="Where the model runs: auto picks cuda, then mps, then cpu.")
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON object (numbers and file paths) on stdout, nothing else.")
]
CkptReadOpt = Annotated[Path | None, typer.Option("--ckpt", help="Checkpoint directory to read.")]
CkptWriteOpt = Annotated[Path | None, typer.Option("--ckpt", help="Checkpoint directory to write (or resume).")]
OutDirOpt = Annotated[
    Path | None, typer.Option("--out-dir", help="Directory for figures, CSV files and the resolved config.")
]


def count_opt(flag: str, help: str) -> typer.models.OptionInfo:
    """An option holding a positive integer (Typer checks the range)."""
    return typer.Option(flag, help=help, min=1)
