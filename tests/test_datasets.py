"""The 2D sets: densities against their own draws and against 1, the quality measures against known answers, and
every kind of bad points file."""

import math

import numpy as np
import pytest
import torch

from gencli.diffusion.datasets import builtin, dataset_for
from gencli.diffusion.datasets.catalog import BUILTIN
from gencli.diffusion.datasets.points import PointCloud, PointsFileError, read_points
from gencli.diffusion.quality.histogram import histogram_tv
from gencli.diffusion.quality.knn import precision_recall
from gencli.diffusion.quality.measure import measure

NAMES = list(BUILTIN)


def _grid(lo, hi, size):
    xs, ys = np.linspace(lo[0], hi[0], size), np.linspace(lo[1], hi[1], size)
    gx, gy = np.meshgrid(xs, ys, indexing="xy")
    cell = (xs[1] - xs[0]) * (ys[1] - ys[0])
    return torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32), cell


def test_the_catalog_names_every_set_and_each_one_builds():
    for name, (_, cls, _) in BUILTIN.items():
        d = builtin(name)
        assert type(d).__name__ == cls and d.name == name, name


@pytest.mark.parametrize("name", NAMES)
def test_each_density_integrates_to_one_and_matches_a_histogram_of_its_own_draws(name):
    d = builtin(name)
    lo, hi = d.bounds()
    lo, hi = lo - 0.3, hi + 0.3
    pts, cell = _grid(lo, hi, 301)
    p = torch.exp(d.log_density(pts)).numpy()
    assert p.sum() * cell == pytest.approx(1.0, abs=0.01)  # the uniform sets' edges cost a little on a grid
    # the density's mass in each of 6 x 6 boxes against the share of 40,000 draws there
    x, _ = d.draw(40000, torch.Generator().manual_seed(5))
    edges_x, edges_y = np.linspace(lo[0], hi[0], 7), np.linspace(lo[1], hi[1], 7)
    counts, _, _ = np.histogram2d(x[:, 0].numpy(), x[:, 1].numpy(), [edges_x, edges_y])
    g = pts.numpy()
    mass, _, _ = np.histogram2d(g[:, 0], g[:, 1], [edges_x, edges_y], weights=p * cell)
    assert np.abs(counts / len(x) - mass).max() < 0.012


@pytest.mark.parametrize("name", NAMES)
def test_class_densities_sum_to_the_density(name):
    d = builtin(name)
    x, labels = d.draw(300, torch.Generator().manual_seed(1))
    share = torch.bincount(labels, minlength=d.n_classes).double() / len(labels)
    per = torch.stack([d.log_density(x, c) for c in range(d.n_classes)], 1)  # log p(x | c)
    mixed = torch.logsumexp(per + torch.log(torch.full((d.n_classes,), 1.0 / d.n_classes, dtype=torch.float64)), 1)
    assert torch.allclose(mixed, d.log_density(x), atol=1e-6)
    assert share.min() > 0.5 / d.n_classes  # every class is drawn, about equally often


@pytest.mark.parametrize("name", NAMES)
def test_the_smoothed_density_tends_to_the_density_and_integrates_to_one(name):
    d = builtin(name)
    x, _ = d.draw(200, torch.Generator().manual_seed(2))
    assert torch.allclose(d.smoothed_log_density(x, 1e-4), d.log_density(x), atol=2e-3)
    lo, hi = d.bounds()
    pts, cell = _grid(lo - 0.5, hi + 0.5, 301)
    assert float(torch.exp(d.smoothed_log_density(pts, 0.1)).sum()) * cell == pytest.approx(1.0, abs=0.01)


def test_draws_come_from_their_seed_and_classify_into_their_own_class():
    for name in NAMES:
        d = builtin(name)
        a, la = d.draw(500, torch.Generator().manual_seed(3))
        b, lb = d.draw(500, torch.Generator().manual_seed(3))
        assert torch.equal(a, b) and torch.equal(la, lb)
        agree = (d.classify(a) == la).double().mean()
        assert agree > (0.999 if name in ("square", "checkerboard", "ring") else 0.9), name


def test_two_draws_of_a_set_measure_as_sampling_noise_and_a_shifted_or_shrunk_one_does_not():
    for name in ("square", "ring", "moons"):
        d = builtin(name)
        same, _ = d.draw(2000, torch.Generator().manual_seed(11))
        q = measure(same, d)
        assert 0.75 < q.ratio < 1.3, (name, q.ratio)
        assert q.precision > 0.97 and q.recall > 0.97
        shifted = measure(same + 0.3 * d.scale(), d)
        centre = torch.tensor(d.centre(), dtype=torch.float32)
        shrunk = measure(centre + 0.6 * (same - centre), d)
        assert shifted.ratio > 2.5 and shifted.precision < 0.8, name
        assert shrunk.ratio > 1.8 and shrunk.recall < 0.85, name


def test_precision_and_recall_against_known_answers():
    g = torch.Generator().manual_seed(0)
    data = torch.rand(2000, 2, generator=g)
    half = torch.rand(2000, 2, generator=g) * torch.tensor([0.5, 1.0])  # the left half of the data's square
    p, r = precision_recall(half, data)
    assert p > 0.97 and 0.4 < r < 0.6  # realistic samples that cover half of it
    far = torch.rand(2000, 2, generator=g) + 5
    assert precision_recall(far, data) == (0.0, 0.0)


def test_histogram_tv_is_half_the_l1_distance():
    lo, hi = np.zeros(2), np.ones(2)
    a = torch.tensor([[0.05, 0.05], [0.95, 0.95]])
    b = torch.tensor([[0.05, 0.05], [3.0, 3.0]])  # the second point outside the box: its own bin
    assert histogram_tv(a, b, lo, hi) == pytest.approx(0.5)
    assert histogram_tv(a, a, lo, hi) == 0.0


def test_the_square_keeps_the_exercise_figures():
    d = builtin("square")
    x, _ = d.draw(10000, torch.Generator().manual_seed(4))
    q = measure(x, d)
    assert q.inside_fraction == 1.0 and q.square_tv < 0.06 and q.square_floor == pytest.approx(0.04, abs=0.001)
    assert q.truth_logp == pytest.approx(math.log(1 / 4)) and q.truth_outside == 0.0


def _write(tmp_path, text, name="p.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_points_file_reads_with_or_without_labels_and_splits_by_its_seed(tmp_path):
    rows = "\n".join(f"{i * 0.1},{-i * 0.2},{i % 3}" for i in range(100))
    pts, labels = read_points(_write(tmp_path, "x,y,label\n" + rows + "\n"))
    assert (
        pts.shape == (100, 2) and labels.tolist()[:4] == [0, 1, 2, 0] and pts[3].tolist() == pytest.approx([0.3, -0.6])
    )
    cloud = PointCloud(pts, labels, "p.csv", holdout=0.1, seed=0)
    train, held = cloud.training_points(0, 0)[0], cloud.reference_points(1000)[0]
    assert len(train) == 90 and len(held) == 10
    assert not set(map(tuple, train.tolist())) & set(map(tuple, held.tolist()))
    other = PointCloud(pts, labels, "p.csv", holdout=0.1, seed=1)
    assert not torch.equal(other.reference_points(10)[0], held)
    pts2, none = read_points(_write(tmp_path, "y,x\n1,2\n3,4\n", "two.csv"))  # any column order, no labels
    assert none is None and pts2.tolist() == [[2.0, 1.0], [4.0, 3.0]]


@pytest.mark.parametrize(
    "text, needle",
    [
        ("", "empty"),
        ("a,b\n1,2\n", "no column x or y"),
        ("x,z\n1,2\n", "no column y"),
        ("x,y\n1,two\n", "line 2: 'two' is not a number"),
        ("x,y\n1,2\n3\n", "line 3 has 1 fields"),
        ("x,y\n1,nan\n", "line 2: the point (1, nan) is not finite"),
        ("x,y\ninf,1\n", "is not finite"),
        ("x,y,label\n1,2,1.5\n", "label '1.5' is not an integer"),
        ("x,y,label\n1,2,-1\n", "labels must be 0, 1, 2"),
        ("x,y,label\n1,2,1\n3,4,1\n", "class 0 has no points"),
        ("x,y\n" + "1,2\n" * 10, "at least 24 are needed"),
    ],
)
def test_every_bad_points_file_is_one_line(tmp_path, text, needle):
    path = _write(tmp_path, text)
    with pytest.raises(PointsFileError) as e:
        PointCloud.from_file(path)
    assert needle in str(e.value) and "\n" not in str(e.value) and str(path) in str(e.value)


def test_a_points_file_that_is_not_text_or_not_a_file_is_refused(tmp_path):
    (tmp_path / "bin.csv").write_bytes(b"x,y\n\xff\xfe\x00\x01")
    with pytest.raises(PointsFileError, match="not UTF-8"):
        read_points(tmp_path / "bin.csv")
    with pytest.raises(PointsFileError, match="not a regular file"):
        read_points(tmp_path)
    with pytest.raises(PointsFileError, match="no such file"):
        read_points(tmp_path / "missing.csv")


def test_the_config_names_a_set_or_a_csv(tmp_path):
    from gencli.core.config import ConfigError, ConfigSources
    from gencli.diffusion.config import resolve_diffusion

    with pytest.raises(ConfigError, match="data.name: must be one of square"):
        resolve_diffusion(ConfigSources(explicit={"data.name": "donut"}))
    path = _write(tmp_path, "x,y\n" + "".join(f"{i},{i * i}\n" for i in range(50)))
    cfg = resolve_diffusion(ConfigSources(explicit={"data.name": str(path)}))
    assert cfg.model.fourier == 32 and cfg.train.batch_size == 1024  # any set but the square: the set recipe
    assert len(dataset_for(cfg.data).training_points(0, 0)[0]) == 42  # 8 held out, the fewest a file keeps


@pytest.mark.parametrize("name", ["moons", "spirals"])
def test_curve_densities_against_direct_integration(name):
    """A set along curves: log p(x) = log (1/K) sum_k integral_0^1 N(x; c_k(u), s^2 I) du, against scipy's adaptive
    quadrature of that integral point by point (near a curve, between two, and far away)."""
    from scipy.integrate import quad

    d = builtin(name)
    near, _ = d.draw(3, torch.Generator().manual_seed(4))
    x = torch.cat([near, torch.tensor([[0.0, 0.0], [1.7, -1.1]])]).double()
    var = d.std**2

    def direct(p):
        total = 0.0
        for k in range(d.n_classes):

            def density(u, k=k):
                c = d.curve(k, torch.tensor([u], dtype=torch.float64))[0]
                return math.exp(-float(((p - c) ** 2).sum()) / (2 * var)) / (2 * math.pi * var)

            total += quad(density, 0.0, 1.0, limit=400, epsabs=0, epsrel=1e-10)[0]
        return math.log(total / d.n_classes)

    got = d.log_density(x)
    for i, p in enumerate(x):
        assert float(got[i]) == pytest.approx(direct(p), abs=1e-4), (name, p.tolist())
