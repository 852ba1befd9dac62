"""The bonus: inverting the sampler, so that the frozen unconditional model outputs a point far outside the data."""

from __future__ import annotations

from gencli.cli.invocation import command_line
from gencli.diffusion import analyses
from gencli.report.page import Section
from gencli.report.registry import Context, SectionSpec, section


@section(
    "bonus",
    "Bonus · Inverting the sampler to reach a point far outside the data",
    "Can the frozen model be made to output a point far outside the data ((4, 5.5) for the exercise's square), by "
    "optimising what goes into the sampler?",
    "diffusion",
)
def bonus(spec: SectionSpec, c: Context) -> Section:
    d, m = c.cfg.diffusion, c.models["diffusion"]
    target = m.dataset.far_target()
    text = f"({target[0]:g}, {target[1]:g})"
    inversion = analyses.invert_to_target(m, target, None, "sde", d.invert_steps, d.invert_iterations)
    return c.section(
        spec,
        [inversion],
        [
            (inversion.FIGURE, f"the inverted sampler's trajectory to {text}"),
            (inversion.LOSS_FIGURE, "distance to the target per Adam step"),
        ],
        [
            command_line(
                "diffusion invert",
                ckpt=c.paths["diffusion"],
                target=target,
                iterations=d.invert_iterations,
                steps=d.invert_steps,
            )
        ],
        config=m.cfg,
    )
