"""`gencli lm ...`: the GPT language model."""

from __future__ import annotations

import typer

app = typer.Typer(help="The GPT language model trained on a text corpus.", no_args_is_help=True)
