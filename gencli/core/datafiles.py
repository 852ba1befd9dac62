"""CSV files of the numbers behind each figure (and other data files of a result), written atomically."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from gencli.core.atomic import write_bytes_atomic, write_text_atomic
from gencli.core.results import DataFile, Result


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence]) -> Path:
    """Write a CSV with a header line atomically; floats keep full precision (repr)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([repr(v) if isinstance(v, float) else v for v in row])
    return write_text_atomic(path, buf.getvalue())


def write_data_file(df: DataFile, folder: Path) -> Path:
    """One data file of a result: a CSV from header and rows, or its text or bytes content."""
    path = Path(folder) / df.name
    if isinstance(df.content, bytes):
        return write_bytes_atomic(path, df.content)
    if isinstance(df.content, str):
        return write_text_atomic(path, df.content)
    return write_csv(path, df.header, df.rows)


def write_data_files(results: list[Result], folder: Path) -> dict[str, Path]:
    """Every data file of the results in `folder`, keyed by the file's key."""
    return {df.key: write_data_file(df, folder) for r in results for df in r.data_files()}


FigureWriter = Callable[[list[Result], Path], dict[str, Path]]


def result_files(results: list[Result], scratch: Path, write_figures: FigureWriter | None = None) -> dict[str, bytes]:
    """The data files and figures of results as file name -> bytes (to go into a checkpoint), made in a scratch
    folder that is removed afterwards."""
    try:
        written = write_data_files(results, scratch)
        if write_figures is not None:
            written.update(write_figures(results, scratch))
        return {p.name: p.read_bytes() for p in written.values()}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


POINT_FORMATS = (".csv", ".npy", ".json")


def points_bytes(suffix: str, points, labels=None) -> bytes:
    """2D points (N, 2) and optional labels as a file's bytes, by its suffix: .csv (x,y[,label] with a header, as
    `diffusion sample` writes it), .npy (an (N, 2) float array, or (N, 3) with the label as a third column), .json
    (a list of [x, y] or [x, y, label])."""
    import numpy as np

    pts = np.asarray(points, dtype=float)
    lab = None if labels is None else np.asarray(labels)
    if suffix == ".csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["x", "y"] + (["label"] if lab is not None else []))
        for i, (x, y) in enumerate(pts):
            w.writerow([repr(float(x)), repr(float(y))] + ([int(lab[i])] if lab is not None else []))
        return buf.getvalue().encode("utf-8")
    if suffix == ".npy":
        buf = io.BytesIO()
        np.save(buf, np.column_stack([pts, lab]) if lab is not None else pts)
        return buf.getvalue()
    if suffix == ".json":
        import json

        rows = [[float(x), float(y)] + ([int(lab[i])] if lab is not None else []) for i, (x, y) in enumerate(pts)]
        return json.dumps(rows).encode("utf-8")
    raise ValueError(f"unknown points format {suffix!r}")
