"""The figure of "Diffusion or flow?": quality against network evaluations, one line per model and sampler."""

from __future__ import annotations

from pathlib import Path

from matplotlib.ticker import NullFormatter

from gencli.diffusion.results.comparison import ObjectiveComparison
from gencli.plots.common import plt, save, wrap
from gencli.plots.figures import draw

STYLES = {"euler": "-", "ddim": "--", "heun": "-.", "midpoint": ":", "sde": (0, (1, 3))}
MARKERS = {"euler": "o", "ddim": "s", "heun": "^", "midpoint": "v", "sde": "x"}


@draw.register
def _(r: ObjectiveComparison, folder: Path) -> dict[str, Path]:
    if not r.rows:
        return {}
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.4))
    colours = {m.label: f"C{i}" for i, m in enumerate(r.models)}
    panels = (
        ("TV / noise floor (log scale; 1 is the floor)", lambda q: q.ratio),
        ("k-NN precision", lambda q: q.precision),
        ("k-NN recall", lambda q: q.recall),
    )
    lines = {}
    for ax, (name, value) in zip(axes, panels):
        for m in r.models:
            for sampler in dict.fromkeys(row.sampler for row in r.of(m.label)):
                rows = sorted((row for row in r.of(m.label) if row.sampler == sampler), key=lambda row: row.evaluations)
                (line,) = ax.plot(
                    [row.evaluations for row in rows],
                    [value(row.quality) for row in rows],
                    color=colours[m.label],
                    linestyle=STYLES.get(sampler, "-"),
                    marker=MARKERS.get(sampler, "o"),
                    markersize=4,
                )
                lines[f"{m.label} · {sampler}"] = line
        ax.set_xscale("log", base=2)
        ax.set_xticks(r.evaluations or [1])
        ax.set_xticklabels([str(e) for e in (r.evaluations or [1])])
        ax.set_xlabel("network evaluations")
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_yscale("log")
    top = max(row.quality.ratio for row in r.rows)
    ticks = [t for t in (1, 1.25, 1.5, 2, 3, 5, 10, 20, 50, 100) if t <= max(top, 1.3) * 1.05]
    axes[0].set_yticks(ticks)
    axes[0].set_yticklabels([f"{t:g}" for t in ticks])
    axes[0].yaxis.set_minor_formatter(NullFormatter())
    axes[0].axhline(1.0, color="0.5", linewidth=0.8)
    axes[0].axhline(r.target(), color="0.3", linewidth=0.8, linestyle="--")
    axes[0].annotate(
        f"target {r.target():.2f}x", (1, r.target()), xytext=(2, 3), textcoords="offset points", fontsize=8
    )
    fig.legend(list(lines.values()), list(lines.keys()), loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.suptitle(wrap(f"{r.view.name}: sample quality at equal network evaluations ({r.n:,} samples per point)", 110))
    fig.tight_layout()
    return {r.FIGURE: save(fig, folder / "compare.png")}
