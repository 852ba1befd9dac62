"""Every finding is computed: fed numbers pointing the other way, its sentence changes."""

import numpy as np
import pytest

from gencli.core.config import ConfigSources
from gencli.diffusion.results import (
    Determinism,
    ForwardPath,
    GuidanceRow,
    GuidanceSweep,
    ProbabilityTable,
    SamplerInversion,
    SamplingSweep,
    SeedPanel,
    SeedsGrid,
    SigmaSchedules,
    SweepRow,
    TrainingCurve,
)
from gencli.diffusion.results.common import DataView, tv_noise_floor
from gencli.diffusion.results.quality import SampleQuality
from gencli.lm.results import (
    ADAPTIVE,
    STATIC,
    AttentionMaps,
    CodedText,
    CompressionComparison,
    LMTrainingSummary,
    TextInversion,
    TokenPrompt,
    prompt_search_rate,
)
from gencli.report.departures import departures

RNG = np.random.default_rng(0)


def test_tv_noise_floor_matches_a_simulation():
    for n in (1000, 10000):
        tvs = []
        for _ in range(200):
            counts = np.bincount(RNG.integers(0, 100, n), minlength=100)
            tvs.append(0.5 * np.abs(counts / n - 0.01).sum())
        assert tv_noise_floor(n) == pytest.approx(np.mean(tvs), rel=0.05)


def test_training_loss_falls_rises_or_stays():
    noise = RNG.normal(0, 0.01, 1000)
    assert " falls " in TrainingCurve(np.linspace(1.0, 0.8, 1000) + noise, 1.0, False).finding()
    assert " rises " in TrainingCurve(np.linspace(0.8, 1.0, 1000) + noise, 1.0, False).finding()
    assert "stays within its noise" in TrainingCurve(0.9 + noise, 1.0, False).finding()


SQUARE = DataView(
    "square",
    "uniform in the square",
    (-2.5, 2.5, -2.5, 2.5),
    support="the square",
    region="cell",
    own_rule="land in their own cell",
    bounded=True,
)


def _quality(tv, floor=0.10, floor_sd=0.005, inside=0.99, precision=0.97, recall=0.98) -> SampleQuality:
    return SampleQuality(
        n=1000,
        reference=1000,
        reference_kind="fresh data",
        tv=tv,
        floor=floor,
        floor_sd=floor_sd,
        floor_repeats=8,
        precision=precision,
        recall=recall,
        data_precision=0.99,
        data_recall=0.99,
        k=5,
        inside_fraction=inside,
    )


def _panels(tvs, n=1000):
    return [SeedPanel(i, np.zeros((n, 2)), _quality(tv)) for i, tv in enumerate(tvs)]


def test_seeds_mean_against_the_floor_by_its_standard_error_and_spread_against_the_data_spread():
    same = SeedsGrid(_panels([0.096, 0.101, 0.104, 0.099]), None, 0, {}, SQUARE).finding()
    assert "cannot be told from the data" in same and "about what sampling noise gives" in same
    # every seed a little above the floor: a spread of 0.004 is small, but the mean is many standard errors above
    above = SeedsGrid(_panels([0.110, 0.112, 0.114, 0.111, 0.113, 0.112, 0.110, 0.114, 0.113]), None, 0, {}, SQUARE)
    text = above.finding()
    assert "own error shows through" in text and "9 of the 9 seeds lie above" in text
    wild = SeedsGrid(_panels([0.09, 0.16, 0.10, 0.15]), None, 0, {}, SQUARE).finding()
    assert "more than sampling noise alone" in wild


def test_forward_path_says_where_it_starts_and_when_it_moves():
    ts = np.linspace(0, 1, 101)
    late = np.outer(np.exp(5 * (ts - 1)), [1.0, 0.0]) + [1.5, 0]
    early = np.outer(np.sqrt(ts), [1.0, 0.0]) + [0.2, 0.1]
    a = ForwardPath((1.5, 0.0), ts, np.exp(5 * (ts - 1)), late, SQUARE, False)
    b = ForwardPath((0.2, 0.1), ts, np.exp(5 * (ts - 1)), early, SQUARE, True).finding()
    assert "outside the square" in a.finding() and "Most of the motion comes late" in a.finding()
    assert "inside the square" in b and "spread over the whole interval" in b
    middle = a.shown_rows()[2]  # the finding quotes the table's middle row, not the one after it
    assert f"has moved {np.linalg.norm(late[middle] - [1.5, 0]):.3f} by t = {ts[middle]:.2f}" in a.finding()


def _schedules(n_uniform_small: int, n_karras_small: int) -> SigmaSchedules:
    def series(n_small):
        s = np.concatenate([np.full(10 - n_small, 0.5), np.full(n_small, 0.05), [0.01]])
        return np.linspace(1, 0, 11), s

    return SigmaSchedules(10, 7.0, 0.01, 1.0, {"uniform": series(n_uniform_small), "karras": series(n_karras_small)})


def test_schedule_sentence_follows_the_counts():
    assert "the uniform grid puts more steps near the data" in _schedules(6, 4).finding()
    assert "the Karras grid puts more steps near the data" in _schedules(4, 6).finding()
    assert "the same number" in _schedules(5, 5).finding()


def test_determinism_cause_follows_the_sampler_and_the_outcome():
    path = np.zeros((3, 2, 1, 2))
    ends = np.zeros((3, 1, 2))
    assert (
        "draws noise only at the start, so the same start"
        in Determinism("euler", 10, 3, 5, True, 2, 0.0, path, ends).finding()
    )
    assert "each run is a different sample" in Determinism("sde", 10, 3, 5, False, 0, 1.0, path, ends).finding()
    assert "arithmetic itself" in Determinism("euler", 10, 3, 5, False, 1, 1e-7, path, ends).finding()
    assert "although sde injects" in Determinism("sde", 10, 3, 5, True, 2, 0.0, path, ends).finding()


def _sweep(tvs, steps, key="steps_sweep", inside=None, floor_sd=0.005):
    rows = [
        SweepRow(
            "euler",
            "uniform",
            t,
            _quality(tv, inside=(inside or {}).get(t, 0.95), floor_sd=floor_sd),
            0.1,
            np.zeros((1000, 2)),
        )
        for t, tv in zip(steps, tvs)
    ]
    return SamplingSweep(key, "x", rows, None, 0, 0, "matched", SQUARE)


def test_steps_sweep_explains_the_euler_factor_and_crowding():
    text = _sweep([0.9, 0.5, 0.2, 0.15], [1, 5, 50, 1000], inside={5: 1.0}).finding()
    assert "at T=1 each step moves z 5x" in text and "at T=5 the first step lands exactly" in text
    assert "(T=5) means the samples crowd inside the square" in text
    assert "overshoot" not in _sweep([0.3, 0.2], [10, 100]).finding()
    assert " s)" not in text  # no wall time in the sentence: a timing says nothing of quality


def test_compare_uses_the_noise_of_a_difference_not_the_floor():
    # two samplers 0.02 apart: within the noise of a difference when one TV scatters by 0.01, beyond it at 0.002
    within = _sweep([0.13, 0.15], [10, 10], key="compare", floor_sd=0.01).finding()
    beyond = _sweep([0.13, 0.15], [10, 10], key="compare", floor_sd=0.002).finding()
    assert "within the 0.028 that sampling noise gives" in within
    assert "beyond the 0.006 (2 standard errors of a difference)" in beyond
    assert "floor" not in beyond.split(";")[0].split("span")[1]


def _guidance(tv_interval: float, tv_every: float, centre_every: float = 0.7, worst_every: float = 0.85):
    def row(w, interval, tv, own, worst, centre):
        return GuidanceRow(w, interval, own, worst, tv, _quality(0.1), 0.1, np.zeros((10, 2)), centre)

    rows = [
        row(0.0, (0.0, 0.4), 0.10, 0.92, 0.87, 1.0),
        row(1.0, (0.0, 0.4), 0.105, 0.96, 0.9, 1.0),
        row(4.0, (0.0, 0.4), tv_interval, 0.95, 0.9, 1.0),
        row(4.0, (0.0, 1.0), tv_every, 0.93, worst_every, centre_every),
    ]
    return GuidanceSweep(rows, np.zeros(10, dtype=int), 9, SQUARE, {}, 0)


def test_guidance_words_follow_the_numbers():
    up = _guidance(0.121, 0.5).finding()
    assert "rises 21% (0.100 -> 0.121)" in up and "pulls each class's samples toward the centre" in up
    assert "peaks at W = 1" in up  # not at the largest weight
    assert "the worst class has 0.850, below its 0.870 without guidance" in up
    out = _guidance(0.09, 0.5, centre_every=1.3, worst_every=0.9).finding()
    assert "falls 10% (0.100 -> 0.090)" in out and "pushes each class's samples out toward the edges" in out
    assert "toward the centre" not in out and "at or above its 0.870" in out
    assert "stays within 2%" in _guidance(0.101, 0.11).finding()


def _prob(rows, conditional=True):
    return ProbabilityTable(rows, 100, 64, conditional, np.zeros((1, 2)), SQUARE, sigma_min=0.0067)


TRUTH = float(np.log(9 / 4))


def _row(x, y, c, where, elbo, kl=1.0, lt=1.0, stderr=0.1, truth=TRUTH, **extra):
    inside = where.startswith("inside")
    own = ("own" in where) if inside else None
    return {
        "x": x,
        "y": y,
        "class": c,
        "where": where,
        "inside": inside,
        "own": own,
        "elbo": elbo,
        "stderr": stderr,
        "neg_diffusion_loss": -lt,
        "prior_kl": kl,
        "reconstruction": elbo + kl + lt,
        "truth": truth if inside and own else (None if not inside else truth),
        **extra,
    }


def test_probability_finding_follows_its_numbers():
    own_above = _prob(
        [
            _row(0.5, -0.5, 2, "inside, own cell", 0.5),
            _row(0.5, -0.5, 3, "inside, cell 2", -3.0),
            _row(2, 2, 8, "outside, nearest cell 8", -50, kl=45, lt=2),
        ]
    ).finding()
    assert "scores 3.5 nats above the wrong class 3" in own_above and "prior KL is" in own_above
    own_below = _prob(
        [
            _row(0.5, -0.5, 2, "inside, own cell", -3.0),
            _row(0.5, -0.5, 3, "inside, cell 2", 0.5),
            _row(2, 2, 8, "outside, nearest cell 8", -50, kl=2, lt=45),
        ]
    ).finding()
    assert "scores 3.5 nats below the wrong class 3" in own_below and "L_T carries" in own_below
    close = _prob([_row(0.5, -0.5, 2, "inside, own cell", 0.5, stderr=1.0), _row(0.5, -0.5, 3, "inside, cell 2", 0.3)])
    assert "within the Monte Carlo noise" in close.finding()
    # every inside value is checked against its truth: two below it, one within the noise
    mixed = _prob(
        [
            _row(0, 0, 4, "inside, own cell", -2.77),
            _row(0.5, 0.5, 8, "inside, own cell", -0.88),
            _row(-0.5, 0.5, 6, "inside, own cell", TRUTH - 0.05),
        ]
    ).finding()
    assert "2 below the true log density 0.811 by more than 2 standard errors" in mixed
    assert "1 within 2 standard errors of it" in mixed and "at or above" not in mixed
    above = _prob([_row(0, 0, 4, "inside, own cell", TRUTH + 1.0)]).finding()
    assert "1 above the true log density 0.811 beyond the Monte Carlo noise, which a lower bound may not be" in above
    t = _prob([_row(0.5, -0.5, 2, "inside, own cell", 0.5)]).tables()[0]
    bound, rec, kl, lt = (
        t.columns.index(c)
        for c in (("bound", ".2f"), ("= reconstruction", ".2f"), ("- prior KL", ".2f"), ("- L_T", ".2f"))
    )
    r = t.rows[0]
    assert r[bound] == pytest.approx(r[rec] + r[kl] + r[lt])  # the signed columns add up to the bound
    assert r[kl] < 0 and r[lt] < 0


def test_exact_biases_are_measured_from_their_columns():
    def exact(row, logp, data_prior, smoothed):
        return {
            **row,
            "exact_logp": logp,
            "exact_logp_data_prior": data_prior,
            "smoothed_truth": smoothed,
            "exact_nfe": 100,
        }

    closer = _prob(
        [
            exact(_row(0, 0, 4, "inside, own cell", 0.5), TRUTH - 0.20, TRUTH - 0.05, TRUTH),
            exact(_row(2, 2, 8, "outside, nearest cell 8", -50), -20.0, -23.0, -900.0),
        ]
    ).finding()
    assert "inside by -0.150 to -0.150 nats, outside by +3.000 to +3.000 nats" in closer
    assert "worst distance from the truth inside is 0.050 nats, closer than the Gaussian's 0.200" in closer
    assert "less than 0.001 nats" in closer and "880.0 nats above it" in closer
    farther = _prob(
        [
            exact(_row(0, 0, 4, "inside, own cell", 0.5), TRUTH - 0.05, TRUTH + 0.30, TRUTH - 0.01),
            exact(_row(2, 2, 8, "outside, nearest cell 8", -50), -950.0, -951.0, -900.0),
        ]
    ).finding()
    assert "0.300 nats, farther than the Gaussian's 0.050" in farther
    same = _prob([exact(_row(0, 0, 4, "inside, own cell", 0.5), TRUTH - 0.2001, TRUTH - 0.2003, TRUTH)]).finding()
    assert "0.200 nats, as close as the Gaussian's 0.200" in same
    assert "up to 0.010 nats" in farther and "50.0 nats below it" in farther
    # a bound above the exact value beyond its noise is said, not averaged away
    over = _prob([exact(_row(0, 0, 4, "inside, own cell", 0.9, stderr=0.1), 0.6, 0.6, TRUTH)]).finding()
    assert "the bound lies above the exact value beyond its Monte Carlo noise at 1 of 1 points" in over
    # the class gap, by the bound and by the exact value
    gap = _prob(
        [
            exact(_row(0.5, -0.5, 2, "inside, own cell", 0.5), 0.7, 0.7, TRUTH),
            exact(_row(0.5, -0.5, 3, "inside, cell 2", -38.6), -14.1, -14.1, None),
        ]
    ).finding()
    assert "39.1 nats above the wrong class 3 by the bound, 14.8 nats above it by the exact value" in gap


def _inverted(log_density: float) -> SamplerInversion:
    return SamplerInversion(
        (4.0, 5.5),
        np.array([4.0, 5.5]),
        0.005,
        100,
        0.01,
        np.ones(3),
        np.zeros((3, 2)),
        np.zeros(3),
        "sde",
        100,
        np.zeros(2),
        noise_numbers=202,
        noise_log_density=log_density,
    )


def test_inverted_noise_likelihood_against_typical_draws():
    mean, sd = _inverted(0).typical_log_density
    assert mean == pytest.approx(-101 * (np.log(2 * np.pi) + 1)) and sd == pytest.approx(np.sqrt(101))
    assert "unusually unlikely" in _inverted(mean - 10 * sd).finding()
    assert "about as likely as a typical draw" in _inverted(mean).finding()
    assert "it stops within 0.01" in _inverted(mean).finding()


def _summary(train: float, val: float, best: float, best_step: int) -> LMTrainingSummary:
    m = {"train_loss": train, "val_loss": val, "best_val_loss": best, "best_step": best_step, "best_val_bpb": 2.0}
    return LMTrainingSummary(
        np.arange(1, 101), np.ones(100), np.array([50, 100]), np.ones(2), np.ones(2), m, "GPT", "c"
    )


def test_lm_training_gap_and_weights_are_computed():
    over = _summary(2.5, 4.0, 3.9, 50).finding()
    assert "overfitting" in over and "not the last (step 100)" in over
    fine = _summary(3.95, 4.0, 4.0, 100).finding()
    assert "no sign of overfitting" in fine and "which are also the last" in fine


def _att(first_row, last_row):
    n = len(first_row)
    mats = {k: np.tril(np.ones((n, n))) / np.arange(1, n + 1)[:, None] for k in ("first", "last")}
    mats["first"][-1], mats["last"][-1] = first_row, last_row
    return AttentionMaps("p a b", ["p", " a", " b", "c"][:n], n - 1, 3, "c", mats, 3, "greedy", "p", 2, 10, "b")


def test_attention_comparison_follows_the_rows():
    peaked, flat = np.array([0.85, 0.05, 0.05, 0.05]), np.full(4, 0.25)
    assert "The last block is the more concentrated" in _att(flat, peaked).finding()
    assert "The first block is the more concentrated" in _att(peaked, flat).finding()
    assert "about equally concentrated" in _att(flat, flat).finding()
    assert "0.85, 3.4x uniform" in _att(flat, peaked).finding()
    assert "The last block puts most of its weight on token 0" in _att(flat, peaked).finding()
    near = np.array([0.3, 0.24, 0.23, 0.23])  # the largest share of near-uniform weights is not "most"
    words = _att(near, np.array([0.45, 0.35, 0.1, 0.1])).finding()
    assert "first block spreads its weight almost evenly (the largest share, 0.30" in words
    assert "last block gives its largest share to token 0" in words and "most of its weight" not in words


def test_inversion_finding_says_success_or_what_it_reached():
    base = dict(
        target="a b",
        losses=np.array([2.0, 1.0]),
        target_tokens=["a", " b"],
        nearest_tokens=["a", " b"],
        nearest_text="a b",
        nearest_reproduces=True,
        vectors=np.zeros((2, 4)),
        free_run="a x",
        tied=True,
    )
    ok = TextInversion(success=True, steps=2, decoded=["x", "a b"], **base).finding()
    miss = TextInversion(success=False, steps=2, decoded=["x", "a c"], **base).finding()
    assert ok.startswith("The greedy decode equals 'a b' after 2") and "writes 'a x'" in ok and "tied" in ok
    assert miss.startswith("The inversion did not reach the target in 2 steps") and "'a c'" in miss


def test_departures_follow_the_configs():
    from gencli.core.config import resolve, to_dict
    from gencli.diffusion.config import resolve_diffusion
    from gencli.lm.config import LMConfig

    settings = {
        "diffusion": to_dict(resolve_diffusion()),
        "diffusion-cond": to_dict(resolve_diffusion(ConfigSources(sets=("model.conditional=true",)))),
        "lm": to_dict(resolve(LMConfig)),
    }
    rows = {d.what for d in departures(settings, {"best_step": 1000, "steps": 2000}, {"loss": "margin", "restarts": 4})}
    assert {"diffusion: sample.start", "lm: model.dropout", "lm: weights used by L2-L5", "L2: inversion loss"} <= rows
    settings["diffusion"]["sample"]["start"] = "standard"
    settings["lm"]["model"]["dropout"] = 0.1
    rows = {d.what for d in departures(settings, {"best_step": 2000, "steps": 2000}, {"loss": "ce", "restarts": 1})}
    assert not rows & {
        "diffusion: sample.start",
        "lm: model.dropout",
        "lm: weights used by L2-L5",
        "L2: inversion loss",
    }


def test_departures_of_a_smaller_budget_say_so_and_list_the_largest_changes():
    from gencli.report.departures import builtin_defaults

    settings = builtin_defaults()
    settings["diffusion-cond"]["train"]["epochs"] = 1500  # fewer than the exercise's 3000 (and than the default 8000)
    settings["lm"]["tokenizer"]["vocab_size"] = 512
    settings["lm"]["model"]["preset"] = "nano"
    settings["lm"]["train"]["max_iters"] = 300
    rows = {d.what: d for d in departures(settings, budget="the report's --quick budget")}
    epochs = rows["diffusion-cond: train.epochs"]
    assert epochs.here == "1500" and "fewer than the exercise" in epochs.why and "--quick" in epochs.why
    assert "more epochs raise" not in epochs.why
    assert "leak-free search" not in rows["lm: tokenizer.vocab_size"].why
    assert rows["lm: model.preset"].here == "nano" and rows["lm: train.max_iters"].here == "300"
    settings["diffusion-cond"]["train"]["epochs"] = 8000  # gencli's own default: its reason
    assert "more epochs raise" in {d.what: d for d in departures(settings)}["diffusion-cond: train.epochs"].why


def _coded(static: int, adaptive: int, ppmd: int, xz: int, ok: bool = True) -> CompressionComparison:
    rows = [
        CodedText("text", STATIC, 1000, static, round_trip=True),
        CodedText("text", ADAPTIVE, 1000, adaptive, round_trip=ok),
        CodedText("text", "PPMd", 1000, ppmd),
        CodedText("text", "xz", 1000, xz),
    ]
    return CompressionComparison(rows, "given the training text")


def test_compression_finding_follows_the_sizes():
    ahead = _coded(static=250, adaptive=230, ppmd=240, xz=300).finding()
    assert "fewer than every classic compressor" in ahead and "saves 8.0%" in ahead
    behind = _coded(static=250, adaptive=260, ppmd=240, xz=245).finding()
    assert "gencli static takes 2.000" in behind and "more than every classic compressor" in behind
    assert "costs 4.0%" in behind
    between = _coded(static=250, adaptive=242, ppmd=240, xz=300).finding()
    assert "fewer than xz (2.400) but more than PPMd (1.920)" in between
    two = _coded(static=250, adaptive=232, ppmd=240, xz=300).finding()
    assert "fewer than every classic compressor here (the best, PPMd: 1.920)" in two
    assert "decoded to the original bytes" in ahead and "NOT" not in ahead
    assert "did NOT give the original bytes back for gencli adaptive" in _coded(250, 230, 240, 300, ok=False).finding()


def test_compression_finding_lists_the_coders_on_each_side():
    rows = [
        CodedText("t", ADAPTIVE, 1000, 230),
        CodedText("t", "xz", 1000, 300),
        CodedText("t", "zpaq", 1000, 220),
        CodedText("t", "PPMd", 1000, 240),
        CodedText("t", "bzip2", 1000, 250),
    ]
    text = CompressionComparison(rows, "given nothing").finding()
    assert "fewer than PPMd (1.920), bzip2 (2.000) and xz (2.400) but more than zpaq (1.760)" in text


def _token_prompt(success: bool, evidence: dict | None) -> TokenPrompt:
    return TokenPrompt(
        "the Queen was very angry", success, "p", [1], [2, 3], "x", 1, 10, 1.0, np.ones(10), True, False, evidence
    )


def test_token_prompt_says_what_the_training_text_holds():
    seen = _token_prompt(True, {"occurrences": 3, "unseen_words": [], "unseen_pairs": []})
    assert "occurs 3 times in the training text" in seen.finding()
    pair = _token_prompt(False, {"occurrences": 0, "unseen_words": [], "unseen_pairs": ["very angry"]})
    assert (
        "never occurs in the training text: the word pair 'very angry' never occurs although each word does"
        in pair.finding()
    )
    words = _token_prompt(
        False,
        {
            "occurrences": 0,
            "unseen_words": ["squirrel", "walnut"],
            "unseen_pairs": ["little squirrel", "am a", "a walnut"],
        },
    ).finding()
    assert "the words 'squirrel', 'walnut' never occur; the word pair 'am a' never occurs." in words
    assert "training text" not in _token_prompt(False, None).finding()
    rate = prompt_search_rate(
        [seen, pair, _token_prompt(True, {"occurrences": 0, "unseen_words": [], "unseen_pairs": []})]
    )
    assert rate == (
        "2 of 3 sentences got a prompt whose greedy continuation is the sentence: 1 of the 1 that occur in "
        "the training text and 1 of the 2 that never occur there."
    )
    assert prompt_search_rate([seen, _token_prompt(False, None)]).endswith("is the sentence.")


def _mixed(network: np.ndarray, match: np.ndarray) -> CompressionComparison:
    inputs = ["network", "order 0", "order 3", "word", "match", "bias"]
    n = len(network)
    weights = np.stack([network, np.full(n, 0.05), np.full(n, 0.1), np.full(n, 0.02), match, np.full(n, 0.3)], 1)
    row = CodedText("story", ADAPTIVE, 1000, 230, mixer_inputs=inputs, mixer_weights=weights)
    return CompressionComparison([row], "given nothing")


def test_mixer_finding_follows_the_weights():
    rising = _mixed(np.linspace(0.5, 0.9, 100), np.full(100, 0.01)).mixer_finding()
    assert "rose from 0.52 in the first tenth of the tokens coded to 0.88 in the last" in rising
    falling = _mixed(np.linspace(0.9, 0.5, 100), np.full(100, 0.01)).mixer_finding()
    assert "fell from 0.88" in falling and "to 0.52 in the last" in falling
    flat = _mixed(np.full(100, 0.7), np.full(100, 0.4)).mixer_finding()
    assert "stayed near 0.70" in flat
    # the byte models' share: orders, words and the match (not the bias), the largest group named
    assert "summed to 0.57 on average, the most from the match model (0.40)" in flat
    assert "the most from the byte orders 3+ (0.10)" in rising
    assert CompressionComparison([CodedText("t", ADAPTIVE, 10, 3)], "x").mixer_finding() == ""
