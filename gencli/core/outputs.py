"""The one place where a front end writes what an analysis produced: CSV and data files, figures, the resolved
config, under one rule for every command.

The rule: a command's default output folder is fresh for every run (runs/GROUP/COMMAND/TIME-PID), so runs side by
side never meet. In a folder you name (--out-dir), gencli replaces only files it wrote there itself (it keeps their
names in `.gencli-files.json`); any other file of the same name is refused unless --force. Everything is written
into a hidden staging folder first and moved in once complete, so a refusal or a failure leaves the folder as it was.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from gencli.core.atomic import check_replaceable, write_text_atomic
from gencli.core.config import to_yaml
from gencli.core.datafiles import write_data_files
from gencli.core.errors import GencliError, WriteFailed
from gencli.core.results import Result

MANIFEST = ".gencli-files.json"  # the files gencli wrote in a folder: the ones it may replace there


def fresh_name() -> str:
    """A folder name unique to this run: local time to the second, then the pid."""
    return time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"


def output_dir(path: Path | None, default: Path) -> Path:
    """The output folder: `path` when given (created if missing; an error when it is a file), else a fresh folder
    under `default` (TIME-PID, with -2, -3, ... when this process already made one in the same second)."""
    if path is None:
        try:
            Path(default).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise WriteFailed(f"{default}: cannot create it ({e.strerror})") from None
        base = Path(default) / fresh_name()
        for k in range(1, 10_000):
            candidate = base if k == 1 else base.with_name(f"{base.name}-{k}")
            try:
                candidate.mkdir()  # exclusive: two runs never share a folder
                return candidate
            except FileExistsError:
                continue
            except OSError as e:
                raise WriteFailed(f"{candidate}: cannot create it ({e.strerror})") from None
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise GencliError(f"--out-dir {path}: exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        if e.errno == errno.ENOSPC:  # a full disk is a failure (exit 1); a path that cannot be made, a mistake (2)
            raise WriteFailed(f"--out-dir {path}: cannot create it ({e.strerror})") from None
        raise GencliError(f"--out-dir {path}: cannot create it ({e.strerror})") from None
    return path


def _manifest(folder: Path) -> set[str]:
    try:
        names = json.loads((folder / MANIFEST).read_text())
        return {str(n) for n in names} if isinstance(names, list) else set()
    except (OSError, ValueError):
        return set()


def claim(folder: Path, names: list[Path], force: bool) -> None:
    """Refuse unless every file of `names` in `folder` is new, a regular file gencli wrote there, or `force`."""
    ours = _manifest(folder)
    for rel in names:
        target = folder / rel
        check_replaceable(target)
        if target.exists() and not force and str(rel) not in ours:
            raise GencliError(
                f"{target}: exists and was not written by gencli; use --force to replace it, or another output folder"
            )


def record(folder: Path, names: list[Path]) -> None:
    """Note in the folder's manifest that gencli wrote these files (so that a later run may replace them)."""
    merged = sorted(_manifest(folder) | {str(n) for n in names})
    write_text_atomic(folder / MANIFEST, json.dumps(merged, indent=0))


def write_figures(results: list[Result], folder: Path) -> dict[str, Path]:
    """Every figure of the results, as PNG files in `folder`."""
    from gencli.plots import draw  # matplotlib loads only when a figure is drawn

    files: dict[str, Path] = {}
    for r in results:
        files.update(draw(r, Path(folder)))
    return files


def write_outputs(results: list[Result], folder: Path, config: Any = None, force: bool = False) -> dict[str, Path]:
    """Data files, figures and (when given) the resolved config of the results, in `folder`; name -> path. A file
    there that gencli did not write is refused unless `force`; nothing is written then."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".gencli-stage-", dir=folder))
    except OSError as e:
        raise WriteFailed(f"{folder}: cannot write there ({e.strerror})") from None
    try:
        staged = write_data_files(results, stage)
        staged.update(write_figures(results, stage))
        if config is not None:
            staged["config"] = write_text_atomic(stage / "config.yaml", to_yaml(config))
        ours = _manifest(folder)
        for p in staged.values():
            target = folder / p.relative_to(stage)
            check_replaceable(target)
            if target.exists() and not force and str(p.relative_to(stage)) not in ours:
                raise GencliError(
                    f"{target}: exists and was not written by gencli; use --force to replace it, or another --out-dir"
                )
        files = {}
        for key, p in staged.items():
            rel = p.relative_to(stage)
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(p, folder / rel)
            files[key] = folder / rel
        record(folder, [p.relative_to(folder) for p in files.values()])
        return files
    except OSError as e:
        raise WriteFailed(f"{folder}: cannot write there ({e.strerror}); nothing was replaced") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def merged_dict(results: list[Result], files: dict[str, Path] | None = None) -> dict:
    """One JSON object for several results: each result's keys, then `files`."""
    out: dict = {}
    for r in results:
        out.update(r.to_dict())
    if files is not None:
        out["files"] = files
    return out
