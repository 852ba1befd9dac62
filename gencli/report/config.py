"""The report's typed config: the budgets of every training run and analysis (full and --quick presets)."""

from __future__ import annotations

from dataclasses import dataclass

from gencli.core.config import field
from gencli.core.errors import GencliError
from gencli.diffusion.config import sampler_pairs
from gencli.diffusion.datasets.catalog import BUILTIN
from gencli.diffusion.datasets.catalog import names as dataset_names
from gencli.lm.config import TokenizerConfig


@dataclass
class DiffusionBudget:
    """Training and analysis budgets of the diffusion half."""

    data: str = field(
        "square",
        f"the points of U1-U6, C1-C7 and the bonus: a built-in set ({dataset_names()}) or a CSV file (data.name)",
    )
    epochs: int = field(
        0,
        "training steps of the unconditional model, if its checkpoint is missing (0: the set's "
        "default, 3000 for the square)",
    )
    cond_epochs: int = field(
        0, "training steps of the conditional model, if missing (0: its default, 8000 for the square)"
    )
    n_samples: int = field(10000, "samples for the quality figures (U4, U5, C4, C5)")
    grid_points: int = field(1000, "points in each panel of the 9-seed grid (U3)")
    steps: int = field(1000, "reverse steps T of the default sampler")
    steps_sweep: list[int] = field([1, 5, 10, 50, 100, 1000], "numbers of steps compared in U4")
    compare: list[str] = field(
        ["euler/uniform", "ddim/uniform", "heun/karras", "sde/uniform"], "SAMPLER/SCHEDULE pairs of U5"
    )
    repeats: int = field(10, "runs of the same noise in U6")
    determinism_points: int = field(1000, "points per run in U6")
    prob_samples: int = field(4096, "Monte Carlo samples per point of the bound (C6)")
    density_grid: int = field(41, "points per side of C6's grid of exact log p (probability-flow ODE)")
    invert_iterations: int = field(1000, "Adam steps at most for the bonus")
    invert_steps: int = field(100, "sampler steps inverted in the bonus")
    guidance_weights: list[float] = field([0.0, 1.0, 2.0, 4.0], "classifier-free guidance weights compared in C7")

    def problems(self) -> list[str]:
        out = [
            f"{k}: must be >= 1, got {getattr(self, k)}"
            for k in (
                "n_samples",
                "grid_points",
                "steps",
                "repeats",
                "determinism_points",
                "prob_samples",
                "invert_iterations",
                "invert_steps",
                "density_grid",
            )
            if getattr(self, k) < 1
        ]
        try:
            sampler_pairs(self.compare, "compare")
        except GencliError as e:
            out.append(str(e))
        out += [
            f"{k}: must be >= 0 (0: the default), got {getattr(self, k)}"
            for k in ("epochs", "cond_epochs")
            if getattr(self, k) < 0
        ]
        if not self.steps_sweep or min(self.steps_sweep) < 1:
            out.append(f"steps_sweep: must be positive integers, got {self.steps_sweep}")
        return out


@dataclass
class LMBudget:
    """Training and analysis budgets of the language-model half."""

    corpus: str = field("alice", "a UTF-8 text file, or `alice`")
    preset: str = field("mini", "model size when the checkpoint is trained here: nano, micro or mini")
    vocab_size: int = field(TokenizerConfig().vocab_size, "BPE vocabulary when trained here")
    max_iters: int = field(2000, "training steps when trained here")
    eval_every: int = field(100, "steps between validation estimates")
    precision: str = field("auto", "numeric path of training when trained here: auto (measured), bf16 or fp32")
    invert_steps: int = field(300, "Adam steps at most for the inversion (L2)")
    prob_tokens: int = field(30, "length of the sampled sentence scored in L5")
    compress_bytes: int = field(0, "bytes of the held-out chapters that L6 codes, from their start (0: all of them)")
    prompt_steps: int = field(200, "GCG search steps per sentence for L2's real-token prompts")
    prompt_targets: list[str] = field(
        ["said the Hatter", "the Queen was very angry"],
        "sentences whose words the book has, searched besides the exercise sentence in L2",
    )

    def problems(self) -> list[str]:
        out = [
            f"{k}: must be >= 1, got {getattr(self, k)}"
            for k in ("max_iters", "eval_every", "invert_steps", "prob_tokens", "prompt_steps")
            if getattr(self, k) < 1
        ]
        if self.compress_bytes < 0:
            out.append(f"compress_bytes: must be >= 0 (0: all), got {self.compress_bytes}")
        if self.precision not in ("auto", "bf16", "fp32"):
            out.append(f"precision: must be one of auto, bf16, fp32, got {self.precision!r}")
        if self.preset not in ("nano", "micro", "mini"):
            out.append(f"preset: must be one of nano, micro, mini, got {self.preset!r}")
        return out


@dataclass
class GalleryBudget:
    """The section "Other distributions": a model per built-in set, all measured alike."""

    sets: list[str] = field(list(BUILTIN), "the built-in sets shown, one row each")
    epochs: int = field(
        4000,
        "training steps of each set's model, if its checkpoint is missing (0: each set's own "
        "default, the recipe bench/diffusion_sets.py measures)",
    )
    n_samples: int = field(2000, "samples per set, measured against as many fresh data points")
    steps: int = field(200, "reverse steps of each set's default sampler")
    likelihood_points: int = field(500, "fresh data points over which each model's exact log p is averaged (0: none)")

    def problems(self) -> list[str]:
        out = [f"sets: {s!r} is not a built-in set ({dataset_names()})" for s in self.sets if s not in BUILTIN]
        out += [f"{k}: must be >= 1, got {getattr(self, k)}" for k in ("n_samples", "steps") if getattr(self, k) < 1]
        out += [
            f"{k}: must be >= 0, got {getattr(self, k)}"
            for k in ("epochs", "likelihood_points")
            if getattr(self, k) < 0
        ]
        return out


OBJECTIVES = ("vesde", "flow", "flow-ot")


@dataclass
class FlowBudget:
    """The section "Diffusion or flow?": models of each objective on the square and one other set, sampled at equal
    network evaluations."""

    sets: list[str] = field(["square", "moons"], "the built-in sets compared, one figure each")
    objectives: list[str] = field(list(OBJECTIVES), "the objectives trained and compared on each set")
    epochs: int = field(
        0,
        "training steps of each flow model, if its checkpoint is missing (0: the square's flow default; another "
        "set: the gallery's epochs, as its VE-SDE model has)",
    )
    n_samples: int = field(2000, "samples per model, sampler and budget, measured against as many fresh points")
    evaluations: list[int] = field([1, 2, 4, 8, 16, 32, 64, 128], "budgets of network evaluations compared")
    likelihood_points: int = field(300, "fresh data points over which each model's exact log p is averaged (0: none)")

    def problems(self) -> list[str]:
        out = [f"sets: {s!r} is not a built-in set ({dataset_names()})" for s in self.sets if s not in BUILTIN]
        out += [
            f"objectives: {o!r} is not one of {', '.join(OBJECTIVES)}" for o in self.objectives if o not in OBJECTIVES
        ]
        if self.n_samples < 1:
            out.append(f"n_samples: must be >= 1, got {self.n_samples}")
        if not self.evaluations or min(self.evaluations) < 1:
            out.append(f"evaluations: must be positive integers, got {self.evaluations}")
        out += [
            f"{k}: must be >= 0, got {getattr(self, k)}"
            for k in ("epochs", "likelihood_points")
            if getattr(self, k) < 0
        ]
        return out


@dataclass
class ReportConfig:
    """What `gencli report` trains and measures."""

    diffusion: DiffusionBudget = field(DiffusionBudget(), "the diffusion half")
    lm: LMBudget = field(LMBudget(), "the language-model half")
    gallery: GalleryBudget = field(GalleryBudget(), "other distributions")
    flow: FlowBudget = field(FlowBudget(), "diffusion or flow")


QUICK = {
    "diffusion": {
        "epochs": 1000,
        "cond_epochs": 1500,
        "n_samples": 2000,
        "grid_points": 500,
        "steps": 100,
        "steps_sweep": [1, 5, 20, 100],
        "repeats": 3,
        "determinism_points": 200,
        "prob_samples": 256,
        "density_grid": 21,
        "invert_iterations": 150,
        "invert_steps": 30,
    },
    "gallery": {"epochs": 500, "n_samples": 1000, "steps": 50, "likelihood_points": 100},
    "flow": {"epochs": 300, "n_samples": 1000, "evaluations": [1, 2, 4, 8, 16, 64], "likelihood_points": 100},
    "lm": {
        "preset": "nano",
        "vocab_size": 512,
        "max_iters": 300,
        "eval_every": 100,
        "invert_steps": 300,
        "prob_tokens": 20,
        "compress_bytes": 4000,
        "prompt_steps": 30,
    },
}
