"""Rich output for the CLI: tables on stdout, progress on stderr, one-line errors, JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
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

from gencli.core.outputs import merged_dict
from gencli.core.results import Result, jsonable
from gencli.core.results import Table as ResultTable
from gencli.lm.training import worker_report

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def emit_json(obj: dict) -> None:
    """The command's one JSON object on stdout."""
    print(json.dumps(jsonable(obj)))


def print_table(t: ResultTable) -> None:
    """A result's table as a rich table on stdout, every column at its own precision."""
    rt = Table(title=t.title, title_justify="left")
    for i, name in enumerate(t.header):
        rt.add_column(name, justify="right" if t.numeric(i) else "left")
    for row in t.formatted():
        rt.add_row(*row)
    out.print(rt)


def files_table(files: dict[str, Path]) -> None:
    """List the files a command wrote."""
    print_table(ResultTable("files written", [("name", ""), ("file", "")], [(k, str(v)) for k, v in files.items()]))


def show(results: list[Result], files: dict[str, Path], as_json: bool) -> None:
    """The command's answer: one JSON object, or each result's tables and finding and the files written."""
    if as_json:
        emit_json(merged_dict(results, files))
        return
    for r in results:
        for t in r.tables():
            print_table(t)
        if r.finding():
            out.print(r.finding(), style="dim", markup=False)
    if files:
        files_table(files)


def error(message: str, code: int = 2) -> None:
    """One line `error: ...` on stderr, never wrapped (and for a data-parallel launcher, a record with the exit
    code)."""
    line = " ".join(str(message).split())
    worker_report.record("error", line, code)
    err.print("error: " + line, markup=False, soft_wrap=True)


def note(message: str) -> None:
    """A short remark on stderr (kept off stdout so --json stays clean; recorded for a data-parallel launcher)."""
    worker_report.record("note", message)
    err.print(message)


def _bar(*columns) -> Progress:
    """A rich progress display on stderr (silent when stderr is not a terminal)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        *columns,
        console=err,
        transient=False,
        disable=not err.is_terminal,
    )


@contextmanager
def progress(total: int, description: str) -> Iterator:
    """A progress bar on stderr; yields `advance(n=1, info=None, completed=None)`."""
    bar = _bar(TimeRemainingColumn())
    with bar:
        task = bar.add_task(description, total=total, info="")

        def advance(n: int = 1, info: str | None = None, completed: int | None = None) -> None:
            kwargs = {"info": info} if info is not None else {}
            if completed is not None:
                bar.update(task, completed=completed, **kwargs)
            else:
                bar.update(task, advance=n, **kwargs)

        yield advance


@contextmanager
def stages() -> Iterator:
    """One progress bar per stage of a long job on stderr; yields `stage(name, total) -> advance(done, info=None)`."""
    bar = _bar()
    with bar:

        def stage(name: str, total: int):
            task = bar.add_task(name, total=total, info="")
            if not err.is_terminal:
                err.print(f"{name} ...", markup=False)

            def advance(done: int, info: str | None = None) -> None:
                bar.update(task, completed=done, **({"info": info} if info is not None else {}))

            return advance

        yield stage


@contextmanager
def training_outcome(path, quiet: bool = False) -> Iterator[None]:
    """A training's two ends other than success, as the CLI reports them: Ctrl-C (a resumable state was saved; exit
    130) and a diverged loss (the checkpoint was left as it was; exit 1). `quiet` for the non-main processes of a
    data-parallel run."""
    from gencli.core.errors import TrainingDiverged, TrainingInterrupted

    try:
        yield
    except TrainingInterrupted as e:
        if not quiet:
            note(str(e))
        raise typer.Exit(130) from None
    except TrainingDiverged as e:
        if not quiet:
            error(f"training stopped: {e}; the checkpoint in {path} was left as it was", code=1)
        raise typer.Exit(1) from None
