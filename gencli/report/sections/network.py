"""C2's answer: how the class enters the network, written from a checkpoint's config, and its table of layers."""

from __future__ import annotations

from torch import nn

from gencli.core.results import Table


def c2_prose(cfg, dataset) -> str:
    """C2: how the class enters this checkpoint's network and which equations change, from its config and its set."""
    k, m, tr = cfg.n_classes, cfg.model, cfg.train
    rows = k + (1 if cfg.null_class else 0)
    null = (
        f" plus one more row, index {k}, the null class: with probability {tr.class_dropout:g} a training point's "
        "class is replaced by it, so the same network also learns the unconditional eps (classifier-free "
        "guidance, C7)"
        if cfg.null_class
        else ""
    )
    point = 2 + 2 * m.fourier
    features = f" with {m.fourier} random Fourier features of it (sin and cos of each)" if m.fourier else ""
    layers = " -> ".join([f"({point + 1} + {m.class_dim})"] + [str(m.hidden)] * (m.n_layers - 1) + ["2"])
    if dataset.name == "square":
        what = f"the cell of a {cfg.data.grid_rows}x{cfg.data.grid_cols} grid, c = {cfg.data.grid_cols} * row + col"
    else:
        what = f"a {dataset.region.name} of {dataset.title}"
    steps = f"{tr.epochs} full-batch epochs" if tr.batch_size == 0 else f"{tr.epochs} steps of {tr.batch_size} points"
    start = (
        "The matched start draws z(1) from N(mean_c, (1 + var_c) I), the class's own mean and variance."
        if cfg.sample.start == "matched"
        else "The start is the exercise's N(0, I) for every class."
    )
    return (
        f"The class c (an integer 0..{k - 1}, {what}) is looked up in an `nn.Embedding({rows}, {m.class_dim})`: one "
        f"learned vector of {m.class_dim} numbers per class{null}. That vector is concatenated with the noisy point "
        f"x_t (2 numbers{features}) and the time t (1 number), and the first fully connected layer mixes all of them, "
        f"so every hidden unit can depend on the class. The layers are {layers} with LeakyReLU between them (the table "
        f"lists them); this checkpoint trained {steps} at learning rate {tr.lr:g}. The unconditional model's first "
        f"layer takes {point + 1} numbers instead of {point + 1 + m.class_dim}.\n\n"
        "Only the denoiser gains an argument: D(x_t, t) becomes D(x_t, t, c). The forward process x_t = x_0 + sigma(t) "
        "eps does not involve c. The loss stays the mean squared error ||D(x_t, t, c) - eps||^2, each training point "
        "with its own class. The denoised estimate x0_hat = z - sigma(t) D(z, t, c), the score (x0_hat - z) / "
        "sigma(t)^2 (now the score of p(x_t | c)) and the reverse step dz = -sigma'(t) sigma(t) score dt keep their "
        "form with D(z, t, c) in them. The probability estimate becomes a lower bound on log p(x | c), so the same "
        f"place scores differently under different classes (C6). {start}\n"
    )


def network_table(model: nn.Module) -> Table:
    """The layers of a denoiser with their shapes and parameter counts."""
    rows = []
    for name, module in model.named_modules():
        if isinstance(module, (nn.Linear, nn.Embedding)):
            shape = (
                f"{module.in_features} -> {module.out_features}"
                if isinstance(module, nn.Linear)
                else f"{module.num_embeddings} classes -> {module.embedding_dim}"
            )
            rows.append((name, type(module).__name__, shape, sum(p.numel() for p in module.parameters())))
        elif isinstance(module, nn.LeakyReLU):
            rows.append((name, "LeakyReLU", "", 0))
    return Table(
        "the conditional denoiser's layers", [("module", ""), ("kind", ""), ("shape", ""), ("parameters", "d")], rows
    )
