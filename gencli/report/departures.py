"""Where the report's runs differ from the course exercise: each departure, why, and where the exercise's own
setting is shown. Computed by comparing the resolved configs with the exercise's values."""

from __future__ import annotations

from dataclasses import dataclass

from gencli.core.results import Table


@dataclass
class Departure:
    what: str
    exercise: str
    here: str
    why: str
    shown: str


# (config, dotted key) -> (the exercise's value, why the default differs, where the exercise's setting is shown)
EXERCISE: dict[tuple[str, str], tuple[object, str, str]] = {
    ("diffusion", "sample.start"): (
        "standard", "sigma_max = 1 is small next to the data's spread, so an N(0, I) start piles samples into the centre; "
        "N(mean, (1 + var) I) matches the noised data at t = 1", "U3, U4, C3, C4 (the standard-start rows)"),
    ("diffusion", "train.lr"): (1e-3, "chosen by measurement with the weight average below", "configs/diffusion-exercise.yaml"),
    ("diffusion", "train.ema"): (0.0, "sampling from a moving average of the weights smooths the last epochs' noise",
                                 "configs/diffusion-exercise.yaml"),
    ("diffusion-cond", "train.epochs"): (3000, "more epochs raise the own-cell fraction", "C5's numbers"),
    ("diffusion-cond", "train.lr"): (1e-3, "chosen by measurement", "configs/diffusion-exercise.yaml"),
    ("diffusion-cond", "train.class_dropout"): (0.0, "a null class lets the same network guide itself (C7)", "C7 at W = 0"),
    ("lm", "tokenizer.vocab_size"): (2048, "the best validation bits per byte in a leak-free search", "configs/lm-exercise.yaml"),
    ("lm", "model.dropout"): (0.1, "the mini model overfits Alice within 500 steps at 0.1", "configs/lm-exercise.yaml"),
    ("lm", "model.attn_dropout"): (0.1, "as model.dropout", "configs/lm-exercise.yaml"),
    ("lm", "model.attn_dropout_mode"): ("weights", "dropping whole keys per head regularizes as well (docs/defaults.md) "
                                        "for 1/64 of the random numbers", "configs/lm-exercise.yaml"),
    ("lm", "train.weight_decay"): (0.1, "chosen by measurement against overfitting", "configs/lm-exercise.yaml"),
    ("lm", "model.tie_weights"): (False, "sharing the embedding with the head halves the parameters that can overfit",
                                  "configs/lm-exercise.yaml"),
    ("lm", "train.lr_schedule"): ("constant", "a cosine decay ends training at a low rate instead of at the peak",
                                  "configs/lm-exercise.yaml"),
    ("lm", "train.warmup_iters"): (0, "a short warmup steadies the first steps of AdamW", "configs/lm-exercise.yaml"),
}


def _get(cfg: dict, dotted: str):
    for part in dotted.split("."):
        cfg = cfg[part]
    return cfg


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def departures(settings: dict, lm_numbers: dict | None = None, inversion: dict | None = None) -> list[Departure]:
    """Every departure of the resolved configs in `settings` (report settings: "diffusion", "diffusion-cond", "lm"),
    and of the analyses (which LM weights they use, the inversion's loss)."""
    out = []
    for (name, key), (value, why, shown) in EXERCISE.items():
        here = _get(settings[name], key)
        if here != value:
            out.append(Departure(f"{name}: {key}", _fmt(value), _fmt(here), why, shown))
    m = lm_numbers or {}
    if m.get("best_step") and m.get("steps") and m["best_step"] != m["steps"]:
        out.append(Departure("lm: weights used by L2-L5", f"the last (step {m['steps']})", f"the best by validation (step "
                             f"{m['best_step']})", "validation loss is lowest there; later steps overfit", "L1's curves"))
    if inversion and (inversion.get("loss") != "ce" or inversion.get("restarts", 1) != 1):
        out.append(Departure("L2: inversion loss", "cross-entropy, one start", f"{inversion['loss']} loss, "
                             f"{inversion['restarts']} starts at once", "the margin loss stops pushing positions already "
                             "right; cross-entropy stalled on small models", "gencli lm invert --loss ce --restarts 1"))
    return out


def departures_table(rows: list[Departure]) -> Table:
    return Table("where this report differs from the exercise", [("setting", ""), ("exercise", ""), ("here", ""), ("why", ""),
                                                                  ("the exercise's setting is shown in", "")],
                 [(d.what, d.exercise, d.here, d.why, d.shown) for d in rows])


def departures_finding(rows: list[Departure]) -> str:
    if not rows:
        return "Every setting is the exercise's own."
    return (f"{len(rows)} settings differ from the exercise; each row says why and where the exercise's own setting "
            "can be seen or run.")


DEPARTURES_TITLE = "Where this differs from the exercise"
DEPARTURES_QUESTION = ("Which settings of this report are not the exercise's own, why, and where can the exercise's "
                       "setting be seen?")
