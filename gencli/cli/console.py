"""Rich output for the CLI: tables on stdout, progress on stderr, one-line errors, JSON."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gencli.cli import signals
from gencli.core.outputs import merged_dict
from gencli.core.results import Result, jsonable
from gencli.core.results import Table as ResultTable
from gencli.lm.training import worker_report

if TYPE_CHECKING:
    from rich.progress import Progress

LOG_EVERY_S = 20.0  # a long stage's progress line, when stderr is not a terminal


class PipeConsole(Console):
    """A rich console that lets a closed pipe (`gencli ... | head -1`) end the command quietly with exit code 0, as
    Unix tools do (rich's own choice is exit code 1)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


out = PipeConsole(highlight=False)
err = PipeConsole(stderr=True, highlight=False)


def emit_json(obj: dict) -> None:
    """The command's one JSON object on stdout."""
    print(json.dumps(jsonable(obj)))


def _column_widths(t: ResultTable, rows: list[list[str]]) -> list[int]:
    """Each column's natural width in a rich table: its longest cell or header, plus the borders and padding."""
    return [max([len(name), *(len(r[i]) for r in rows)]) + 3 for i, name in enumerate(t.header)]


def column_chunks(t: ResultTable, rows: list[list[str]], width: int) -> list[list[int]]:
    """The table's columns in groups that fit `width` side by side, each group led by the first (key) column: a wide
    table on a narrow terminal is printed as several narrower ones, never cut."""
    widths = _column_widths(t, rows)
    if sum(widths) + 1 <= width or len(widths) <= 2:
        return [list(range(len(widths)))]
    chunks, current, used = [], [0], widths[0] + 1
    for i in range(1, len(widths)):
        if used + widths[i] > width and len(current) > 1:
            chunks.append(current)
            current, used = [0], widths[0] + 1
        current.append(i)
        used += widths[i]
    chunks.append(current)
    return chunks


def print_table(t: ResultTable) -> None:
    """A result's table as rich tables on stdout, every column at its own precision. Text from data is shown as it
    is (never read as rich markup); numbers never wrap; a table wider than the terminal is printed as several, each
    led by its key column."""
    rows = t.formatted()
    chunks = column_chunks(t, rows, out.width)
    for n, cols in enumerate(chunks):
        title = t.title if n == 0 else f"(continued, {n + 1} of {len(chunks)})"
        out.print(Text(title, style="italic"))  # wrapped at the terminal's width, not squeezed into the table's
        rt = Table()
        for i in cols:
            numeric = t.numeric(i)
            rt.add_column(Text(t.header[i]), justify="right" if numeric else "left", no_wrap=numeric)
        for row in rows:
            rt.add_row(*(Text(row[i]) for i in cols))
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


def _bar(remaining: bool = True) -> Progress:
    """A rich progress display on stderr (silent when stderr is not a terminal); rich.progress is imported here, on
    first use, not for `--help`."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        *([TimeRemainingColumn()] if remaining else []),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    )


@contextmanager
def progress(total: int, description: str) -> Iterator:
    """A progress bar on stderr; yields `advance(n=1, info=None, completed=None)`."""
    bar = _bar()
    with bar:
        task = bar.add_task(description, total=total, info="")

        def advance(n: int = 1, info: str | None = None, completed: int | None = None) -> None:
            kwargs = {"info": info} if info is not None else {}
            if completed is not None:
                bar.update(task, completed=completed, **kwargs)
            else:
                bar.update(task, advance=n, **kwargs)

        try:
            yield advance
        except BaseException:
            # the terminal's echo of ^C has moved the cursor: drawing the bar again would print it a second time, so
            # the live bar is erased instead; the interruption's own line says the step it stopped at
            bar.live.transient = True
            raise


@contextmanager
def stages(log_every_s: float = LOG_EVERY_S) -> Iterator:
    """One progress bar per stage of a long job on stderr; yields `stage(name, total) -> advance(done, info=None)`.
    Without a terminal (a log file, CI) each stage prints a line when it starts and, at most every `log_every_s`
    seconds, one with how far it has come, so a long stage never goes quiet."""
    bar = _bar()
    with bar:

        def stage(name: str, total: int):
            task = bar.add_task(name, total=total, info="")
            last = [time.monotonic()]
            if not err.is_terminal:
                err.print(f"{name} ...", markup=False)

            def advance(done: int, info: str | None = None) -> None:
                bar.update(task, completed=done, **({"info": info} if info is not None else {}))
                now = time.monotonic()
                if not err.is_terminal and now - last[0] >= log_every_s:
                    last[0] = now
                    err.print(f"  {name}: {done}/{total}" + (f" ({info})" if info else ""), markup=False)

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
        raise typer.Exit(signals.interrupted_exit_code()) from None
    except TrainingDiverged as e:
        if not quiet:
            error(f"training stopped: {e}; the checkpoint in {path} was left as it was", code=1)
        raise typer.Exit(1) from None
