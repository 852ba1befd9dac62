"""`gencli config show NAME`: every key of a config with its default and help, as YAML that `--config` accepts."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from gencli.cli.options import FlagsGroup
from gencli.core.config import ConfigSources, commented_yaml, resolve

app = typer.Typer(
    cls=FlagsGroup,
    help="The configs: every key, its default and what it does.\n\nExample: gencli config show lm > lm.yaml",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

HEADERS = {
    "diffusion": "gencli diffusion train --config FILE",
    "diffusion-cond": "gencli diffusion train --conditional --config FILE",
    "diffusion-sets": "gencli diffusion train --data SET --config FILE (any set but the square)",
    "diffusion-flow": "gencli diffusion train --objective flow-ot --config FILE (the square; another set: --data)",
    "lm": "gencli lm train --config FILE",
    "report": "gencli report --config FILE",
}


def defaults(name: str):
    """The built-in defaults of a config (the conditional diffusion model's own where they differ)."""
    if name.startswith("diffusion"):
        from gencli.diffusion.config import resolve_diffusion

        explicit = {"model.conditional": name == "diffusion-cond" or None}
        if name == "diffusion-flow":
            explicit["model.objective"] = "flow-ot"
        if name == "diffusion-sets":
            explicit["data.name"] = "moons"
        return resolve_diffusion(ConfigSources(explicit=explicit))
    if name == "lm":
        from gencli.lm.config import LMConfig

        return resolve(LMConfig)
    from gencli.report.config import ReportConfig

    return resolve(ReportConfig)


@app.command()
def show(
    name: Annotated[
        Literal["diffusion", "diffusion-cond", "diffusion-sets", "diffusion-flow", "lm", "report"],
        typer.Argument(
            help="Which config: diffusion (the square), diffusion-cond, diffusion-sets (the defaults of any "
            "other set; data.name is to be set), diffusion-flow (a flow-ot model of the square), lm or report."
        ),
    ],
) -> None:
    """Print every key of a config with its default and help, as commented YAML that --config accepts back.

    Example: gencli config show lm > lm.yaml && gencli lm train --config lm.yaml
    """
    print(f"# The built-in defaults of `{HEADERS[name]}`; edit and pass back with --config.")
    print(commented_yaml(defaults(name)), end="")
