"""The diffusion analyses as library functions: numbers against independent recomputation, shapes, invariants."""

import dataclasses
import math

import numpy as np
import pytest

from gencli.core.results import Table, format_cell
from gencli.diffusion import analyses
from gencli.diffusion.datasets import builtin
from gencli.diffusion.model.store import load_trained
from gencli.diffusion.process.sde import VESDE


@pytest.fixture(scope="module")
def models(diffusion_ckpts):
    return {k: load_trained(v) for k, v in diffusion_ckpts.items()}


def settings(model, **kw):
    return dataclasses.replace(model.cfg.sample, **{"steps": 20, **kw})


def test_sample_quality_matches_a_recount_of_its_points(models):
    m = models["cond"]
    res = analyses.sample_quality(m, settings(m), 450, seed=3)
    pts, labels = res.points, res.labels
    assert pts.shape == (450, 2) and np.bincount(labels).tolist() == [50] * 9
    assert res.inside_fraction == pytest.approx(np.mean(np.all(np.abs(pts) <= 1, axis=1)))
    col = np.clip(np.floor((pts[:, 0] + 1) / 2 * 3), 0, 2)
    row = np.clip(np.floor((pts[:, 1] + 1) / 2 * 3), 0, 2)
    cell = np.where(np.all(np.abs(pts) <= 1, axis=1), 3 * row + col, -1)
    own = [float(np.mean(cell[labels == c] == c)) for c in range(9)]
    assert res.own_region == pytest.approx(own)
    assert res.own_mean == pytest.approx(np.mean(own)) and res.own_worst[1] == pytest.approx(min(own))
    d = res.to_dict()
    assert {"inside_fraction", "tv_distance", "own_region_fraction", "own_region_mean", "own_region_worst"} <= d.keys()


def test_same_seed_same_samples_other_seed_other_samples(models):
    m = models["uncond"]
    a = analyses.sample_quality(m, settings(m, sampler="sde"), 100, seed=1).points
    b = analyses.sample_quality(m, settings(m, sampler="sde"), 100, seed=1).points
    c = analyses.sample_quality(m, settings(m, sampler="sde"), 100, seed=2).points
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_determinism_exact_for_ode_and_not_for_sde(models):
    m = models["uncond"]
    ode = analyses.determinism(m, settings(m, sampler="heun"), repeats=3, n=50)
    assert ode.identical and ode.max_abs_diff == 0.0 and ode.n_identical == 2
    assert ode.paths.shape == (3, 21, 4, 2) and np.array_equal(ode.paths[0], ode.paths[2])
    sde = analyses.determinism(m, settings(m, sampler="sde"), repeats=3, n=50)
    assert not sde.identical and sde.n_identical == 0 and sde.max_abs_diff > 0
    assert np.array_equal(sde.paths[0][0], sde.paths[1][0]), "every run starts from the same noise"


def test_sweep_rows_follow_the_variants(models):
    m = models["cond"]
    variants = [("euler", "uniform", 1), ("heun", "karras", 5), ("ddim", "uniform", 5)]
    res = analyses.sampler_sweep(m, settings(m), 90, 0, variants, "compare")
    assert [(r.sampler, r.schedule, r.steps) for r in res.rows] == variants
    labels = res.labels
    for r in res.rows:
        assert r.points.shape == (90, 2)
        col = np.clip(np.floor((r.points[:, 0] + 1) / 2 * 3), 0, 2)
        row = np.clip(np.floor((r.points[:, 1] + 1) / 2 * 3), 0, 2)
        cell = np.where(np.all(np.abs(r.points) <= 1, axis=1), 3 * row + col, -1)
        per_class = [np.mean(cell[labels == c] == c) for c in range(9)]
        assert r.own_region_mean == pytest.approx(np.mean(per_class))
    assert [row["steps"] for row in res.to_dict()["compare"]] == [1, 5, 5]


def test_sigma_schedules_against_the_closed_form():
    sde = VESDE()
    res = analyses.sigma_schedules(sde, 10, rho=7.0)
    ts, sig = res.series["uniform"]
    assert np.allclose(ts, 1 - np.arange(11) / 10, atol=1e-6)
    assert np.allclose(sig, np.exp(5 * (ts - 1)), rtol=1e-5)
    _, ks = res.series["karras"]
    assert ks[0] == pytest.approx(1.0) and ks[-1] == pytest.approx(math.exp(-5), rel=1e-4)
    assert np.all(np.diff(ks) < 0)
    ramp = np.linspace(0, 1, 11)
    expected = (1 + ramp * (math.exp(-5) ** (1 / 7) - 1)) ** 7  # Karras et al. 2022, eq. 5
    assert np.allclose(ks, expected, rtol=1e-4)


def test_forward_path_has_the_marginal_spread():
    sde, square = VESDE(), builtin("square")
    paths = np.stack([analyses.forward_path(sde, square, None, 50, seed).path for seed in range(400)])
    spread = paths.std(axis=0).mean(axis=1)  # (51,)
    assert np.allclose(spread, np.exp(5 * (np.linspace(0, 1, 51) - 1)), rtol=0.15)
    assert np.allclose(paths.mean(axis=0)[-1], [1.5, -1.25], atol=0.15)


def test_reverse_paths_one_per_class_and_the_own_cell_check(models):
    m = models["cond"]
    res = analyses.reverse_paths(m, settings(m), seed=1)
    assert res.traj.shape == (21, 9, 2) and res.labels.tolist() == list(range(9))
    ends = res.traj[-1]
    inside = np.all(np.abs(ends) <= 1, axis=1)
    cell = np.where(
        inside,
        3 * np.clip(np.floor((ends[:, 1] + 1) * 1.5), 0, 2) + np.clip(np.floor((ends[:, 0] + 1) * 1.5), 0, 2),
        -1,
    )
    assert res.landed.tolist() == cell.astype(int).tolist()
    assert res.to_dict()["in_own_region"] == (cell == np.arange(9)).tolist()


def test_probability_table_places_and_classes(models):
    m = models["cond"]
    res = analyses.probability_table(m, settings(m), None, samples=32)
    rows = res.rows
    wheres = {(r["x"], r["y"], r["class"]): r["where"] for r in rows}
    assert wheres[(0.5, -0.5, 2)] == "inside, own cell" and wheres[(0.5, -0.5, 3)] == "inside, cell 2"
    # an outside point is scored under the class of the cell nearest to it (col from x, row from y, clamped)
    assert wheres[(2.0, 2.0, 8)] == "outside, nearest cell 8"
    assert wheres[(1.3, 0.0, 5)] == "outside, nearest cell 5" and wheres[(-3.0, 1.0, 6)] == "outside, nearest cell 6"
    assert all(
        r["elbo"] == pytest.approx(r["reconstruction"] - r["prior_kl"] + r["neg_diffusion_loss"], abs=1e-4)
        for r in rows
    )
    own = [r for r in rows if r["where"] == "inside, own cell"]
    assert own and all(r["truth"] == pytest.approx(math.log(9 / 4)) for r in own)  # log p(x | c) in the own cell
    assert all(r["truth"] == float("-inf") for r in rows if not r["inside"])
    with pytest.raises(Exception, match="out of range"):
        analyses.probability_table(m, settings(m), [(0.0, 0.0, 9)], samples=8)


def test_inversion_reports_the_distance_it_reached(models):
    m = models["uncond"]
    res = analyses.invert_to_target(m, (4.0, 5.5), steps=10, iterations=40, lr=0.2)
    assert res.distance == pytest.approx(float(np.linalg.norm(res.final - np.array([4.0, 5.5]))), abs=1e-5)
    assert np.allclose(res.trajectory[-1], res.final, atol=1e-5)
    assert res.losses[-1] < res.losses[0]


def test_tables_format_each_column_at_one_precision():
    t = Table(
        "t", [("name", ""), ("frac", ".3f"), ("n", "d")], [("a", 1, 3), ("b", 0.97851, 4.0), ("c", float("nan"), None)]
    )
    assert t.formatted() == [["a", "1.000", "3"], ["b", "0.979", "4"], ["c", "–", "–"]]
    assert format_cell(True, "") == "yes" and format_cell(np.float32(0.5), ".2f") == "0.50"
    assert [t.numeric(i) for i in range(3)] == [False, True, True]
