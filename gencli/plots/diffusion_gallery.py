"""The figure of other distributions: one row per set, its data beside a trained model's samples."""

from __future__ import annotations

from pathlib import Path

from gencli.diffusion.results import Gallery
from gencli.plots.common import plt, save, wrap
from gencli.plots.figures import draw
from gencli.plots.scatter import outline, scatter_points, set_axes


@draw.register
def _(r: Gallery, folder: Path) -> dict[str, Path]:
    if not r.rows:
        return {}
    rows = len(r.rows)
    fig, axes = plt.subplots(rows, 2, figsize=(6.6, 3.2 * rows), squeeze=False)
    for (a, b), row in zip(axes, r.rows):
        q = row.quality
        for ax, pts, name in (
            (a, row.data, f"{row.view.name}: training data"),
            (b, row.samples, f"samples: TV {q.ratio:.2f}x floor, P {q.precision:.2f}, R {q.recall:.2f}"),
        ):
            scatter_points(ax, pts, None, 0)
            outline(ax, row.view)
            set_axes(ax, row.view.limits, name)
    fig.suptitle(wrap("each built-in set (rows): the data (left) and its model's samples (right)", 70))
    fig.tight_layout()
    return {r.FIGURE: save(fig, folder / "gallery.png")}
