"""Command lines built from the commands' own definitions, for the report's "Reproduce with" lines.

`command_line("diffusion sample", ckpt=path, n=1000, seeds_grid=True)` looks up each keyword among the
parameters of the real `gencli diffusion sample` and writes its flag as the command defines it, so a renamed
option can never leave the report naming one that no longer exists (an unknown name is a ValueError).
"""

from __future__ import annotations

import functools
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any


@functools.cache
def _root():
    import typer.main

    from gencli.cli.app import app

    return typer.main.get_command(app)


def _command(path: str):
    cmd = _root()
    for part in path.split():
        sub = cmd.get_command(None, part) if hasattr(cmd, "get_command") else None  # loads a lazy sub-command
        if sub is None:
            raise ValueError(f"no command `gencli {path}`")
        cmd = sub
    return cmd


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value)
    return str(value)


def command_line(path: str, *arguments: Any, **options: Any) -> str:
    """`gencli PATH ARGUMENTS --flag value ...`: each keyword names a parameter of the command (its Python name);
    True gives a bare flag (False the `--no-` side of a
    `--x/--no-x` flag, else nothing), None leaves the option out, a `list` of values repeats a repeatable option.
    Values are quoted for a POSIX shell where they need it."""
    cmd = _command(path)
    params = {p.name: p for p in cmd.params}
    words = ["gencli", *path.split(), *(shlex.quote(_text(a)) for a in arguments)]
    for name, value in options.items():
        p = params.get(name)
        if p is None or not getattr(p, "opts", None) or not p.opts[0].startswith("-"):
            raise ValueError(f"`gencli {path}` has no option for {name!r}")
        flag = max(p.opts, key=len)
        if value is False and getattr(p, "secondary_opts", None):
            words.append(p.secondary_opts[0])  # --no-adapt of --adapt/--no-adapt
            continue
        if value is None or value is False:
            continue
        if value is True:
            if not getattr(p, "is_flag", False):
                raise ValueError(f"`gencli {path}` {flag} takes a value")
            words.append(flag)
        elif getattr(p, "multiple", False) and isinstance(value, Sequence) and not isinstance(value, str):
            words += [w for v in value for w in (flag, shlex.quote(_text(v)))]
        else:
            words += [flag, shlex.quote(_text(value) if not isinstance(value, Path) else str(value))]
    return " ".join(words)
