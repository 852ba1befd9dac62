"""The bonus: inverting the sampler, so that the frozen unconditional model outputs a point far outside the square."""

from __future__ import annotations

from gencli.cli.invocation import command_line
from gencli.diffusion import analyses
from gencli.diffusion.config import BONUS_TARGET
from gencli.report.page import Section
from gencli.report.registry import Context, SectionSpec, section

TARGET_TEXT = f"({BONUS_TARGET[0]:g}, {BONUS_TARGET[1]:g})"


@section(
    "bonus",
    f"Bonus · Inverting the sampler to reach {TARGET_TEXT}",
    f"Can the frozen model be made to output the point "
    f"{TARGET_TEXT}, far outside the square, by optimising what goes into the sampler?",
    "diffusion",
)
def bonus(spec: SectionSpec, c: Context) -> Section:
    d, m = c.cfg.diffusion, c.models["diffusion"]
    inversion = analyses.invert_to_target(m, BONUS_TARGET, None, "sde", d.invert_steps, d.invert_iterations)
    return c.section(
        spec,
        [inversion],
        [
            (inversion.FIGURE, f"the inverted sampler's trajectory to {TARGET_TEXT}"),
            (inversion.LOSS_FIGURE, "distance to the target per Adam step"),
        ],
        [
            command_line(
                "diffusion invert",
                ckpt=c.paths["diffusion"],
                target=BONUS_TARGET,
                iterations=d.invert_iterations,
                steps=d.invert_steps,
            )
        ],
        config=m.cfg,
    )
