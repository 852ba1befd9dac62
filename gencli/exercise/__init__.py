"""The course exercise's own settings, as config files (`configs/*-exercise.yaml` point here): the one home of what
the exercise fixes, read by the report's "Where this differs from the exercise"."""

from __future__ import annotations

from importlib import resources

from gencli.core.config import parse_yaml

FILES = {"diffusion": "diffusion.yaml", "lm": "lm.yaml"}


def exercise_values(kind: str) -> dict:
    """The exercise's settings of `diffusion` or `lm` as dotted key -> value."""
    data = parse_yaml(resources.files(__name__).joinpath(FILES[kind]).read_text(encoding="utf-8")) or {}

    def flat(d: dict, prefix: str = "") -> dict:
        out = {}
        for k, v in d.items():
            out.update(flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
        return out

    return flat(data)
