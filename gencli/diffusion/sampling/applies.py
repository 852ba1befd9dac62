"""Which sampling settings apply to a model's objective: a flow has its own samplers, the uniform grid only (the
Karras grid is spaced in the VE-SDE's sigma) and the source it was trained from as its start."""

from __future__ import annotations

from gencli.core.errors import ParameterError
from gencli.diffusion.sampling.steps import sampler_names, samplers_for


def check_applies(objective: str, sampler: str | None = None, schedule: str | None = None, start: str | None = None):
    """Refuse, in one line, a sampler, time grid or start that a model trained with `objective` cannot use."""
    flow = objective != "vesde"
    kind = f"a flow model ({objective})" if flow else "a VE-SDE model"
    if sampler is not None and sampler not in samplers_for(objective):
        raise ParameterError(
            "sampler", f"does not apply to {kind}; use one of {sampler_names(objective=objective)}", sampler
        )
    if flow and schedule not in (None, "uniform"):
        raise ParameterError(
            "schedule", f"is spaced in the VE-SDE's sigma; {kind} samples on the uniform grid", schedule
        )
    if flow and start not in (None, "standard"):
        raise ParameterError(
            "start", f"does not apply to {kind}: it starts from the N(0, I) it was trained from (standard)", start
        )


def check_sample_config(objective: str, sc) -> None:
    """check_applies for a SampleConfig's sampler, schedule and start."""
    check_applies(objective, sc.sampler, sc.schedule, sc.start)
