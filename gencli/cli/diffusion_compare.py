"""`gencli diffusion compare`: models of one set (a VE-SDE and flows) sampled at equal network evaluations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gencli.cli import console
from gencli.cli.diffusion_options import NOpt
from gencli.cli.options import DeviceOpt, ForceOutOpt, JsonOpt, OutDirOpt, seed_in_range
from gencli.cli.parsing import parse_int_list
from gencli.core.lazy import lazy_module
from gencli.core.outputs import output_dir, write_outputs
from gencli.core.paths import run_dir

analyses = lazy_module("gencli.diffusion.analyses")
devices = lazy_module("gencli.core.device")
store = lazy_module("gencli.diffusion.model.store")

EVALUATIONS = "1,2,4,8,16,32,64,128"


def compare(
    ckpt: Annotated[
        list[Path],
        typer.Option("--ckpt", help="A checkpoint directory (repeat: two or more models of one set)."),
    ],
    n: NOpt = 2000,
    seed: Annotated[int, typer.Option("--seed", callback=seed_in_range, help="Seed of the noise.")] = 0,
    evaluations: Annotated[
        str, typer.Option("--evaluations", help="Budgets of network evaluations, e.g. 1,2,4,8,16,32,64,128.")
    ] = EVALUATIONS,
    likelihood_points: Annotated[
        int,
        typer.Option(
            "--likelihood-points",
            help="Fresh data points over which each unconditional model's exact log p is averaged (0: none).",
            min=0,
        ),
    ] = 500,
    out_dir: OutDirOpt = None,
    force: ForceOutOpt = False,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Diffusion or flow? Sample each model at equal network evaluations with each sampler that applies to it.

    Per model, sampler and budget E (a heun or midpoint step costs 2 evaluations): n samples from one seed, TV of a
    10x10 histogram against fresh data over its noise floor, k-NN precision and recall (conditional: the share in
    its own region). Per model: training seconds, the straightness of its Euler paths (length over end-to-end
    distance, 1 is straight), and where the set's density is known the exact log p over fresh points beside the
    truth's. Writes compare.csv and compare.png.

    Example: gencli diffusion compare --ckpt checkpoints/diffusion --ckpt runs/flow-ot
    """
    budgets = parse_int_list(evaluations, "--evaluations")
    dev = devices.resolve_device(device)
    models = [store.load_trained(p, dev) for p in ckpt]
    total = analyses.comparison_size(models, budgets)
    with console.progress(total, f"sampling {len(models)} models") as advance:
        result = analyses.objective_comparison(
            models, n, seed, budgets, likelihood_points, on_row=lambda i: advance(completed=i)
        )
    out = output_dir(out_dir, run_dir("diffusion", "compare"))
    console.show([result], write_outputs([result], out, None, force), json_)
