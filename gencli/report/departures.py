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


EXERCISE_SHOWN = {
    "diffusion": "configs/diffusion-exercise.yaml",
    "diffusion-cond": "configs/diffusion-exercise.yaml",
    "lm": "configs/lm-exercise.yaml",
}

# (config, dotted key) -> (why gencli's default differs from the exercise, where the exercise's own setting is shown);
# the exercise's values themselves are read from gencli/exercise/*.yaml
WHY: dict[tuple[str, str], tuple[str, str]] = {
    ("diffusion", "sample.start"): (
        "sigma_max = 1 is small next to the data's spread, so an N(0, I) start piles samples into the centre; "
        "N(mean, (1 + var) I) matches the noised data at t = 1",
        "U3, U4, C3, C4 (the standard-start rows)",
    ),
    ("diffusion", "train.lr"): ("chosen by measurement with the weight average below", ""),
    ("diffusion", "train.ema"): ("sampling from a moving average of the weights smooths the last epochs' noise", ""),
    ("diffusion-cond", "sample.start"): ("each class starts from its own N(mean_c, (1 + var_c) I), as above", "C3, C4"),
    ("diffusion-cond", "train.epochs"): ("more epochs raise the own-cell fraction", "C5's numbers"),
    ("diffusion-cond", "train.lr"): ("chosen by measurement", ""),
    ("diffusion-cond", "train.ema"): ("as for the unconditional model", ""),
    ("diffusion-cond", "train.class_dropout"): ("a null class lets the same network guide itself (C7)", "C7 at W = 0"),
    ("lm", "tokenizer.vocab_size"): ("the best validation bits per byte in a leak-free search", ""),
    ("lm", "model.dropout"): ("the mini model overfits Alice within 500 steps at 0.1", ""),
    ("lm", "model.attn_dropout"): ("as model.dropout", ""),
    ("lm", "model.attn_dropout_mode"): (
        "dropping whole keys per head regularizes as well (docs/defaults.md) for 1/64 of the random numbers",
        "",
    ),
    ("lm", "train.weight_decay"): ("chosen by measurement against overfitting", ""),
    ("lm", "model.tie_weights"): ("sharing the embedding with the head halves the parameters that can overfit", ""),
    ("lm", "train.lr_schedule"): ("a cosine decay ends training at a low rate instead of at the peak", ""),
    ("lm", "train.warmup_iters"): ("a short warmup steadies the first steps of AdamW", ""),
}


SET_WHY = (
    "the recipe of every set but the square, chosen by measurement on shapes no built-in has "
    "(docs/defaults.md, bench/diffusion_sets.py)"
)


def recipe_keys() -> set[str]:
    """The dotted keys the set recipe (any set but the square) sets."""
    from gencli.diffusion.config import SET_CONDITIONAL_DEFAULTS, SET_DEFAULTS

    return {
        f"{section}.{key}"
        for layer in (SET_DEFAULTS, SET_CONDITIONAL_DEFAULTS)
        for section, values in layer.items()
        for key in values
    }


def _get(cfg: dict, dotted: str):
    for part in dotted.split("."):
        cfg = cfg[part]
    return cfg


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def builtin_defaults(data: str = "square") -> dict[str, dict]:
    """gencli's built-in defaults of each config the report trains, as plain dicts (the conditional model's own, and
    for a set other than the square, that set's recipe)."""
    from gencli.core.config import ConfigSources, resolve, to_dict
    from gencli.diffusion.config import resolve_diffusion
    from gencli.lm.config import LMConfig

    def diffusion(conditional: bool) -> dict:
        return to_dict(
            resolve_diffusion(ConfigSources(explicit={"model.conditional": conditional or None, "data.name": data}))
        )

    return {"diffusion": diffusion(False), "diffusion-cond": diffusion(True), "lm": to_dict(resolve(LMConfig))}


def departures(
    settings: dict, lm_numbers: dict | None = None, inversion: dict | None = None, budget: str = "the report's config"
) -> list[Departure]:
    """Every setting of the resolved configs in `settings` (report settings: "diffusion", "diffusion-cond", "lm") that
    is not the exercise's (gencli/exercise/*.yaml), and the analyses' own departures (which LM weights they use, the
    inversion's loss). A value that is gencli's default says why that default was chosen; any other value was set by
    `budget` (the report's --quick preset, or its config) and says so."""
    from gencli.exercise import exercise_values

    data = settings.get("diffusion", {}).get("data", {}).get("name", "square")
    defaults = builtin_defaults(data)
    out = []
    for name, kind in (("diffusion", "diffusion"), ("diffusion-cond", "diffusion"), ("lm", "lm")):
        if name not in settings:
            continue
        for key, value in exercise_values(kind).items():
            here = _get(settings[name], key)
            if here == value:
                continue
            default = _get(defaults[name], key)
            if key == "data.name":
                why, shown = f"the report's diffusion.data ({_fmt(here)})", "gencli report with diffusion.data=square"
            elif here == default:
                set_recipe = kind == "diffusion" and data != "square" and key in recipe_keys()
                why, shown = (SET_WHY, "") if set_recipe else WHY.get((name, key), ("gencli's default", ""))
            else:
                direction = (
                    ("fewer" if here < value else "more")
                    if isinstance(value, (int, float)) and not isinstance(value, bool)
                    else "another value"
                )
                why, shown = f"set by {budget} ({direction} than the exercise; gencli's default is {_fmt(default)})", ""
            out.append(Departure(f"{name}: {key}", _fmt(value), _fmt(here), why, shown or EXERCISE_SHOWN[name]))
    m = lm_numbers or {}
    if m.get("best_step") and m.get("steps") and m["best_step"] != m["steps"]:
        out.append(
            Departure(
                "lm: weights used by L2-L5",
                f"the last (step {m['steps']})",
                f"the best by validation (step {m['best_step']})",
                "validation loss is lowest there; later steps overfit",
                "L1's curves",
            )
        )
    if inversion and (inversion.get("loss") != "ce" or inversion.get("restarts", 1) != 1):
        out.append(
            Departure(
                "L2: inversion loss",
                "cross-entropy, one start",
                f"{inversion['loss']} loss, {inversion['restarts']} starts at once",
                "the margin loss stops pushing positions already right; cross-entropy stalled on small models",
                "gencli lm invert --loss ce --restarts 1",
            )
        )
    return out


def departures_table(rows: list[Departure]) -> Table:
    return Table(
        "where this report differs from the exercise",
        [("setting", ""), ("exercise", ""), ("here", ""), ("why", ""), ("the exercise's setting is shown in", "")],
        [(d.what, d.exercise, d.here, d.why, d.shown) for d in rows],
    )


def departures_finding(rows: list[Departure]) -> str:
    if not rows:
        return "Every setting is the exercise's own."
    return (
        f"{len(rows)} settings differ from the exercise; each row says why and where the exercise's own setting "
        "can be seen or run."
    )


DEPARTURES_TITLE = "Where this differs from the exercise"
DEPARTURES_QUESTION = (
    "Which settings of this report are not the exercise's own, why, and where can the exercise's setting be seen?"
)
