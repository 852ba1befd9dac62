"""Every diffusion analysis on sets that are not the square: a built-in (moons) and labelled points from a CSV."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from gencli.diffusion import analyses
from gencli.diffusion.model.store import load_trained


@pytest.fixture(scope="module")
def models(set_ckpts):
    return {k: load_trained(v) for k, v in set_ckpts.items()}


def settings(model, **kw):
    return dataclasses.replace(model.cfg.sample, **{"steps": 20, **kw})


def test_the_checkpoint_remembers_its_set_and_its_standardisation(models):
    m = models["moons"]
    assert m.cfg.data.name == "moons" and m.checkpoint.meta["data"]["name"] == "moons"
    x, _ = analyses.common.training_points(m)
    rms = float(x.double().var(0).mean().sqrt())
    assert float(m.model.input_scale) == pytest.approx(rms * math.sqrt(3), rel=1e-5)
    assert m.sde.sigma_max == pytest.approx(float(m.model.input_scale))  # the schedule scales with the data
    blobs = models["blobs-cond"]
    assert blobs.checkpoint.meta["data"]["held_out"] == 60 and blobs.cfg.n_classes == 3
    assert blobs.dataset.has_density is False


def test_samples_are_measured_against_the_set_and_classes_by_their_own_rule(models):
    m = models["moons-cond"]
    res = analyses.sample_quality(m, settings(m), 300, seed=1)
    q = res.quality
    assert q.reference == 300 and q.reference_kind == "fresh data" and q.square_tv is None
    assert res.tv_distance == q.tv and q.truth_logp is not None  # moons know their density
    landed = m.dataset.classify(torch.tensor(res.points))
    own = [float(np.mean(landed.numpy()[res.labels == c] == c)) for c in range(2)]
    assert res.own_region == pytest.approx(own)
    assert "land in their own moon" in res.finding() and "the square" not in res.finding()
    blobs = models["blobs-cond"]
    res = analyses.sample_quality(blobs, settings(blobs), 300, seed=1)
    assert res.quality.reference == 60 and res.quality.reference_kind == "held-out points"
    assert res.quality.truth_logp is None and "lie nearest a point of the file" in res.finding()
    one = analyses.sample_quality(blobs, settings(blobs), 100, seed=1, klass=1)
    assert one.quality.reference == len(blobs.dataset.of_class(1).held_idx)  # one class against its own points


def test_trajectories_determinism_and_the_forward_process_on_a_set(models):
    m = models["moons"]
    fwd = analyses.forward_path(m.sde, m.dataset, None, 50, 0)
    assert not fwd.start_inside and "outside the moons" in fwd.finding()
    paths = analyses.reverse_paths(m, settings(m), 4, 0)
    assert paths.ends_inside.tolist() == m.dataset.inside(torch.tensor(paths.traj[-1])).tolist()
    cond = analyses.reverse_paths(models["moons-cond"], settings(models["moons-cond"]), 4, 0)
    assert (
        cond.labels.tolist() == [0, 1]
        and cond.landed.tolist() == m.dataset.classify(torch.tensor(cond.traj[-1])).tolist()
    )
    det = analyses.determinism(m, settings(m, sampler="euler"), repeats=2, n=30)
    assert det.identical and det.view.name == "moons"


def test_likelihoods_beside_the_truth_where_known_and_unknown_where_not(models):
    m = models["moons-cond"]
    prob = analyses.probability_table(m, settings(m), None, samples=16, exact=True, rtol=1e-3, atol=1e-3)
    for r in prob.rows:
        want = float(m.dataset.log_density(torch.tensor([[r["x"], r["y"]]]), r["class"])[0])
        assert r["truth"] == pytest.approx(want)
    assert any(not r["inside"] for r in prob.rows) and any(r["inside"] and r["own"] for r in prob.rows)
    assert any(r["own"] is False for r in prob.rows)  # one place under a wrong class
    grid = analyses.exact_density_grid(m, settings(m), size=7, rtol=1e-3, atol=1e-3)
    assert grid.truth is not None and grid.klass == 0
    blobs = models["blobs-cond"]
    prob = analyses.probability_table(blobs, settings(blobs), None, samples=16)
    assert all(r["truth"] is None for r in prob.rows) and "true density is unknown" in prob.finding()
    grid = analyses.exact_density_grid(blobs, settings(blobs), size=5, rtol=1e-3, atol=1e-3)
    assert grid.truth is None and "no truth to set beside it" in grid.finding()
    model, truth, se, nfe = analyses.data_log_likelihood(
        models["moons"], settings(models["moons"]), 40, rtol=1e-3, atol=1e-3
    )
    assert truth == pytest.approx(float(m.dataset.log_density(m.dataset.reference_points(40)[0]).mean()))
    assert se > 0 and nfe > 0 and math.isfinite(model)


def test_inversion_guidance_and_the_gallery_on_a_set(models):
    m = models["moons"]
    target = m.dataset.far_target()
    inv = analyses.invert_to_target(m, target, steps=10, iterations=30, lr=0.2)
    assert inv.distance == pytest.approx(float(np.linalg.norm(inv.final - np.array(target))), abs=1e-5)
    g = analyses.guidance_sweep(models["moons-cond"], settings(models["moons-cond"]), 200, 0, [0.0, 2.0])
    assert [r.guidance for r in g.rows] == [0.0, 2.0, 0.0, 2.0] and all(r.quality.n == 200 for r in g.rows)
    assert "own-moon fraction" in g.finding()
    gallery = analyses.distribution_gallery({"moons": m}, 200, 20)
    assert gallery.rows[0].view.name == "moons" and gallery.rows[0].truth_ll is None  # no likelihood asked for
    assert "moons" in gallery.finding()


def test_conditional_samples_follow_the_class_shares_of_the_data():
    """Unequal labels in a file: the conditional model's samples take each class as often as the data does, so the
    TV against the data measures the shapes, not a reweighting; equal shares keep the cycling labels."""
    from gencli.diffusion.sampling.samplers import balanced_labels, weighted_labels

    labels = weighted_labels(1000, [0.4, 0.3, 0.2, 0.1])
    assert torch.bincount(labels, minlength=4).tolist() == [400, 300, 200, 100]
    assert set(labels[:10].tolist()) == {0, 1, 2, 3}, "a prefix is spread over the classes"
    odd = weighted_labels(7, [1, 1, 2])
    assert torch.bincount(odd, minlength=3).tolist() == [2, 2, 3], "shares 1.75, 1.75, 3.5: the largest remainders"
    assert torch.equal(weighted_labels(10, [0.5, 0.5]), balanced_labels(10, 2))
