"""What a checkpoint folder holds, without building its model: `gencli ckpt info`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from gencli.checkpoint.format import CONFIG, META, CheckpointError
from gencli.core.config import MAX_CONFIG_BYTES, parse_yaml
from gencli.core.results import Result, Table

MAX_META_BYTES = 1 << 20


@dataclass
class CheckpointInfo(Result):
    """A checkpoint's kind, data and training, its metrics, its resolved config and its files with their sizes."""

    path: Path
    meta: dict
    config: dict
    files: list[tuple[str, int]]

    def to_dict(self) -> dict:
        m = self.meta
        return {
            "path": str(self.path),
            "kind": m.get("kind"),
            "format_version": m.get("format_version"),
            "step": m.get("step"),
            "interrupted": bool(m.get("interrupted")),
            "data": self.data_name(),
            "objective": (self.config.get("train") or {}).get("objective", "vesde")
            if m.get("kind") == "diffusion"
            else None,
            "metrics": m.get("metrics") or {},
            "versions": m.get("versions") or {},
            "config": self.config,
            "files": {name: size for name, size in self.files},
        }

    def data_name(self) -> str | None:
        data = self.config.get("data") or {}
        return data.get("name", "square") if self.meta.get("kind") == "diffusion" else data.get("corpus")

    def tables(self) -> list[Table]:
        d = self.to_dict()
        rows = [
            ("kind", d["kind"]),
            ("data", d["data"]),
            ("steps", d["step"]),
            ("interrupted (resumable)", "yes" if d["interrupted"] else "no"),
        ]
        if d["objective"]:
            rows.append(("objective", d["objective"]))
        rows += [(f"metric: {k}", _short(v)) for k, v in d["metrics"].items() if not isinstance(v, (dict, list))]
        rows += [(f"{k} version", v) for k, v in d["versions"].items()]
        files = [(name, size) for name, size in self.files]
        return [
            Table(
                f"checkpoint {self.path}",
                [("", ""), ("value", "")],
                [(k, "–" if v is None else str(v)) for k, v in rows],
            ),
            Table("files", [("file", ""), ("bytes", ",d")], files),
        ]

    def finding(self) -> str:
        d = self.to_dict()
        total = sum(size for _, size in self.files)
        return (
            f"A {d['kind']} checkpoint of {d['data']}, {d['step']} training steps"
            + (", interrupted (continue it with --resume)" if d["interrupted"] else "")
            + f"; {len(self.files)} files, {total:,} bytes."
        )


def _short(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def checkpoint_info(path: Path) -> CheckpointInfo:
    """Read a checkpoint folder's meta.json and config.yaml (bounded in size) and list its files."""
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"{path}: " + ("no such folder" if not path.exists() else "not a checkpoint folder"))
    meta_path, config_path = path / META, path / CONFIG
    if not meta_path.is_file():
        raise CheckpointError(f"{path}: not a gencli checkpoint (no {META})")
    try:
        if meta_path.stat().st_size > MAX_META_BYTES:
            raise ValueError
        meta = json.loads(meta_path.read_text())
        if not isinstance(meta, dict):
            raise ValueError
    except (OSError, ValueError, RecursionError):
        raise CheckpointError(f"{meta_path}: corrupt meta.json") from None
    try:
        if config_path.stat().st_size > MAX_CONFIG_BYTES:
            raise ValueError
        config = parse_yaml(config_path.read_text()) or {}
        if not isinstance(config, dict):
            raise ValueError
    except (OSError, ValueError, RecursionError, Exception):
        raise CheckpointError(f"{config_path}: missing or corrupt config.yaml") from None
    files = sorted((str(p.relative_to(path)), p.stat().st_size) for p in path.rglob("*") if p.is_file())
    return CheckpointInfo(path, meta, config, files)
