"""`gencli ckpt info DIR`: what a checkpoint holds (kind, data, steps, metrics, config, files)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gencli.cli import console
from gencli.cli.options import FlagsGroup, JsonOpt
from gencli.core.lazy import lazy_module

info_mod = lazy_module("gencli.checkpoint.info")

app = typer.Typer(
    cls=FlagsGroup,
    help="Checkpoints: what one holds.\n\nExample: gencli ckpt info checkpoints/diffusion",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


@app.command()
def info(
    path: Annotated[Path, typer.Argument(metavar="DIR", help="The checkpoint folder.", show_default=False)],
    json_: JsonOpt = False,
) -> None:
    """Kind, data, steps, metrics, library versions, the resolved config (--json) and the files with their sizes.

    Example: gencli ckpt info checkpoints/lm --json
    """
    result = info_mod.checkpoint_info(path)
    console.show([result], {}, json_)
