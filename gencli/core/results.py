"""What every analysis returns: numbers for JSON, tables for people, CSV files for the figures' data.

An analysis function (in `gencli/diffusion/analyses.py` or `gencli/lm/analyses.py`)
returns a `Result`. Front ends never compute: the CLI prints `tables()` or `to_dict()`,
the report lays out the same tables with `finding()`, and `gencli/core/outputs.py` writes
`data_files()` as CSV and the figures `gencli/plots` draws from the result.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Table:
    """A table for people: a title, columns with one format spec each, and rows of raw values.

    Every value of a column is shown with the same precision (`".3f"`, `"d"`, `".2e"`,
    `""` for text); None and NaN show as an en dash.
    """

    title: str
    columns: list[tuple[str, str]]
    rows: list[tuple]

    @property
    def header(self) -> list[str]:
        return [name for name, _ in self.columns]

    def formatted(self) -> list[list[str]]:
        """Every cell as text, formatted by its column's spec."""
        return [[format_cell(v, spec) for v, (_, spec) in zip(row, self.columns)] for row in self.rows]

    def numeric(self, column: int) -> bool:
        """True when the column holds numbers (right-aligned)."""
        return bool(self.columns[column][1])


def format_cell(value: Any, spec: str) -> str:
    """One cell: `spec` applied to numbers, booleans as yes/no, missing values as an en dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool) or type(value).__name__ == "bool_":  # numpy's bool too, without importing numpy
        return "yes" if value else "no"
    if spec and isinstance(value, numbers.Real):  # numpy's integers and floats register as numbers.Real
        if spec.endswith("d"):
            return format(int(value), spec)
        return format(float(value), spec)
    return str(value)


def jsonable(value: Any) -> Any:
    """Plain JSON data: numpy values and arrays as numbers and lists, paths as text, NaN and infinities as None."""
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):  # arrays and numpy scalars
        return jsonable(value.tolist())
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


@dataclass
class DataFile:
    """The numbers behind a figure: a CSV file (`header` and `rows`) or other `content` (text or bytes)."""

    key: str
    name: str
    header: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    content: str | bytes | None = None


class Result:
    """Base of every analysis result.

    Subclasses are dataclasses holding plain numbers and numpy arrays (no torch), so
    that `gencli/plots` can draw them without importing a model.
    """

    def to_dict(self) -> dict:
        """The numbers of the result (JSON-ready: lists, floats, strings)."""
        raise NotImplementedError

    def tables(self) -> list[Table]:
        """The tables a person reads."""
        return []

    def data_files(self) -> list[DataFile]:
        """The CSV files behind the figures."""
        return []

    def finding(self) -> str:
        """One or two sentences that state what the numbers show."""
        return ""
