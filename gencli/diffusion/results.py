"""Result objects of the diffusion analyses: numbers and numpy arrays, no torch.

Each answers one course question (U1-U6, C1-C6, the bonus); `gencli/plots/diffusion.py`
draws them and the CLI and the report show their tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gencli.core.results import DataFile, Result, Table

HIST_BINS = 100  # the 10x10 histogram of the TV distance


def tv_noise_floor(n: int, bins: int = HIST_BINS) -> float:
    """Expected TV distance from uniform of the histogram of n truly uniform points (sampling noise alone):
    (1/2) sum_b E|p_b - 1/B| with p_b ~ Binomial(n, 1/B) / n, ~ sqrt((B - 1) / (2 pi n)) (0.040 at 10,000 points,
    0.126 at 1,000)."""
    return float(np.sqrt((bins - 1) / (2 * np.pi * n)))


TV_FLOOR_10K = tv_noise_floor(10000)


STOCHASTIC_SAMPLERS = {"sde"}  # samplers that draw noise in every step
REACHED = 0.05  # a steered sample within this distance of its target counts as reaching it, whatever the tolerance


def settings_text(s: dict) -> str:
    """'euler, uniform grid, T=1000, matched start' from a settings dict."""
    text = f"{s['sampler']}, {s['schedule']} grid, T={s['steps']}, {s['start']} start"
    if s.get("guidance"):
        text += f", guidance {s['guidance']:g}"
    return text


def _xy_rows(points: np.ndarray, labels: np.ndarray | None) -> list[tuple]:
    if labels is None:
        return [(float(x), float(y)) for x, y in points]
    return [(float(x), float(y), int(c)) for (x, y), c in zip(points, labels)]


@dataclass
class TrainingCurve(Result):
    """U2: the denoiser's training loss per full-batch epoch."""

    losses: np.ndarray
    wall_s: float
    conditional: bool

    @property
    def epochs(self) -> int:
        return len(self.losses)

    @property
    def final_loss_avg100(self) -> float:
        return float(np.mean(self.losses[-100:]))

    def to_dict(self) -> dict:
        return {"final_loss": float(self.losses[-1]), "final_loss_avg100": self.final_loss_avg100,
                "epochs": self.epochs, "wall_s": self.wall_s, "conditional": self.conditional}

    def tables(self) -> list[Table]:
        kind = "conditional" if self.conditional else "unconditional"
        return [Table(f"diffusion training ({kind})",
                      [("epochs", "d"), ("first 100 (mean loss)", ".4f"), ("last 100 (mean loss)", ".4f"), ("wall s", ".1f")],
                      [(self.epochs, float(np.mean(self.losses[:100])), self.final_loss_avg100, self.wall_s)])]

    def data_files(self) -> list[DataFile]:
        return [DataFile("metrics", "metrics.csv", ["epoch", "loss"],
                         [(i + 1, float(v)) for i, v in enumerate(self.losses)])]

    def finding(self) -> str:
        head, tail = self.losses[:100], self.losses[-100:]
        first, last = float(np.mean(head)), float(np.mean(tail))
        # the standard error of the difference of the two means: each epoch draws new t and eps
        noise = float(np.sqrt(np.var(head) / len(head) + np.var(tail) / len(tail)))
        if last < first - 2 * noise:
            verb = "falls"
        elif last > first + 2 * noise:
            verb = "rises"
        else:
            verb = "stays within its noise"
        return (f"The eps-prediction loss {verb} from {first:.3f} (mean of the first 100 epochs) to {last:.3f} (mean of "
                f"the last 100) over {self.epochs} epochs; the two means differ by {abs(first - last):.3f} against a "
                f"standard error of {noise:.3f}. Single epochs scatter around the trend because each draws new t and eps.")


@dataclass
class TrainingData(Result):
    """C1: the training points, coloured by class for the conditional model."""

    points: np.ndarray
    labels: np.ndarray | None
    n_classes: int
    grid: tuple[int, int]

    def counts(self) -> list[int]:
        return np.bincount(self.labels, minlength=self.n_classes).tolist() if self.labels is not None else []

    def to_dict(self) -> dict:
        return {"n_points": len(self.points), "n_classes": self.n_classes, "class_counts": self.counts()}

    def tables(self) -> list[Table]:
        if self.labels is None:
            return [Table("training data", [("points", "d")], [(len(self.points),)])]
        return [Table("training points per class", [("class", "d"), ("points", "d")], list(enumerate(self.counts())))]

    def data_files(self) -> list[DataFile]:
        return [DataFile("data", "data.csv", ["x", "y"] + (["label"] if self.labels is not None else []),
                         _xy_rows(self.points, self.labels))]

    def finding(self) -> str:
        if self.labels is None:
            return f"{len(self.points)} points drawn uniformly in the square."
        c = self.counts()
        return (f"{len(self.points)} points uniform in the square; the {self.grid[0]}x{self.grid[1]} grid gives "
                f"{self.n_classes} classes (class = {self.grid[1]} * row + col) of {min(c)} to {max(c)} points each.")


@dataclass
class Samples(Result):
    """Samples with their quality figures (U3 panel, C4, C5)."""

    points: np.ndarray
    labels: np.ndarray | None
    n_classes: int
    grid: tuple[int, int]
    settings: dict
    seed: int
    wall_s: float
    inside_fraction: float
    tv_distance: float
    own_region: list[float] | None = None
    spread: list[list[float]] | None = None
    data_spread: list[list[float]] | None = None

    @property
    def own_mean(self) -> float:
        valid = [f for f in self.own_region or [] if f == f]
        return float(np.mean(valid)) if valid else float("nan")

    @property
    def own_worst(self) -> tuple[int, float]:
        valid = [(f, c) for c, f in enumerate(self.own_region or []) if f == f]
        f, c = min(valid) if valid else (float("nan"), -1)
        return c, f

    def to_dict(self) -> dict:
        d = {"n": len(self.points), "seed": self.seed, **self.settings, "inside_fraction": self.inside_fraction,
             "tv_distance": self.tv_distance, "wall_s": self.wall_s}
        if self.own_region is not None:
            d.update({"own_region_fraction": self.own_region, "own_region_mean": self.own_mean,
                      "own_region_worst": self.own_worst[1], "spread": self.spread, "data_spread": self.data_spread})
        return d

    def tables(self) -> list[Table]:
        out = [Table(f"{len(self.points)} samples ({settings_text(self.settings)}, seed {self.seed})",
                     [("points", "d"), ("inside square", ".3f"), ("TV from uniform (10x10)", ".3f"), ("wall s", ".2f")],
                     [(len(self.points), self.inside_fraction, self.tv_distance, self.wall_s)])]
        if self.own_region is not None:
            rows = [(c, f, *self.spread[c], *self.data_spread[c]) for c, f in enumerate(self.own_region)]
            out.append(Table(f"own-cell fraction per class (mean {self.own_mean:.3f}, worst {self.own_worst[1]:.3f})",
                             [("class", "d"), ("in own cell", ".3f"), ("std x", ".3f"), ("std y", ".3f"),
                              ("data std x", ".3f"), ("data std y", ".3f")], rows))
        return out

    def data_files(self) -> list[DataFile]:
        return [DataFile("samples", "samples.csv", ["x", "y"] + (["label"] if self.labels is not None else []),
                         _xy_rows(self.points, self.labels))]

    def quality_finding(self) -> str:
        """What the inside fraction and the TV distance say."""
        n = len(self.points)
        floor = tv_noise_floor(n)
        return (f"{self.inside_fraction:.1%} of {n:,} samples land inside the square; the 10x10 histogram is "
                f"{self.tv_distance:.3f} from uniform in total variation, {self.tv_distance / floor:.1f}x the "
                f"{floor:.3f} that sampling noise alone gives at {n:,} points.")

    def class_finding(self) -> str:
        """What the own-cell fractions and the spreads say (conditional model)."""
        if self.own_region is None:
            return ""
        c, worst = self.own_worst
        ratio = np.nanmean(np.asarray(self.spread) / np.asarray(self.data_spread))
        return (f"On average {self.own_mean:.3f} of a class's samples land in its own cell (worst: class {c}, {worst:.3f}); "
                f"the samples' spread within a class is {ratio:.2f}x the training data's.")

    def finding(self) -> str:
        return " ".join(filter(None, (self.quality_finding(), self.class_finding())))


@dataclass
class SeedPanel:
    seed: int
    points: np.ndarray
    inside_fraction: float
    tv_distance: float


@dataclass
class SeedsGrid(Result):
    """U3: the same sampler with 9 different seeds."""

    panels: list[SeedPanel]
    labels: np.ndarray | None
    n_classes: int
    settings: dict

    def to_dict(self) -> dict:
        return {"seeds_grid": [{"seed": p.seed, "inside_fraction": p.inside_fraction, "tv_distance": p.tv_distance}
                               for p in self.panels]}

    def tables(self) -> list[Table]:
        return [Table(f"{len(self.panels)} seeds ({settings_text(self.settings)})",
                      [("seed", "d"), ("inside square", ".3f"), ("TV from uniform", ".3f")],
                      [(p.seed, p.inside_fraction, p.tv_distance) for p in self.panels])]

    def data_files(self) -> list[DataFile]:
        rows = [(p.seed, *r) for p in self.panels for r in _xy_rows(p.points, self.labels)]
        return [DataFile("seeds_grid", "seeds_grid.csv", ["seed", "x", "y"] + (["label"] if self.labels is not None else []), rows)]

    def finding(self) -> str:
        tv = [p.tv_distance for p in self.panels]
        ins = [p.inside_fraction for p in self.panels]
        n = len(self.panels[0].points)
        floor = tv_noise_floor(n)
        text = (f"Across {len(self.panels)} seeds the inside fraction ranges {min(ins):.3f} to {max(ins):.3f} and the TV "
                f"{min(tv):.3f} to {max(tv):.3f}; {n:,} truly uniform points would give a TV of about {floor:.3f} from "
                f"sampling noise alone.")
        if max(tv) - min(tv) <= floor:
            text += " The seeds differ by less than that noise floor: every seed gives the same picture up to sampling noise."
        else:
            text += (f" The seeds differ by {max(tv) - min(tv):.3f}, more than the noise floor: the pictures differ beyond "
                     "sampling noise.")
        mean = float(np.mean(tv))
        text += (f" Their mean TV is {mean / floor:.1f}x the floor" + (", so the model's own error shows through the noise."
                 if mean > 1.5 * floor else ", so at this sample size the samples cannot be told from uniform ones."))
        return text


@dataclass
class SweepRow:
    sampler: str
    schedule: str
    steps: int
    inside_fraction: float
    tv_distance: float
    wall_s: float
    points: np.ndarray
    own_region_mean: float | None = None

    @property
    def name(self) -> str:
        return f"{self.sampler}/{self.schedule} T={self.steps}"


@dataclass
class SamplingSweep(Result):
    """U4 (number of steps) or U5 (samplers and time grids): the same noise through several samplers."""

    key: str  # "steps_sweep" or "compare"
    what: str
    rows: list[SweepRow]
    labels: np.ndarray | None
    n_classes: int
    seed: int
    start: str

    def to_dict(self) -> dict:
        return {self.key: [{"sampler": r.sampler, "schedule": r.schedule, "steps": r.steps,
                            "inside_fraction": r.inside_fraction, "tv_distance": r.tv_distance, "wall_s": r.wall_s,
                            **({"own_region_mean": r.own_region_mean} if r.own_region_mean is not None else {})}
                           for r in self.rows]}

    def _columns(self) -> list[tuple[str, str]]:
        cols = [("sampler", ""), ("schedule", ""), ("steps", "d"), ("inside square", ".3f"), ("TV from uniform", ".3f")]
        if self.labels is not None:
            cols.append(("own cell", ".3f"))
        return cols + [("wall s", ".3f")]

    def _values(self, r: SweepRow) -> tuple:
        own = (r.own_region_mean,) if self.labels is not None else ()
        return (r.sampler, r.schedule, r.steps, r.inside_fraction, r.tv_distance, *own, r.wall_s)

    def tables(self) -> list[Table]:
        return [Table(f"{len(self.rows[0].points)} samples by {self.what} (seed {self.seed}, {self.start} start)",
                      self._columns(), [self._values(r) for r in self.rows])]

    def data_files(self) -> list[DataFile]:
        return [DataFile(self.key, f"{self.key}.csv", [name.replace(" ", "_") for name, _ in self._columns()],
                         [self._values(r) for r in self.rows])]

    def finding(self) -> str:
        n = len(self.rows[0].points)
        floor = tv_noise_floor(n)
        if self.key != "steps_sweep":
            return self._compare_finding(floor)
        best = min(self.rows, key=lambda r: r.tv_distance)
        worst = max(self.rows, key=lambda r: r.tv_distance)
        text = (f"Closest to uniform: {best.name} (TV {best.tv_distance:.3f}, {best.wall_s:.2f} s); farthest: {worst.name} "
                f"(TV {worst.tv_distance:.3f}); sampling noise alone gives about {floor:.3f} at {n:,} points.")
        if len(self.rows) > 1:
            last = self.rows[-1]
            enough = next((r for r in self.rows if r.tv_distance <= last.tv_distance + floor / 4), last)
            if enough is not last:
                text += (f" From T={enough.steps} on, the TV is within {floor / 4:.3f} of T={last.steps}'s "
                         f"{last.tv_distance:.3f}, at {enough.steps / last.steps:.0%} of its cost.")
        euler = [r for r in self.rows if r.sampler == "euler" and r.schedule == "uniform"]
        if euler:
            # the exercise's step: z <- z + (5 / T) (x0_hat - z), since dz = -5 (x0_hat - z) dt and dt = -1/T
            parts = []
            for r in euler:
                f = 5 / r.steps
                if f > 1:
                    parts.append(f"at T={r.steps} each step moves z {f:g}x the way to x0_hat, past it (an overshoot)")
                elif f == 1:
                    parts.append(f"at T={r.steps} the first step lands exactly on x0_hat(z, 1) = E[x_0 | z], near the data's "
                                 "mean, and later steps cannot spread the samples out again")
            if parts:
                text += (" Why: the exercise's Euler step is z <- z + (5/T)(x0_hat - z) (dz = -5 (x0_hat - z) dt, dt = -1/T); "
                         + "; ".join(parts) + ".")
        crowded = [r for r in self.rows if r.inside_fraction >= 0.99 and r.tv_distance > 2 * best.tv_distance + floor]
        if crowded:
            text += (f" An inside fraction near 1 with a high TV ({', '.join(f'T={r.steps}' for r in crowded)}) means the "
                     "samples crowd inside the square, not that they are right.")
        return text

    def _compare_finding(self, floor: float) -> str:
        """Per number of steps: which sampler is closest to uniform, and whether the samplers differ beyond the noise."""
        parts = []
        for steps in sorted({r.steps for r in self.rows}):
            rows = [r for r in self.rows if r.steps == steps]
            best = min(rows, key=lambda r: r.tv_distance)
            spread = max(r.tv_distance for r in rows) - best.tv_distance
            verdict = "beyond" if spread > floor else "within"
            parts.append(f"at T={steps} {best.sampler}/{best.schedule} is closest (TV {best.tv_distance:.3f}) and the "
                         f"samplers span {spread:.3f}, {verdict} the noise floor of {floor:.3f}")
        return "Same noise through each sampler: " + "; ".join(parts) + "."


@dataclass
class SigmaSchedules(Result):
    """U5: sigma at each sampling step for the uniform (exercise) and Karras time grids."""

    steps: int
    rho: float
    sigma_min: float
    sigma_max: float
    series: dict[str, tuple[np.ndarray, np.ndarray]]  # schedule -> (t, sigma) per grid point

    def summary(self) -> dict:
        return {name: {"sigma_first": float(s[0]), "sigma_mid": float(s[len(s) // 2]), "sigma_last": float(s[-1]),
                       "steps_below_0.1": int((s[:-1] < 0.1).sum())} for name, (_, s) in self.series.items()}

    def to_dict(self) -> dict:
        return {"steps": self.steps, "rho": self.rho, "schedules": self.summary()}

    def tables(self) -> list[Table]:
        return [Table(f"sigma at the first, middle and last step (T={self.steps})",
                      [("schedule", ""), ("first", ".4f"), ("middle", ".4f"), ("last", ".4f"), ("steps with sigma < 0.1", "d")],
                      [(k, v["sigma_first"], v["sigma_mid"], v["sigma_last"], v["steps_below_0.1"]) for k, v in self.summary().items()])]

    def data_files(self) -> list[DataFile]:
        rows = [(name, i, float(t), float(s)) for name, (ts, ss) in self.series.items() for i, (t, s) in enumerate(zip(ts, ss))]
        return [DataFile("schedule", "schedule.csv", ["schedule", "step", "t", "sigma"], rows)]

    def finding(self) -> str:
        s = self.summary()
        u, k = s.get("uniform"), s.get("karras")
        if not (u and k):
            return ""
        nu, nk = u["steps_below_0.1"], k["steps_below_0.1"]
        if nu == nk:
            who = "both grids place the same number of steps near the data"
        else:
            more, less = ("uniform", "Karras") if nu > nk else ("Karras", "uniform")
            who = f"the {more} grid puts more steps near the data than the {less} grid"
        return (f"Of {self.steps} steps, the uniform grid spends {nu} at sigma < 0.1 and the Karras grid (rho = {self.rho:g}) "
                f"{nk}: {who}. Here sigma(t) = exp(5 (t - 1)) is geometric in t, so a uniform grid in t already spaces the "
                f"sigmas geometrically, from {u['sigma_first']:.3g} down to {u['sigma_last']:.3g}; the Karras grid spaces "
                f"sigma^(1/rho) evenly instead.")


@dataclass
class ForwardPath(Result):
    """U1: one sample path of the forward process x_t = x_0 + sigma(t) eps."""

    start: tuple[float, float]
    ts: np.ndarray
    sigmas: np.ndarray
    path: np.ndarray  # (K, 2)

    def to_dict(self) -> dict:
        return {"start": list(self.start), "end": self.path[-1].tolist(), "steps": len(self.ts) - 1}

    def tables(self) -> list[Table]:
        idx = sorted({0, len(self.ts) // 4, len(self.ts) // 2, 3 * len(self.ts) // 4, len(self.ts) - 1})
        return [Table("forward process at a few times", [("t", ".2f"), ("sigma(t)", ".4f"), ("x", ".3f"), ("y", ".3f")],
                      [(self.ts[i], self.sigmas[i], *self.path[i]) for i in idx])]

    def data_files(self) -> list[DataFile]:
        return [DataFile("trajectory", "forward.csv", ["t", "sigma", "x", "y"],
                         [(float(t), float(s), float(x), float(y)) for t, s, (x, y) in zip(self.ts, self.sigmas, self.path)])]

    def finding(self) -> str:
        x0 = np.asarray(self.start)
        where = "outside" if np.abs(x0).max() > 1 else "inside"
        half = int(np.searchsorted(self.ts, 0.5))
        d_half = float(np.linalg.norm(self.path[half] - x0))
        d_end = float(np.linalg.norm(self.path[-1] - x0))
        text = (f"Starting at ({self.start[0]:g}, {self.start[1]:g}), {where} the square, the point has moved {d_half:.3f} "
                f"by t = {self.ts[half]:.2f} (sigma {self.sigmas[half]:.3f}) and {d_end:.2f} by t = 1 (sigma "
                f"{self.sigmas[-1]:.2f}).")
        if d_end > 0 and d_half < 0.25 * d_end:
            text += (" Most of the motion comes late: sigma(t) = exp(5 (t - 1)) is small for most of [0, 1] and grows "
                     "fast near t = 1.")
        else:
            text += " The motion is spread over the whole interval."
        return text


@dataclass
class ReversePaths(Result):
    """Reverse trajectories: a few points (unconditional) or one point per class (C3)."""

    traj: np.ndarray  # (K, N, 2)
    ts: np.ndarray
    labels: np.ndarray | None
    n_classes: int
    grid: tuple[int, int]
    background: np.ndarray
    settings: dict
    seed: int
    landed: np.ndarray | None = None

    def to_dict(self) -> dict:
        d = {"ends": self.traj[-1].tolist(), "steps": self.settings["steps"], "sampler": self.settings["sampler"]}
        if self.landed is not None:
            own = (self.landed == self.labels)
            d.update({"in_own_region": own.tolist(), "all_in_own_region": bool(own.all())})
        return d

    def tables(self) -> list[Table]:
        ends, starts = self.traj[-1], self.traj[0]
        if self.landed is not None:
            return [Table(f"one point per class ({settings_text(self.settings)})",
                          [("class", "d"), ("end x", ".3f"), ("end y", ".3f"), ("landed in cell", "d"), ("own cell", "")],
                          [(int(c), *ends[j], int(self.landed[j]), bool(self.landed[j] == c)) for j, c in enumerate(self.labels)])]
        return [Table(f"reverse trajectories ({settings_text(self.settings)})",
                      [("point", "d"), ("start x", ".3f"), ("start y", ".3f"), ("end x", ".3f"), ("end y", ".3f")],
                      [(j, *starts[j], *ends[j]) for j in range(len(ends))])]

    def data_files(self) -> list[DataFile]:
        k = self.labels is not None
        rows = [(i, float(self.ts[i]), j, float(self.traj[i, j, 0]), float(self.traj[i, j, 1]), *((int(self.labels[j]),) if k else ()))
                for i in range(self.traj.shape[0]) for j in range(self.traj.shape[1])]
        return [DataFile("trajectory", "reverse.csv", ["step", "t", "point", "x", "y"] + (["label"] if k else []), rows)]

    def finding(self) -> str:
        if self.landed is not None:
            own = int((self.landed == self.labels).sum())
            return f"{own} of {len(self.labels)} classes end in their own cell."
        inside = int((np.abs(self.traj[-1]) <= 1).all(axis=1).sum())
        return f"{inside} of {self.traj.shape[1]} paths end inside the square."


@dataclass
class Determinism(Result):
    """U6: the same initial noise through the sampler R times."""

    sampler: str
    steps: int
    repeats: int
    n: int
    identical: bool
    n_identical: int  # repeats (after the first run) equal to the first run
    max_abs_diff: float
    paths: np.ndarray  # (R, K, P, 2): the first P points' trajectories in each run
    ends: np.ndarray  # (R, P, 2)

    def to_dict(self) -> dict:
        return {"identical": self.identical, "max_abs_diff": self.max_abs_diff, "repeats": self.repeats,
                "identical_runs": self.n_identical, "sampler": self.sampler, "n": self.n}

    def tables(self) -> list[Table]:
        return [Table(f"determinism ({self.sampler}, T={self.steps})",
                      [("sampler", ""), ("runs", "d"), ("points", "d"), ("repeats equal to the first run", "d"), ("identical", ""),
                       ("max |diff|", ".3g")],
                      [(self.sampler, self.repeats, self.n, self.n_identical, self.identical, self.max_abs_diff)])]

    def data_files(self) -> list[DataFile]:
        return [DataFile("determinism", "determinism.csv", ["repeat", "point", "x", "y"],
                         [(r, j, float(x), float(y)) for r in range(self.repeats) for j, (x, y) in enumerate(self.ends[r])])]

    def finding(self) -> str:
        stochastic = self.sampler in STOCHASTIC_SAMPLERS
        how = "injects fresh noise in every step" if stochastic else "draws noise only at the start"
        if self.identical:
            text = (f"All {self.repeats} runs of {self.sampler} are bit-for-bit identical (max |diff| "
                    f"{self.max_abs_diff:g})")
            return text + (f": {self.sampler} {how}, so the same start gives the same end." if not stochastic else
                           f", although {self.sampler} {how}: its per-step noise came out the same in every run.")
        text = (f"{self.n_identical} of the {self.repeats - 1} repeats of {self.sampler} equal the first run (max |diff| "
                f"{self.max_abs_diff:.3g})")
        return text + (f": {self.sampler} {how}, so each run is a different sample." if stochastic else
                       f", although {self.sampler} {how}: the difference comes from the arithmetic itself (the order of "
                       "floating-point sums can vary between runs).")


@dataclass
class ProbabilityTable(Result):
    """C6: the lower bound on log p(x) (or log p(x | c)) at chosen points."""

    rows: list[dict]
    steps: int
    samples: int
    conditional: bool
    background: np.ndarray
    grid: tuple[int, int]
    truth_inside: float  # log density of the data at an inside point (log p(x|c) in its own cell)
    start: str = "matched"  # the start distribution p_1 of the bound's prior term and of the exact likelihood
    tolerance: tuple[float, float] | None = None  # (rtol, atol) of the exact likelihood's ODE solver; None: not computed

    def to_dict(self) -> dict:
        return {"points": self.rows, "steps": self.steps, "samples": self.samples}

    def tables(self) -> list[Table]:
        plain = "unconditional_elbo" in self.rows[0]
        exact = "exact_logp" in self.rows[0]
        key_cols = [("#", "d"), ("x", ".2f"), ("y", ".2f")] + ([("class", "d")] if self.conditional else [])
        keys = [(i + 1, r["x"], r["y"], *((r["class"],) if self.conditional else ())) for i, r in enumerate(self.rows)]
        cols = key_cols + [("where", ""), ("bound", ".2f"), ("stderr", ".2f"), ("= reconstruction", ".2f"),
                           ("- prior KL", ".2f"), ("- L_T", ".2f")] + ([("unconditional bound", ".2f")] if plain else [])
        rows = [(*k, r["where"], r["elbo"], r["stderr"], r["reconstruction"], r["prior_kl"], -r["neg_diffusion_loss"],
                 *((r["unconditional_elbo"],) if plain else ())) for k, r in zip(keys, self.rows)]
        p = "p(x | c)" if self.conditional else "p(x)"
        out = [Table(f"lower bound on log {p} in nats (T={self.steps}, {self.samples} Monte Carlo samples): "
                     "bound = reconstruction - prior KL - L_T", cols, rows)]
        if exact:
            rtol, atol = self.tolerance or (float("nan"), float("nan"))
            out.append(Table(
                f"exact log {p} in nats (probability-flow ODE, rtol {rtol:g}, atol {atol:g}): with the {self.start} "
                "Gaussian prior at t = 1, with the training data's own p_1, and the truth smoothed by sigma_min",
                key_cols + [("bound", ".2f"), ("exact log p", ".3f"), ("exact, data's p_1", ".3f"),
                            ("truth at sigma_min", ".3f")],
                [(*k, r["elbo"], r["exact_logp"], r["exact_logp_data_prior"], r["smoothed_truth"])
                 for k, r in zip(keys, self.rows)]))
        return out

    def data_files(self) -> list[DataFile]:
        return [DataFile("prob", "prob.csv", list(self.rows[0].keys()), [tuple(r.values()) for r in self.rows])]

    def finding(self) -> str:
        inside = [r for r in self.rows if r["where"] in ("inside", "inside, own cell")]
        outside = [r for r in self.rows if r["where"].startswith("outside")]
        parts = []
        if inside:
            lo, hi = min(r["elbo"] for r in inside), max(r["elbo"] for r in inside)
            gap = self.truth_inside - hi
            parts.append(f"points inside{' their own cell' if self.conditional else ''} score {lo:.2f} to {hi:.2f} nats, "
                         + (f"{gap:.2f} or more below" if gap > 0 else "at or above")
                         + f" the true log density {self.truth_inside:.3f} there"
                         + (" (a lower bound may not exceed it but for Monte Carlo noise)" if gap <= 0 else ""))
        if outside:
            worst = min(outside, key=lambda r: r["elbo"])
            nearest = min(outside, key=lambda r: max(abs(r["x"]), abs(r["y"])))
            parts.append(f"points outside score from {nearest['elbo']:.1f} nats at ({nearest['x']:g}, {nearest['y']:g}), the "
                         f"nearest to the square, down to {worst['elbo']:.1f} at ({worst['x']:g}, {worst['y']:g})"
                         + (" (each under the class of its nearest cell)" if self.conditional else ""))
        text = _sentence("; ".join(parts)) if parts else ""
        if outside and inside:
            kl_share = np.mean([r["prior_kl"] / max(r["reconstruction"] - r["elbo"], 1e-9) for r in outside])
            text += (f" Outside, the prior KL is {kl_share:.0%} of what separates the bound from the reconstruction term: "
                     f"the start distribution, not the denoiser, does most of the rejecting.") if kl_share > 0.5 else (
                     f" Outside, L_T carries {1 - kl_share:.0%} of the drop below the reconstruction term: the denoiser "
                     "cannot explain the point.")
        by_place: dict = {}
        for r in self.rows:
            by_place.setdefault((r["x"], r["y"]), []).append(r)
        for (x, y), rs in by_place.items():
            own = [r for r in rs if "own cell" in r["where"]]
            wrong = [r for r in rs if r["where"].startswith("inside, cell")]
            if own and wrong:
                gap = own[0]["elbo"] - wrong[0]["elbo"]
                noise = float(np.hypot(own[0]["stderr"], wrong[0]["stderr"]))
                verb = "above" if gap > 0 else "below"
                text += (f" At ({x:g}, {y:g}) the matching class {own[0]['class']} scores {abs(gap):.1f} nats {verb} the wrong "
                         f"class {wrong[0]['class']}" + (" (within the Monte Carlo noise)." if abs(gap) <= 2 * noise else "."))
        if "exact_logp" in self.rows[0]:
            text += " " + self.exact_finding(inside, outside)
        if "unconditional_elbo" in self.rows[0] and inside:
            d = np.mean([r["elbo"] - r["unconditional_elbo"] for r in inside])
            text += (f" Inside, the conditional bound log p(x | c) is {d:.2f} nats {'above' if d > 0 else 'below'} the "
                     f"unconditional bound on log p(x) on average (the truth: log 9 = {np.log(9):.2f} above, since p(x | c) "
                     f"= 9 p(x) in x's own cell).")
        return text


    def exact_finding(self, inside: list[dict], outside: list[dict]) -> str:
        """What the exact likelihood adds: its distance from the truth inside, and from the bound."""
        parts = []
        if inside:
            err = max(abs(r["exact_logp"] - self.truth_inside) for r in inside)
            slack = float(np.mean([r["exact_logp"] - r["elbo"] for r in inside]))
            parts.append(f"The exact log p (probability-flow ODE, exact divergence, {inside[0]['exact_nfe']} evaluations) of "
                         f"the points inside is within {err:.3f} nats of the truth {self.truth_inside:.3f}, and "
                         f"{abs(slack):.2f} nats {'above' if slack > 0 else 'below'} the bound on average")
        if outside:
            gap = float(np.mean([r["exact_logp"] - r["elbo"] for r in outside]))
            parts.append(f"outside, the bound lies {abs(gap):.1f} nats {'below' if gap > 0 else 'above'} the exact value on "
                         "average: it is loosest exactly where C6 compares points")
        if not parts:
            return ""
        return _sentence("; ".join(parts)) + " " + self.bias_finding(inside, outside)

    def bias_finding(self, inside: list[dict], outside: list[dict]) -> str:
        """The exact value's two biases, each measured: the Gaussian prior at t = 1 against the training data's own
        p_1, and the end of the path at sigma_min against the truth."""
        def spread(rows: list[dict]) -> str:
            cost = [r["exact_logp"] - r["exact_logp_data_prior"] for r in rows]
            return f"{min(cost):+.3f} to {max(cost):+.3f} nats"

        text = (f"Two biases remain, both measured. The prior at t = 1 is the {self.start} start's Gaussian, not the training "
                "points blurred by sigma_max; against that exact p_1 it moves the values "
                + ", ".join(f"{name} by {spread(rows)}" for name, rows in (("inside", inside), ("outside", outside)) if rows))
        if inside:
            gauss = max(abs(r["exact_logp"] - self.truth_inside) for r in inside)
            data = max(abs(r["exact_logp_data_prior"] - self.truth_inside) for r in inside)
            how = ("closer than" if round(data, 3) < round(gauss, 3) else
                   "as close as" if round(data, 3) == round(gauss, 3) else "farther than")
            text += (f" (with the data's p_1 the worst distance from the truth inside is {data:.3f} nats, {how} the "
                     f"Gaussian's {gauss:.3f})")
        text += ". The path ends at sigma_min = exp(-5), so its target is the data smoothed by that much"
        if inside:
            shift = max(abs(r["smoothed_truth"] - self.truth_inside) for r in inside)
            text += (": at the points inside it differs from the truth by "
                     + ("less than 0.001 nats" if shift < 1e-3 else f"up to {shift:.3f} nats"))
        if outside:
            r = max(outside, key=lambda r: r["smoothed_truth"])
            gap = r["exact_logp"] - r["smoothed_truth"]
            text += (f"; outside it is finite but steep ({r['smoothed_truth']:.1f} at ({r['x']:g}, {r['y']:g})), and the "
                     f"model's exact value there is {abs(gap):.1f} nats " + (
                         "above it: the learned density falls off far more gently than the data smoothed by sigma_min"
                         if gap > 0 else "below it"))
        return text + "."


@dataclass
class DensityGrid(Result):
    """C6: the exact log p(x) of the trained model on a grid, beside the data's true log density."""

    axis: np.ndarray  # (S,) grid coordinates along x and y
    logp: np.ndarray  # (S, S), row = y
    truth: np.ndarray  # (S, S), -inf where the data has no mass
    truth_value: float
    klass: int | None
    nfe: int
    start: str

    def to_dict(self) -> dict:
        inside = np.isfinite(self.truth)
        return {"density_grid": {"size": len(self.axis), "class": self.klass, "nfe": self.nfe,
                                 "inside_mean": float(self.logp[inside].mean()), "inside_std": float(self.logp[inside].std()),
                                 "outside_max": float(self.logp[~inside].max()) if (~inside).any() else None,
                                 "truth_inside": self.truth_value}}

    def tables(self) -> list[Table]:
        d = self.to_dict()["density_grid"]
        return [Table(f"exact log p on a {len(self.axis)}x{len(self.axis)} grid"
                      + (f" (class {self.klass})" if self.klass is not None else ""),
                      [("inside: mean", ".3f"), ("inside: std", ".3f"), ("truth inside", ".3f"), ("outside: highest", ".2f")],
                      [(d["inside_mean"], d["inside_std"], d["truth_inside"], d["outside_max"])])]

    def data_files(self) -> list[DataFile]:
        rows = [(float(x), float(y), float(self.logp[j, i]), float(self.truth[j, i]) if np.isfinite(self.truth[j, i]) else "")
                for j, y in enumerate(self.axis) for i, x in enumerate(self.axis)]
        return [DataFile("density_grid", "density_grid.csv", ["x", "y", "exact_logp", "true_logp"], rows)]

    def finding(self) -> str:
        d = self.to_dict()["density_grid"]
        where = f"class {self.klass}'s cell" if self.klass is not None else "the square"
        text = (f"Over {where} the model's exact log density averages {d['inside_mean']:.3f} (spread {d['inside_std']:.3f}) "
                f"against the true {d['truth_inside']:.3f}")
        if d["outside_max"] is not None:
            text += f"; outside it falls, to at most {d['outside_max']:.2f} on the grid, where the truth is minus infinity"
        return text + "."


@dataclass
class SteeredSample(Result):
    """Bonus: the sampler's inputs optimised so that it outputs a point far outside the square."""

    target: tuple[float, float]
    final: np.ndarray
    distance: float
    iterations: int
    tolerance: float
    losses: np.ndarray
    trajectory: np.ndarray  # (K, 2)
    ts: np.ndarray
    sampler: str
    steps: int
    z1: np.ndarray
    background: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    noise_numbers: int = 0  # how many numbers were optimised (z(1), and every step's noise for sde)
    noise_log_density: float = 0.0  # their log-density under the sampler's own noise distribution (standardised)

    @property
    def typical_log_density(self) -> tuple[float, float]:
        """Mean and standard deviation of that log-density for noise drawn as the sampler draws it: -d/2 (log 2 pi + 1)
        and sqrt(d/2) (a chi-square with d degrees of freedom, halved)."""
        d = self.noise_numbers
        return -0.5 * d * (np.log(2 * np.pi) + 1), float(np.sqrt(d / 2))

    @property
    def success(self) -> bool:
        return self.distance <= max(self.tolerance, REACHED)

    def to_dict(self) -> dict:
        mean, sd = self.typical_log_density
        return {"target": list(self.target), "final": self.final.tolist(), "distance": self.distance,
                "iterations": self.iterations, "success": self.success, "z1": self.z1.tolist(),
                "sampler": self.sampler, "steps": self.steps, "tolerance": self.tolerance,
                "noise_numbers": self.noise_numbers, "noise_log_density": self.noise_log_density,
                "typical_log_density": mean, "typical_log_density_sd": sd}

    def tables(self) -> list[Table]:
        return [Table(f"steering the sampler ({self.sampler}, T={self.steps})",
                      [("target x", ".2f"), ("target y", ".2f"), ("final x", ".4f"), ("final y", ".4f"), ("distance", ".4f"),
                       ("Adam steps", "d")],
                      [(*self.target, *self.final, self.distance, self.iterations)])]

    def data_files(self) -> list[DataFile]:
        return [DataFile("invert", "invert.csv", ["step", "t", "x", "y"],
                         [(i, float(t), float(x), float(y)) for i, (t, (x, y)) in enumerate(zip(self.ts, self.trajectory))])]

    def finding(self) -> str:
        verb = "reaches" if self.success else "gets only as close as"
        noise = "the initial noise and every step's noise" if self.sampler == "sde" else "the initial noise"
        text = (f"Optimising {noise} ({self.noise_numbers} free numbers), the frozen model's sampler {verb} "
                f"({self.final[0]:.3f}, {self.final[1]:.3f}), {self.distance:.4f} from ({self.target[0]:g}, "
                f"{self.target[1]:g}), after {self.iterations} Adam steps (it stops within {self.tolerance:g}).")
        if self.noise_numbers:
            mean, sd = self.typical_log_density
            z = (self.noise_log_density - mean) / sd
            verdict = ("an unusually unlikely draw: the model reaches the target only through noise it would almost never "
                       "sample" if z < -3 else "about as likely as a typical draw: the sampler could have drawn such noise")
            text += (f" That noise has log-density {self.noise_log_density:.1f} under the sampler's own noise distribution, "
                     f"against {mean:.1f} +- {sd:.1f} for typical draws ({z:+.1f} standard deviations): {verdict}.")
        return text


@dataclass
class GuidanceRow:
    guidance: float
    interval: tuple[float, float]
    own_region_mean: float
    own_region_worst: float
    within_cell_tv: float
    inside_fraction: float
    wall_s: float
    points: np.ndarray

    @property
    def where(self) -> str:
        lo, hi = self.interval
        return "every step" if (lo, hi) == (0.0, 1.0) else f"t in [{lo:g}, {hi:g}]"


@dataclass
class GuidanceSweep(Result):
    """Classifier-free guidance: class fidelity (own cell) against diversity (within-cell evenness) per weight W."""

    rows: list[GuidanceRow]
    labels: np.ndarray
    n_classes: int
    grid: tuple[int, int]
    settings: dict
    seed: int

    def to_dict(self) -> dict:
        return {"guidance_sweep": [{"guidance": r.guidance, "interval": list(r.interval), "own_region_mean": r.own_region_mean,
                                    "own_region_worst": r.own_region_worst, "within_cell_tv": r.within_cell_tv,
                                    "inside_fraction": r.inside_fraction, "wall_s": r.wall_s} for r in self.rows]}

    def _values(self) -> list[tuple]:
        return [(r.where, r.guidance, r.own_region_mean, r.own_region_worst, r.within_cell_tv, r.inside_fraction) for r in self.rows]

    def tables(self) -> list[Table]:
        return [Table(f"classifier-free guidance, {len(self.rows[0].points)} samples ({settings_text(self.settings)}, seed {self.seed})",
                      [("guidance applied", ""), ("W", ".1f"), ("own cell (mean)", ".3f"), ("own cell (worst)", ".3f"),
                       ("within-cell TV (4x4)", ".3f"), ("inside square", ".3f")], self._values())]

    def data_files(self) -> list[DataFile]:
        return [DataFile("guidance_sweep", "guidance_sweep.csv",
                         ["guidance_applied", "guidance", "own_region_mean", "own_region_worst", "within_cell_tv", "inside_fraction"],
                         self._values())]

    def best(self, evenness_factor: float = 1.5) -> GuidanceRow | None:
        """The row with the highest own-cell fraction whose evenness stays within `evenness_factor` of W = 0's."""
        base = next((r for r in self.rows if r.guidance == 0), None)
        if base is None:
            return None
        ok = [r for r in self.rows if r.within_cell_tv <= evenness_factor * base.within_cell_tv]
        return max(ok, key=lambda r: (r.own_region_mean, -r.guidance)) if ok else None

    def finding(self) -> str:
        base = next((r for r in self.rows if r.guidance == 0), None)
        if base is None:
            return ""
        text = (f"Without guidance {base.own_region_mean:.3f} of the samples land in their own cell (within-cell TV "
                f"{base.within_cell_tv:.3f}).")
        best = self.best()
        if best is not None and best.guidance:
            text += (f" Guidance W = {best.guidance:g} ({best.where}) {_moves(base.own_region_mean, best.own_region_mean)} "
                     f"the own-cell fraction to {best.own_region_mean:.3f}, and the within-cell TV "
                     f"{_change(base.within_cell_tv, best.within_cell_tv)}.")
        every = [r for r in self.rows if r.where == "every step" and r.guidance > 0]
        if every and every[-1].interval != (best.interval if best else None):
            r = every[-1]
            if r.within_cell_tv > 1.5 * base.within_cell_tv:
                what = ("pulls each class's samples toward the centre of its cell: the within-cell TV "
                        f"{_change(base.within_cell_tv, r.within_cell_tv)}")
            else:
                what = f"keeps the spread within the cells: the within-cell TV {_change(base.within_cell_tv, r.within_cell_tv)}"
            text += f" Guidance at every step with W = {r.guidance:g} gives {r.own_region_mean:.3f} in the own cell and {what}."
        return text


def _sentence(text: str) -> str:
    """`text` with its first letter in capitals and a full stop (str.capitalize would lower the rest)."""
    return text[:1].upper() + text[1:] + "."


def _moves(before: float, after: float) -> str:
    return "raises" if after > before else ("lowers" if after < before else "keeps")


def _change(before: float, after: float) -> str:
    """'rises 21% (0.100 -> 0.121)' and the like, computed."""
    if before == 0 or abs(after - before) <= 0.02 * abs(before):
        return f"stays within 2% ({before:.3f} -> {after:.3f})"
    verb = "rises" if after > before else "falls"
    return f"{verb} {abs(after / before - 1):.0%} ({before:.3f} -> {after:.3f})"
