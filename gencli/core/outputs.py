"""The one place where a front end writes what an analysis produced: CSV and data files, figures, the resolved
config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gencli.core.atomic import write_text_atomic
from gencli.core.config import to_yaml
from gencli.core.datafiles import write_data_files
from gencli.core.errors import GencliError
from gencli.core.results import Result


def output_dir(path: Path | None, default: Path) -> Path:
    """The output folder (`default` when not given), created; an error when it is a file."""
    path = Path(path) if path is not None else default
    if path.exists() and not path.is_dir():
        raise GencliError(f"--out-dir {path}: exists and is not a directory")
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_figures(results: list[Result], folder: Path) -> dict[str, Path]:
    """Every figure of the results, as PNG files in `folder`."""
    from gencli.plots import draw  # matplotlib loads only when a figure is drawn

    files: dict[str, Path] = {}
    for r in results:
        files.update(draw(r, Path(folder)))
    return files


def write_outputs(results: list[Result], folder: Path, config: Any = None) -> dict[str, Path]:
    """Data files, figures and (when given) the resolved config of the results, in `folder`; name -> path."""
    files = write_data_files(results, folder)
    files.update(write_figures(results, folder))
    if config is not None:
        files["config"] = write_text_atomic(Path(folder) / "config.yaml", to_yaml(config))
    return files


def merged_dict(results: list[Result], files: dict[str, Path] | None = None) -> dict:
    """One JSON object for several results: each result's keys, then `files`."""
    out: dict = {}
    for r in results:
        out.update(r.to_dict())
    if files is not None:
        out["files"] = files
    return out
