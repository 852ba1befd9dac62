"""Diffusion or flow? The VE-SDE beside flow matching (plain and with minibatch-OT pairs) on the square and one other
set, sampled at equal network evaluations."""

from __future__ import annotations

from gencli.cli.invocation import command_line
from gencli.diffusion import analyses
from gencli.report.page import Figure, Section
from gencli.report.registry import Context, SectionSpec, section


@section(
    "F1",
    "F1 · Diffusion or flow?",
    "Trained on the same points, does a flow-matching model (straight paths from N(0, I), with or without minibatch "
    "optimal-transport pairs) need fewer network evaluations than the VE-SDE for the same sample quality, how "
    "straight are the paths each samples along, what does each cost to train, and which fits the density closer?",
    "flow",
)
def f1(spec: SectionSpec, c: Context) -> Section:
    f = c.cfg.flow
    figures, tables, findings, commands, numbers = [], [], [], [], {}
    for name, models in c.models["flow"].items():
        result = analyses.objective_comparison(models, f.n_samples, 0, f.evaluations, f.likelihood_points)
        files = c.files(spec.id, [result], sub=name)
        figures.append(
            Figure(f"{name}: TV over its floor, precision and recall against network evaluations", files[result.FIGURE])
        )
        tables += result.tables()
        findings.append(result.finding())
        numbers[name] = result.to_dict()
        paths = [m.checkpoint.path for m in models]
        for m in models:
            if m.cfg.is_flow:
                commands.append(
                    command_line(
                        "diffusion train",
                        data=name,
                        objective=m.cfg.model.objective,
                        ckpt=m.checkpoint.path,
                        epochs=m.cfg.train.epochs,
                    )
                )
        commands.append(
            command_line(
                "diffusion compare",
                ckpt=paths,
                n=f.n_samples,
                evaluations=f.evaluations,
                likelihood_points=f.likelihood_points,
            )
        )
    return Section(spec.id, spec.title, figures, tables, " ".join(findings), commands, numbers, question=spec.question)
