"""Option values the commands parse themselves: points X,Y[,CLASS], comma-separated lists, a class or `none`."""

from __future__ import annotations

import math

from gencli.core.errors import GencliError


def parse_point(text: str, option: str, allow_class: bool = False) -> tuple[float, float, int | None]:
    """X,Y (or X,Y,CLASS) as numbers; an error naming the option otherwise."""
    parts = [p.strip() for p in text.split(",")]
    want = "X,Y[,CLASS]" if allow_class else "X,Y"
    if len(parts) not in ((2, 3) if allow_class else (2,)):
        raise GencliError(f"{option} {text!r}: expected {want}")
    try:
        x, y = float(parts[0]), float(parts[1])
    except ValueError:
        raise GencliError(f"{option} {text!r}: expected two numbers {want}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise GencliError(f"{option} {text!r}: coordinates must be finite")
    try:
        return x, y, int(parts[2]) if len(parts) == 3 else None
    except ValueError:
        raise GencliError(f"{option} {text!r}: CLASS must be an integer") from None


def parse_int_list(text: str, option: str) -> list[int]:
    """'1,5,10' as positive integers."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise GencliError(f"{option} {text!r}: expected comma-separated integers") from None
    if not values or any(v < 1 for v in values):
        raise GencliError(f"{option} {text!r}: expected positive integers")
    return values


def parse_floats(text: str | None, option: str, count: int | None = None) -> list[float] | None:
    """'0,1,2.5' as numbers (exactly `count` of them when given)."""
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise GencliError(f"{option} {text!r}: expected comma-separated numbers") from None
    if not values or (count is not None and len(values) != count):
        raise GencliError(f"{option} {text!r}: expected {count or 'one or more'} comma-separated numbers")
    return values


def parse_class(text: str | None) -> int | str | None:
    """--class: a class index, or `none` for the null class."""
    if text is None:
        return None
    if text.lower() == "none":
        return "none"
    try:
        return int(text)
    except ValueError:
        raise GencliError(f"--class {text!r}: expected a class index or none") from None
