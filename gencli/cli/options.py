"""Options shared by many commands, defined once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from gencli.core.device import Device

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="YAML config file (values override the built-in defaults).")
]
SEED_MAX = 2**63 - 1  # torch.Generator.manual_seed takes a 64-bit integer


def seed_in_range(value: int | None) -> int | None:
    """A --seed torch can take (0..2^63 - 1); checked here so the help shows no 19-digit range."""
    if value is not None and not 0 <= value <= SEED_MAX:
        raise typer.BadParameter(f"must be in 0..2^63 - 1 (a 64-bit seed), got {value}")
    return value


SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override one config value, e.g. --set train.lr=1e-3 (repeatable, typed)."),
]
SeedOpt = Annotated[int | None, typer.Option("--seed", callback=seed_in_range, help="Random seed.")]
DeviceOpt = Annotated[
    Device, typer.Option("--device", help="Where the model runs: auto picks cuda, then mps, then cpu.")
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON object (numbers and file paths) on stdout, nothing else.")
]
CkptReadOpt = Annotated[Path | None, typer.Option("--ckpt", help="Checkpoint directory to read.")]
CkptWriteOpt = Annotated[Path | None, typer.Option("--ckpt", help="Checkpoint directory to write (or resume).")]
ResumeOpt = Annotated[bool, typer.Option("--resume", help="Continue training the checkpoint in --ckpt.")]
ForceTrainOpt = Annotated[
    bool,
    typer.Option("--force", "-f", help="Train a new checkpoint in the place of the one in --ckpt (it is replaced)."),
]
ForceOutOpt = Annotated[
    bool, typer.Option("--force", "-f", help="Replace files in --out-dir that gencli did not write there.")
]
OutDirOpt = Annotated[
    Path | None, typer.Option("--out-dir", help="Directory for figures, CSV files and the resolved config.")
]


# library parameters whose command-line option has another name
CLI_NAMES = {"queries": "point", "path": "file", "weights": "guidance_sweep", "extra_blocks": "block"}


def flags_for(command, params: tuple[str, ...]) -> list[str] | None:
    """The options of a click `command` that set these library parameters (None when one has no option there)."""
    options = {p.name: p for p in getattr(command, "params", []) if getattr(p, "opts", None)}
    flags = []
    for name in params:
        opt = options.get(CLI_NAMES.get(name, name))
        if opt is None or not opt.opts[0].startswith("-"):
            return None
        flags.append(max(opt.opts, key=len))
    return flags


def leaf_command(group, args: list[str]):
    """The command `args` names under `group` (the group itself when none)."""
    cmd = group
    for a in args:
        sub = cmd.get_command(None, a) if hasattr(cmd, "get_command") else None  # loads a lazy sub-command
        if sub is None:
            break
        cmd = sub
    return cmd


def count_opt(flag: str, help: str) -> typer.models.OptionInfo:
    """An option holding a positive integer (Typer checks the range)."""
    return typer.Option(flag, help=help, min=1)


def _bare_flags(params: list) -> list:
    """Flags (options that take no value) shown without a type: `--json`, not `--json <bool>`."""
    for p in params:
        if getattr(p, "is_flag", False) and not getattr(p, "metavar", None):
            p.metavar = ""
    return params


def _flags_without_pydantic(params: list) -> list:
    """Typer coerces every parameter's value through a runtime converter built on first use, a pydantic adapter for a
    bool; a group's flags left unset (`--help` of `gencli` while `gencli lm train --help` is parsed) hold None and
    would import pydantic (about 0.1 s) to pass None on. A flag needs no conversion: it gets typer's pass-through
    converter (None and bools unchanged). Without that internal (another typer), nothing changes."""
    try:
        from typer._coercion import PassThroughRuntimeParam
    except ImportError:  # pragma: no cover
        return params
    for p in params:
        d = getattr(p, "type_descriptor", None)
        if d is not None and d.annotation is bool and getattr(p, "_runtime_param", False) is None:
            p._runtime_param = PassThroughRuntimeParam(annotation=bool, parameter_info=d.parameter_info)
    return params


class FlagsGroup(TyperGroup):
    """A command group whose help, and its commands' help, lists flags without a `<bool>` type."""

    def get_params(self, ctx):
        return _flags_without_pydantic(_bare_flags(super().get_params(ctx)))

    def get_command(self, ctx, name):
        cmd = super().get_command(ctx, name)
        if cmd is not None and not isinstance(cmd, FlagsGroup):
            get = cmd.get_params
            cmd.get_params = lambda c, _get=get: _bare_flags(_get(c))
        return cmd
