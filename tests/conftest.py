"""Shared fixtures: tiny trained checkpoints and a CLI runner that sees the real exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from gencli.cli.app import app

torch.set_num_threads(1)


class Result:
    def __init__(self, code: int, stdout: str, stderr: str):
        self.exit_code, self.stdout, self.stderr = code, stdout, stderr

    def json(self) -> dict:
        return json.loads(self.stdout)


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run `gencli ARGS` in a temporary working directory; returns exit code, stdout, stderr."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args: str) -> Result:
        r = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
        return Result(r.exit_code, r.stdout, r.stderr)

    return run


TINY_DIFFUSION = ["--set", "data.n_points=256", "--set", "train.epochs=60", "--set", "model.hidden=32"]


@pytest.fixture(scope="session")
def diffusion_ckpts(tmp_path_factory) -> dict[str, Path]:
    """A tiny unconditional and a tiny conditional diffusion checkpoint."""
    root = tmp_path_factory.mktemp("diffusion")
    runner = CliRunner()
    out = {}
    for name, extra in (("uncond", []), ("cond", ["--conditional"])):
        path = root / name
        r = runner.invoke(app, ["diffusion", "train", "--ckpt", str(path), *TINY_DIFFUSION, *extra, "--json"])
        assert r.exit_code == 0, r.stderr
        out[name] = path
    return out


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch):
    monkeypatch.delenv("GENCLI_DEBUG", raising=False)


@pytest.fixture(autouse=True, scope="session")
def _own_cache(tmp_path_factory):
    """The user cache folder (the numeric-path measurements) of the tests: a fresh one, never the user's."""
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def lm(tmp_path_factory):
    """A tiny language model trained 40 steps on a generated corpus, loaded (shared by the analysis tests)."""
    from gencli.lm.model.store import load_trained
    from tests.test_cli_lm import TINY
    from tests.test_lm_core import CORPUS

    root = tmp_path_factory.mktemp("lm-analyses")
    (root / "corpus.txt").write_text(CORPUS)
    r = CliRunner().invoke(
        app,
        ["lm", "train", "--corpus", str(root / "corpus.txt"), "--ckpt", str(root / "ck"), "--max-iters", "40", *TINY],
    )
    assert r.exit_code == 0, r.stderr
    return load_trained(root / "ck")


TINY_SET = [
    "--set",
    "data.n_points=600",
    "--set",
    "train.epochs=150",
    "--set",
    "model.hidden=32",
    "--set",
    "train.batch_size=256",
    "--set",
    "model.fourier=8",
]


def labelled_blobs(n: int = 600, seed: int = 0) -> str:
    """A CSV of three labelled clusters of different shapes, away from the origin (no built-in looks like it)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    parts = [
        rng.normal([3.0, -2.0], 0.2, (n // 3, 2)),
        np.c_[rng.uniform(4.0, 6.0, n // 3), rng.normal(0.0, 0.1, n // 3) - 2.0],
        rng.normal([3.0, 0.5], [0.5, 0.1], (n // 3, 2)),
    ]
    rows = [f"{float(x)!r},{float(y)!r},{c}" for c, pts in enumerate(parts) for x, y in pts]
    return "x,y,label\n" + "\n".join(rows) + "\n"


@pytest.fixture(scope="session")
def set_ckpts(tmp_path_factory) -> dict[str, Path]:
    """Tiny models of a set that is not the square: moons (unconditional and conditional) and labelled points from a
    CSV (conditional)."""
    root = tmp_path_factory.mktemp("sets")
    (root / "blobs.csv").write_text(labelled_blobs())
    runner = CliRunner()
    out = {}
    for name, extra in (
        ("moons", ["--data", "moons"]),
        ("moons-cond", ["--data", "moons", "--conditional"]),
        ("blobs-cond", ["--data", str(root / "blobs.csv"), "--conditional"]),
    ):
        r = runner.invoke(app, ["diffusion", "train", "--ckpt", str(root / name), *TINY_SET, *extra, "--json"])
        assert r.exit_code == 0, r.stderr
        out[name] = root / name
    (root / "blobs.csv").unlink()  # a trained checkpoint never reads the file again
    return out
