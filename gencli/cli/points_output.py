"""`-o FILE` for the commands that write points: the format by the file's name (.csv, .npy, .json), `-` for stdout
(then the tables go to stderr, so that stdout holds the points alone)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gencli.cli import console
from gencli.core.atomic import write_bytes_atomic
from gencli.core.datafiles import POINT_FORMATS, points_bytes
from gencli.core.errors import GencliError, WriteFailed

PointsOutOpt = Annotated[
    Path | None,
    typer.Option(
        "-o",
        "--output",
        help="Also write the points alone to this file: .csv, .npy or .json by its name, - for CSV on stdout.",
    ),
]


def check_points_output(path: Path | None, as_json: bool, force: bool) -> None:
    """Before any work: -o - with --json (both want stdout), a name of no known format, an existing file."""
    if path is None:
        return
    if str(path) == "-":
        if as_json:
            raise GencliError("--json: the points go to stdout with -o -; write them to a file to have the JSON there")
        return
    if path.suffix.lower() not in POINT_FORMATS:
        raise GencliError(f"-o {path}: the name must end in {', '.join(POINT_FORMATS)} (or be - for stdout)")
    if path.exists() and not force:
        raise GencliError(f"-o {path}: exists; use --force to replace it")


def write_points_output(path: Path, points, labels, force: bool) -> Path:
    """Write the points to `path` (or stdout for `-`); an existing file is replaced only with --force."""
    if str(path) == "-":
        sys.stdout.buffer.write(points_bytes(".csv", points, labels))
        sys.stdout.buffer.flush()
        return path
    suffix = path.suffix.lower()
    if suffix not in POINT_FORMATS:
        raise GencliError(f"-o {path}: the name must end in {', '.join(POINT_FORMATS)} (or be - for stdout)")
    if path.exists() and not force:
        raise GencliError(f"-o {path}: exists; use --force to replace it")
    try:
        return write_bytes_atomic(path, points_bytes(suffix, points, labels))
    except OSError as e:
        raise WriteFailed(f"-o {path}: cannot write ({e.strerror}); nothing was written") from None


def show(results, files: dict, as_json: bool, output: Path | None) -> None:
    """The command's answer, on stderr when the points themselves went to stdout."""
    if output is not None and str(output) == "-":
        if as_json:
            raise GencliError("--json: the points go to stdout with -o -; write them to a file to have the JSON there")
        saved, console.out = console.out, console.err
        try:
            console.show(results, files, False)
        finally:
            console.out = saved
        return
    console.show(results, files, as_json)
