"""Typed configs: nested dataclasses, YAML files, `--set key.path=value` overrides.

Precedence: built-in defaults < YAML file < `--set` < explicit CLI options.
Every problem of a config is collected and reported at once, in one line.
A dataclass may define `problems(self) -> list[str]` for range checks; each
message starts with the field name it is about.
"""

from __future__ import annotations

import dataclasses
import difflib
import textwrap
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar

from gencli.core.errors import GencliError

T = TypeVar("T")


def field(default: Any, help: str) -> Any:
    """A dataclass field with a default and a help text (shown in docs and errors)."""
    if dataclasses.is_dataclass(default):
        return dataclasses.field(default_factory=lambda: dataclasses.replace(default), metadata={"help": help})
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata={"help": help})
    return dataclasses.field(default=default, metadata={"help": help})


class ConfigError(GencliError):
    """One or more problems with a config, joined into one line."""


def must(obj: Any, names: tuple[str, ...], ok: typing.Callable[[Any], bool], rule: str) -> list[str]:
    """`NAME: must be RULE, got VALUE` for each field of `names` whose value fails `ok` (for `problems()`)."""
    return [f"{n}: must be {rule}, got {getattr(obj, n)}" for n in names if not ok(getattr(obj, n))]


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


EXCERPT = 80  # characters of a bad value an error message quotes at most
MAX_CONFIG_BYTES = 1 << 20  # a config file larger than this is refused before it is parsed


def excerpt(value: Any) -> str:
    """A bad value as an error quotes it: its repr, cut to EXCERPT characters with its type and size when longer."""
    text = repr(value)
    if len(text) <= EXCERPT:
        return text
    size = f"{len(value)} items" if isinstance(value, (list, tuple, dict)) else f"{len(text)} characters"
    return f"{text[:EXCERPT]}... ({type(value).__name__}, {size})"


def _no_alias_loader():
    """yaml.SafeLoader without anchors and aliases: a config has no use for them, and nested aliases can expand a
    dozen lines into gigabytes (the "billion laughs"). Built on first use: yaml is imported only when a config is
    read or written (not for `--help`)."""
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.events.AliasEvent):
                event = self.peek_event()
                raise yaml.composer.ComposerError(
                    None, None, f"YAML aliases (*{event.anchor}) are not allowed in a config", event.start_mark
                )
            return super().compose_node(parent, index)

    return NoAliasLoader


SEED_LIMIT = 2**63  # torch.Generator.manual_seed takes a 64-bit integer


def parse_yaml(text: str) -> Any:
    """The document of a YAML text, safely: plain data only, no aliases, nesting as deep as Python's recursion
    allows (deeper: a YAMLError, not a RecursionError)."""
    import yaml

    try:
        return yaml.load(text, Loader=_no_alias_loader())  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise yaml.YAMLError("nested too deeply") from None


def _coerce(value: Any, tp: Any, key: str, from_text: bool) -> tuple[Any, str | None]:
    """Check `value` against type `tp`; convert text when it came from the command line."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        choices = typing.get_args(tp)
        if value in choices:
            return value, None
        return None, f"{key}: must be one of {', '.join(map(str, choices))}, got {excerpt(value)}"
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None or (from_text and str(value).lower() in ("null", "none", "~")):
            return None, None
        return _coerce(value, args[0], key, from_text)
    if origin in (list, tuple):
        (inner, *_) = typing.get_args(tp) or (Any,)
        if from_text and isinstance(value, str):
            value = [v for v in value.replace("[", "").replace("]", "").split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            return None, f"{key}: must be a list, got {excerpt(value)}"
        out = []
        for i, v in enumerate(value):
            cv, err = _coerce(v.strip() if isinstance(v, str) else v, inner, f"{key}[{i}]", from_text)
            if err:
                return None, err
            out.append(cv)
        return out, None
    if tp is bool:
        if isinstance(value, bool):
            return value, None
        if isinstance(value, str) and value.lower() in ("true", "yes", "on", "1"):
            return True, None
        if isinstance(value, str) and value.lower() in ("false", "no", "off", "0"):
            return False, None
        return None, f"{key}: must be true or false, got {excerpt(value)}"
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value, None
        if isinstance(value, str):
            try:
                return int(value), None
            except ValueError:
                pass
        if isinstance(value, float) and value.is_integer():
            return int(value), None
        return None, f"{key}: must be an integer, got {excerpt(value)}"
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value), None
        if isinstance(value, str):
            try:
                return float(value), None
            except ValueError:
                pass
        return None, f"{key}: must be a number, got {excerpt(value)}"
    if tp is str:
        if isinstance(value, str):
            return value, None
        if from_text or isinstance(value, (int, float)):
            return str(value), None
        return None, f"{key}: must be a string, got {excerpt(value)}"
    return value, None


def _build(cls: type[T], data: Any, prefix: str, errors: list[str]) -> T:
    """Build dataclass `cls` from a dict, appending every problem to `errors`."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        errors.append(f"{prefix.rstrip('.') or 'config'}: must be a mapping, got {excerpt(data)}")
        return cls()
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs: dict[str, Any] = {}
    n_before = len(errors)
    for key, value in data.items():
        if key not in names:
            hint = difflib.get_close_matches(str(key)[:EXCERPT], names, n=1)
            extra = f" (did you mean '{prefix}{hint[0]}'?)" if hint else f" (known: {', '.join(names)})"
            errors.append(f"{prefix}{str(key)[:EXCERPT]}: unknown key{extra}")
            continue
        tp = hints[key]
        if dataclasses.is_dataclass(tp):
            kwargs[key] = _build(tp, value, f"{prefix}{key}.", errors)
            continue
        cv, err = _coerce(value, tp, f"{prefix}{key}", from_text=False)
        if not err and key.endswith("seed") and isinstance(cv, int) and not 0 <= cv < SEED_LIMIT:
            err = f"{prefix}{key}: must be in 0..2^63 - 1 (a 64-bit seed), got {excerpt(cv)}"
        if err:
            errors.append(err)
        else:
            kwargs[key] = cv
    obj = cls(**kwargs)
    check = getattr(obj, "problems", None)
    if check is not None and len(errors) == n_before:
        errors.extend(f"{prefix}{p}" for p in check())
    return obj


def merge(base: dict, over: dict) -> dict:
    """Deep-merge `over` into a copy of `base`."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def _field_type(cls: type, path: list[str]) -> Any:
    """The declared type at a dotted key path, or raise KeyError naming the bad part."""
    tp: Any = cls
    for i, part in enumerate(path):
        if not dataclasses.is_dataclass(tp):
            raise KeyError(".".join(path[: i + 1]))
        hints = _hints(tp)
        if part not in hints:
            raise KeyError(".".join(path[: i + 1]))
        tp = hints[part]
    if dataclasses.is_dataclass(tp):
        raise KeyError(".".join(path) + " (a section, not a value)")
    return tp


def _nest(path: list[str], value: Any) -> dict:
    out: Any = value
    for part in reversed(path):
        out = {part: out}
    return out


def parse_sets(cls: type, sets: list[str]) -> tuple[dict, list[str]]:
    """Turn `key.path=value` strings into a nested dict of typed values."""
    result: dict = {}
    errors: list[str] = []
    for item in sets:
        if "=" not in item:
            errors.append(f"--set {excerpt(item)}: expected key.path=value")
            continue
        key, text = item.split("=", 1)
        key = key.strip()
        try:
            tp = _field_type(cls, key.split("."))
        except KeyError as e:
            errors.append(f"--set {key[:EXCERPT]}: unknown key {excerpt(e.args[0])}")
            continue
        value, err = _coerce(text.strip(), tp, f"--set {key}", from_text=True)
        if err:
            errors.append(err)
            continue
        result = merge(result, _nest(key.split("."), value))
    return result, errors


def read_yaml(path: Path) -> dict:
    """Read a YAML mapping safely; a bad file raises ConfigError naming it."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"config file {path} is {path.stat().st_size:,} bytes; a config is at most {MAX_CONFIG_BYTES:,}"
        )
    import yaml

    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"malformed YAML in {path}{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of sections, got {type(data).__name__}")
    return data


def resolve(
    cls: type[T],
    base: dict | None = None,
    yaml_path: Path | None = None,
    sets: list[str] | None = None,
    explicit: dict | None = None,
) -> T:
    """Build config `cls` from defaults < base < YAML < --set < explicit (dotted keys)."""
    data: dict = dict(base or {})
    source = ""
    if yaml_path is not None:
        data = merge(data, read_yaml(yaml_path))
        source = f" in {yaml_path}"
    set_data, errors = parse_sets(cls, sets or [])
    data = merge(data, set_data)
    for key, value in (explicit or {}).items():
        if value is not None:
            data = merge(data, _nest(key.split("."), value))
    obj = _build(cls, data, "", errors)
    if errors:
        more = f"; and {len(errors) - 5} more problems" if len(errors) > 5 else ""
        raise ConfigError(f"bad config{source}: " + "; ".join(errors[:5]) + more)
    return obj


@dataclasses.dataclass(frozen=True)
class ConfigSources:
    """Where a run's config comes from above the built-in defaults: a YAML file, `--set` items, explicit options
    (dotted keys; None values are left out). `resolve` applies them in that order over an optional base."""

    yaml_path: Path | None = None
    sets: tuple[str, ...] = ()
    explicit: dict = dataclasses.field(default_factory=dict)

    def resolve(self, cls: type[T], base: dict | None = None) -> T:
        return resolve(cls, base=base, yaml_path=self.yaml_path, sets=list(self.sets), explicit=self.explicit)


def require_unchanged(new: Any, old: Any, sections: tuple[str, ...], why: str) -> None:
    """Raise ConfigError naming the first of `sections` where `new` differs from `old`."""
    for section in sections:
        if getattr(new, section) != getattr(old, section):
            raise ConfigError(f"{section}.*: cannot change the {section} settings {why}")


def to_dict(obj: Any) -> dict:
    """A plain dict of a config dataclass (YAML/JSON friendly)."""
    return dataclasses.asdict(obj)


def to_yaml(obj: Any) -> str:
    """The resolved config as YAML text."""
    import yaml

    return yaml.safe_dump(to_dict(obj), sort_keys=False)


def commented_yaml(obj: Any, indent: int = 0) -> str:
    """A config as YAML with every key's help as a comment above it: what `gencli config show` prints and `--config`
    reads back."""
    import yaml

    pad = "  " * indent
    lines = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        for text in textwrap.wrap(f.metadata.get("help", ""), 100 - len(pad)):
            lines.append(f"{pad}# {text}")
        if dataclasses.is_dataclass(value):
            lines.append(f"{pad}{f.name}:")
            lines.append(commented_yaml(value, indent + 1).rstrip("\n"))
        else:
            shown = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
            shown = shown.removesuffix("\n...").removesuffix("...").strip()
            lines.append(f"{pad}{f.name}: {shown}")
    return "\n".join(lines) + "\n"
