"""Beyond the course: other distributions, a model per built-in set, measured against its own data."""

from __future__ import annotations

from gencli.cli.invocation import command_line
from gencli.diffusion import analyses
from gencli.report.page import Section
from gencli.report.registry import Context, SectionSpec, section


@section(
    "D1",
    "D1 · Other distributions",
    "The same model and measures on the field's other toy sets: how close do the samples come to the data, as "
    "histogram TV against its noise floor, k-NN precision and recall, and the exact likelihood against the truth?",
    "gallery",
)
def d1(spec: SectionSpec, c: Context) -> Section:
    g, models = c.cfg.gallery, c.models["gallery"]
    gallery = analyses.distribution_gallery(models, g.n_samples, g.steps, g.likelihood_points)
    commands = []
    for name, m in models.items():
        path = m.checkpoint.path
        commands.append(command_line("diffusion train", data=name, ckpt=path, epochs=m.cfg.train.epochs))
        commands.append(command_line("diffusion sample", ckpt=path, n=g.n_samples, steps=g.steps))
    return c.section(
        spec, [gallery], [(gallery.FIGURE, "each set's data (left) and its model's samples (right)")], commands
    )
