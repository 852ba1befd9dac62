"""Your own points: a CSV file with the columns x, y and an optional integer label (as `diffusion sample` writes).

The file is read as a regular file only, within a size bound, and checked row by row: every problem is one line
naming the file, the line and the column. Its points are split, by a seeded permutation, into training points and
held-out points, so that quality is measured on points the model never saw.
"""

from __future__ import annotations

import csv
import io
import math
import stat
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from gencli.core.errors import GencliError
from gencli.diffusion.datasets.base import Dataset, Region, _padded_box

MAX_FILE_BYTES = 256 << 20  # a points file larger than this is refused before it is read
MAX_POINTS = 4_000_000
MIN_TRAIN, MIN_HELD_OUT = 16, 8


class PointsFileError(GencliError):
    """A points file that is missing, not a CSV, or holds something that is not a finite point or integer label."""


def _open_regular(path: Path, what: str) -> bytes:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise PointsFileError(
            f"{what} {path}: no such file (a built-in set or a .csv file of x,y[,label] rows)"
        ) from None
    except OSError as e:
        raise PointsFileError(f"{what} {path}: cannot read it ({e.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise PointsFileError(f"{what} {path}: not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise PointsFileError(f"{what} {path}: {info.st_size:,} bytes; a points file is at most {MAX_FILE_BYTES:,}")
    try:
        with open(path, "rb") as f:
            return f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise PointsFileError(f"{what} {path}: cannot read it ({e.strerror})") from None


def read_points(path: Path, what: str = "--data") -> tuple[Tensor, Tensor | None]:
    """The points (N, 2) and labels (N,) (None without a label column) of a CSV file with a header row naming
    x, y and optionally label (other columns are ignored)."""
    path = Path(path)
    raw = _open_regular(path, what)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PointsFileError(f"{what} {path}: not UTF-8 text (a CSV with a header x,y[,label])") from None
    if "\0" in text:
        raise PointsFileError(f"{what} {path}: not a CSV file (it holds NUL bytes)")
    rows = csv.reader(io.StringIO(text))
    try:
        header = next(rows, None)
    except csv.Error as e:
        raise PointsFileError(f"{what} {path}: not a CSV file ({e})") from None
    if not header:
        raise PointsFileError(f"{what} {path}: empty; expected a header x,y[,label] and one point per row")
    names = [h.strip().lower() for h in header]
    missing = [c for c in ("x", "y") if c not in names]
    if missing:
        shown = ",".join(header)[:60]
        raise PointsFileError(
            f"{what} {path}: no column {' or '.join(missing)} in the header {shown!r} (expected x,y[,label])"
        )
    ix, iy = names.index("x"), names.index("y")
    il = names.index("label") if "label" in names else None
    xs, labels = [], []
    try:
        for line, row in enumerate(rows, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise PointsFileError(f"{what} {path}: line {line} has {len(row)} fields, the header {len(header)}")
            try:
                x, y = float(row[ix]), float(row[iy])
            except ValueError:
                bad = row[ix] if not _is_float(row[ix]) else row[iy]
                raise PointsFileError(f"{what} {path}: line {line}: {bad[:40]!r} is not a number") from None
            if not (math.isfinite(x) and math.isfinite(y)):
                raise PointsFileError(f"{what} {path}: line {line}: the point ({row[ix]}, {row[iy]}) is not finite")
            xs.append((x, y))
            if il is not None:
                try:
                    labels.append(int(row[il].strip()))
                except ValueError:
                    raise PointsFileError(
                        f"{what} {path}: line {line}: label {row[il][:40]!r} is not an integer"
                    ) from None
            if len(xs) > MAX_POINTS:
                raise PointsFileError(f"{what} {path}: more than {MAX_POINTS:,} points")
    except csv.Error as e:
        raise PointsFileError(f"{what} {path}: not a CSV file ({e})") from None
    points = torch.tensor(xs, dtype=torch.float32).reshape(-1, 2)
    if il is None:
        return points, None
    lab = torch.tensor(labels, dtype=torch.long)
    if len(lab) and lab.min() < 0:
        raise PointsFileError(f"{what} {path}: labels must be 0, 1, 2, ...; found {int(lab.min())}")
    counts = torch.bincount(lab) if len(lab) else torch.zeros(0)
    empty = [c for c, k in enumerate(counts.tolist()) if k == 0]
    if empty:
        raise PointsFileError(
            f"{what} {path}: labels must be 0..{len(counts) - 1} with every class present; "
            f"class {empty[0]} has no points"
        )
    return points, lab


def _is_float(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def write_points(points: Tensor, labels: Tensor | None) -> bytes:
    """The CSV text (x,y[,label], full precision) of points, as a checkpoint keeps them."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["x", "y"] + (["label"] if labels is not None else []))
    for i, (x, y) in enumerate(points.tolist()):
        w.writerow([repr(x), repr(y)] + ([int(labels[i])] if labels is not None else []))
    return buf.getvalue().encode("utf-8")


class PointCloud(Dataset):
    """The points of a file, split by a seeded permutation into training points and held-out points."""

    name = "points"
    region = Region("label", "labels")
    support = "the data (within its 5-NN radius)"

    def __init__(self, points: Tensor, labels: Tensor | None, source: str, holdout: float = 0.1, seed: int = 0):
        n = len(points)
        held = max(MIN_HELD_OUT, round(holdout * n))
        if n - held < MIN_TRAIN:
            raise PointsFileError(
                f"--data {source}: {n} points; at least {MIN_TRAIN + MIN_HELD_OUT} are needed "
                f"({MIN_TRAIN} to train on and {MIN_HELD_OUT} held out)"
            )
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
        self.points, self.labels, self.source = points, labels, source
        self.held_idx, self.train_idx = order[:held], order[held:]
        self.n_classes = int(labels.max()) + 1 if labels is not None else 0
        self.title = f"the {n:,} points of {Path(source).name}"

    @classmethod
    def from_file(
        cls, path: Path, holdout: float = 0.1, seed: int = 0, source: str | None = None, what: str = "--data"
    ) -> PointCloud:
        points, labels = read_points(Path(path), what)
        return cls(points, labels, source or str(path), holdout, seed)

    def _take(self, idx: Tensor) -> tuple[Tensor, Tensor | None]:
        return self.points[idx], (self.labels[idx] if self.labels is not None else None)

    def draw(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor | None]:
        """n of the training points, drawn with replacement."""
        return self._take(self.train_idx[torch.randint(len(self.train_idx), (n,), generator=generator)])

    def training_points(self, n: int, seed: int) -> tuple[Tensor, Tensor | None]:
        return self._take(self.train_idx)

    def reference_points(self, n: int, seed: int = 0) -> tuple[Tensor, Tensor | None]:
        return self._take(self.held_idx[:n])

    def floor_pairs(self, n: int, m: int, repeats: int = 8):
        held = self.points[self.held_idx[:m]]
        for r in range(repeats):
            pick = torch.randperm(len(self.train_idx), generator=torch.Generator().manual_seed(1000 + r))[:n]
            yield self.points[self.train_idx[pick]], held

    def of_class(self, klass: int) -> PointCloud:
        """The points of label `klass` alone, with the same split."""
        if self.labels is None:
            raise GencliError("--class: the points have no labels")
        sub = PointCloud.__new__(PointCloud)
        keep = self.labels == klass
        sub.points, sub.labels, sub.source, sub.n_classes = self.points, self.labels, self.source, self.n_classes
        sub.train_idx, sub.held_idx = self.train_idx[keep[self.train_idx]], self.held_idx[keep[self.held_idx]]
        sub.title, sub.support = f"label {klass} of {self.title}", f"label {klass}'s points"
        return sub

    def class_weights(self) -> np.ndarray:
        """The share of the file's points with each label."""
        if self.labels is None:
            return np.zeros(0)
        counts = np.bincount(self.labels.numpy(), minlength=self.n_classes).astype(float)
        return counts / counts.sum()

    def labelled_points(self) -> tuple[Tensor, Tensor | None]:
        """Every point of the file with its label: what a sample's nearest point is looked up in."""
        return self.points, self.labels

    @property
    def own_rule(self) -> str:
        return "lie nearest a point of the file with their own label"

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return _padded_box(self.points.numpy())

    def describe(self, n: int) -> str:
        held = len(self.held_idx)
        classes = f"; {self.n_classes} classes (the file's labels)" if self.n_classes else ""
        return (
            f"{len(self.points):,} points of {Path(self.source).name}: {len(self.train_idx):,} to train on and "
            f"{held:,} held out to measure the samples against{classes}"
        )
