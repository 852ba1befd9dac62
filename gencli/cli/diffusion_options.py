"""The options the diffusion commands share, defined once (typer `Annotated` aliases)."""

from __future__ import annotations

from typing import Annotated

import typer

from gencli.cli.options import count_opt
from gencli.diffusion.config import Objective, Sampler, Schedule, Start
from gencli.diffusion.datasets.catalog import names as dataset_names
from gencli.diffusion.sampling.steps import sampler_names

ConditionalOpt = Annotated[
    bool,
    typer.Option(
        "--conditional", help="Use the class-conditional model (default checkpoint checkpoints/diffusion-cond)."
    ),
]
StepsOpt = Annotated[int | None, count_opt("--steps", "Number of reverse steps T (default: config, 1000).")]
SamplerOpt = Annotated[
    Sampler | None,
    typer.Option(
        "--sampler",
        help=f"One of {sampler_names()} (euler: the exercise; stochastic: {sampler_names(True)}); a flow model: "
        f"{sampler_names(objective='flow')}.",
    ),
]
ObjectiveOpt = Annotated[
    Objective | None,
    typer.Option(
        "--objective",
        help="vesde: the exercise's eps-prediction under the VE SDE; flow: flow matching on the straight path from "
        "N(0, I) to the data (velocity prediction); flow-ot: the same with minibatch optimal-transport pairs "
        "(model.objective).",
    ),
]
ScheduleOpt = Annotated[
    Schedule | None, typer.Option("--schedule", help="Time grid: uniform (the exercise) or karras.")
]
StartOpt = Annotated[
    Start | None, typer.Option("--start", help="Initial noise: matched N(mean, (1 + var) I) or standard N(0, I).")
]
NOpt = Annotated[int, typer.Option("--n", "-n", help="Number of points.", min=1)]
GuidanceOpt = Annotated[
    float | None,
    typer.Option(
        "--guidance",
        help="Classifier-free guidance weight W >= 0 (conditional model trained with class dropout; 0: off).",
    ),
]
IntervalOpt = Annotated[
    str | None,
    typer.Option(
        "--guidance-interval", help="LO,HI: the times t in which guidance applies (sample.guidance_interval)."
    ),
]
SampleClassOpt = Annotated[
    str | None,
    typer.Option("--class", help="Sample only this class, or none: the null class, the model used unconditionally."),
]
GuidanceSweepOpt = Annotated[
    str | None,
    typer.Option(
        "--guidance-sweep", help="Also compare guidance weights, e.g. 0,1,2,4, in the interval and at every step."
    ),
]
ExerciseOpt = Annotated[
    bool, typer.Option("--exercise", help="The exercise's exact algorithm: N(0, I) start, Euler steps, uniform grid.")
]
SeedsGridOpt = Annotated[bool, typer.Option("--seeds-grid", help="Also a 3x3 grid of 9 seeds (U3).")]
StepsSweepOpt = Annotated[
    str | None, typer.Option("--steps-sweep", help="Also compare step counts, e.g. 1,5,10,50,100,1000 (U4).")
]
CompareOpt = Annotated[
    str | None,
    typer.Option(
        "--compare", help="Also compare SAMPLER/SCHEDULE pairs, e.g. euler/uniform,heun/karras,sde/uniform (U5)."
    ),
]
DataOpt = Annotated[
    str | None,
    typer.Option(
        "--data",
        help=f"The points: a built-in set ({dataset_names()}) or a CSV file of x,y[,label] rows "
        "with a header (data.name; default square, the exercise's).",
    ),
]
