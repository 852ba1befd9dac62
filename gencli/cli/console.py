"""Rich output for the CLI: tables on stdout, progress on stderr, one-line errors, JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _jsonable(value):
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def emit_json(obj: dict) -> None:
    """The command's one JSON object on stdout."""
    print(json.dumps(_jsonable(obj)))


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence], as_json: bool = False) -> None:
    """A rich table on stdout (nothing when the command prints JSON)."""
    if as_json:
        return
    t = Table(title=title, title_justify="left")
    for c in columns:
        t.add_column(c, justify="right" if c not in ("token", "name", "file", "sampler", "point") else "left")
    for row in rows:
        t.add_row(*[fmt(v) for v in row])
    out.print(t)


def fmt(v) -> str:
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:.3e}"
    return str(v)


def files_table(files: dict[str, Path], as_json: bool = False) -> None:
    """List the files a command wrote."""
    table("files written", ["name", "file"], [(k, str(v)) for k, v in files.items()], as_json)


def error(message: str) -> None:
    """One line `error: ...` on stderr, never wrapped."""
    err.print("error: " + " ".join(str(message).split()), markup=False, soft_wrap=True)


def note(message: str) -> None:
    """A short remark on stderr (kept off stdout so --json stays clean)."""
    err.print(message)


@contextmanager
def progress(total: int, description: str) -> Iterator:
    """A progress bar on stderr; yields `advance(n=1, **fields)`; `loss` shows when given."""
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    )
    with bar:
        task = bar.add_task(description, total=total, info="")

        def advance(n: int = 1, info: str | None = None, completed: int | None = None) -> None:
            kwargs = {"info": info} if info is not None else {}
            if completed is not None:
                bar.update(task, completed=completed, **kwargs)
            else:
                bar.update(task, advance=n, **kwargs)

        yield advance
