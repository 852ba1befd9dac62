"""Checks of option values shared by the command groups (each failure is a one-line exit-2 error)."""

from __future__ import annotations

from pathlib import Path

from gencli.errors import GencliError


def positive(value, option: str):
    """`value` unchanged when None or >= 1, else an error naming the option."""
    if value is not None and value < 1:
        raise GencliError(f"{option}: must be a positive integer, got {value}")
    return value


def out_dir(path: Path | None, half: str, command: str) -> Path:
    """The output folder (default runs/HALF/COMMAND), created."""
    path = path or Path("runs") / half / command
    if path.exists() and not path.is_dir():
        raise GencliError(f"--out-dir {path}: exists and is not a directory")
    path.mkdir(parents=True, exist_ok=True)
    return path
