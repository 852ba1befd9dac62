"""The report's text: the sections in order, the question each answers, and the C2 explanation built from a config."""

from __future__ import annotations

from torch import nn

from gencli.diffusion.config import BONUS_TARGET
from gencli.results import Table

_TARGET = f"({BONUS_TARGET[0]:g}, {BONUS_TARGET[1]:g})"

SECTION_TITLES = {
    "departures": "Where this differs from the exercise",
    "U1": "U1 · The forward process of one point",
    "U2": "U2 · Training loss",
    "U3": "U3 · Nine seeds",
    "U4": "U4 · Number of sampling steps",
    "U5": "U5 · Samplers and sigma schedules",
    "U6": "U6 · Determinism",
    "C1": "C1 · Training data by class",
    "C2": "C2 · How the class enters the network",
    "C3": "C3 · One point per class",
    "C4": "C4 · Samples by class",
    "C5": "C5 · Per-class numbers",
    "C6": "C6 · Probability estimates",
    "C7": "C7 · Classifier-free guidance",
    "bonus": f"Bonus · Steering the sampler to {_TARGET}",
    "L1": "L1 · Language-model training",
    "L2": "L2 · Inversion: input vectors for a target sentence",
    "L3": "L3 · Attention of the last block",
    "L4": "L4 · First block beside the last",
    "L5": "L5 · Log-probability of a sampled sentence",
}

QUESTIONS = {
    "departures": "Which settings of this report are not the exercise's own, why, and where can the exercise's setting be seen?",
    "U1": "How does one point, starting outside the square, move under x_t = x_0 + sigma(t) eps, sigma(t) = exp(5 (t - 1))?",
    "U2": "Does the denoiser's eps-prediction loss go down over training?",
    "U3": "What do nine samplings of the same model with nine different seeds look like?",
    "U4": "How does sample quality depend on the number of reverse steps T?",
    "U5": "How do other samplers and time grids compare with the exercise's Euler steps on a uniform grid, and where "
          "does each grid place its sigmas?",
    "U6": "Does the same input noise give the same output every time? And with noise injected in each step?",
    "C1": "What does the class-labelled training data look like?",
    "C2": "How does the class enter the network, and which equations change?",
    "C3": "Sampling one point per class: does each end in its own region?",
    "C4": "Samples drawn for every class, coloured by the class they were drawn for.",
    "C5": "Per class: what fraction of the samples lands in its own region, and how does their spread compare with the data's?",
    "C6": "What lower bound on log p does the model give to points inside and outside the square, and to one place "
          "under the matching class and a wrong one?",
    "C7": "How much class fidelity does classifier-free guidance buy, and at what cost in diversity within each class?",
    "bonus": f"Can the frozen model be made to output the point {_TARGET}, far outside the square, by optimising what goes "
             "into the sampler?",
    "L1": "How do the train and validation losses evolve, and where is validation best?",
    "L2": "Which input vectors, fed in place of the token embeddings, make the model's greedy prediction at every "
          "position spell \"I am a little squirrel holding a walnut\"?",
    "L3": "When the model writes the 12th word of a sentence it continues, where does the last block attend?",
    "L4": "The same for the first block, beside the last.",
    "L5": "What is the log-probability of a sampled sentence, as the sum of per-token log-probabilities?",
}

EXERCISE_DIFFUSION = {"hidden": "2-3 layers (width not fixed)", "lr": 1e-3, "epochs": 3000, "class_dropout": 0.0}


def c2_prose(cfg) -> str:
    """C2: how the class enters this checkpoint's network and which equations change, from its config."""
    k, m, t = cfg.n_classes, cfg.model, cfg.train
    rows = k + (1 if cfg.null_class else 0)
    null = (f" plus one more row, index {k}, the null class: with probability {t.class_dropout:g} a training point's class "
            f"is replaced by it, so the same network also learns the unconditional eps (classifier-free guidance, C7)"
            if cfg.null_class else "")
    layers = " -> ".join(["(3 + " + str(m.class_dim) + ")"] + [str(m.hidden)] * (m.n_layers - 1) + ["2"])
    return f"""The class c (an integer 0..{k - 1}, the cell of a {cfg.data.grid_rows}x{cfg.data.grid_cols} grid, c = {cfg.data.grid_cols} * row + col)
is looked up in an `nn.Embedding({rows}, {m.class_dim})`: one learned vector of {m.class_dim} numbers per class{null}. That
vector is concatenated with the noisy point x_t (2 numbers) and the time t (1 number), and the first fully connected
layer mixes all of them, so every hidden unit can depend on the class. The layers are {layers} with LeakyReLU between
them (the table lists them); this checkpoint trained {t.epochs} full-batch epochs at learning rate {t.lr:g}. The
unconditional model's first layer takes 3 numbers instead of {3 + m.class_dim}.

Only the denoiser gains an argument: D(x_t, t) becomes D(x_t, t, c). The forward process x_t = x_0 + sigma(t) eps
does not involve c. The loss stays the mean squared error ||D(x_t, t, c) - eps||^2, each training point with its own
class. The denoised estimate x0_hat = z - sigma(t) D(z, t, c), the score (x0_hat - z) / sigma(t)^2 (now the score
of p(x_t | c)) and the reverse step dz = -sigma'(t) sigma(t) score dt keep their form with D(z, t, c) in them. The
probability estimate becomes a lower bound on log p(x | c), so the same place scores differently under different
classes (C6). {"The matched start draws z(1) from N(mean_c, (1 + var_c) I), the class's own mean and variance." if
cfg.sample.start == "matched" else "The start is the exercise's N(0, I) for every class."}
"""


def network_table(model: nn.Module) -> Table:
    """The layers of a denoiser with their shapes and parameter counts."""
    rows = []
    for name, module in model.named_modules():
        if isinstance(module, (nn.Linear, nn.Embedding)):
            shape = (f"{module.in_features} -> {module.out_features}" if isinstance(module, nn.Linear)
                     else f"{module.num_embeddings} classes -> {module.embedding_dim}")
            rows.append((name, type(module).__name__, shape, sum(p.numel() for p in module.parameters())))
        elif isinstance(module, nn.LeakyReLU):
            rows.append((name, "LeakyReLU", "", 0))
    return Table("the conditional denoiser's layers", [("module", ""), ("kind", ""), ("shape", ""), ("parameters", "d")], rows)
