"""The checkpoint directory: round trip, refusal to clobber, no pickle, one-line errors."""

import pickle

import pytest
import torch

from gencli.checkpoint.format import CheckpointError
from gencli.checkpoint.load import load_checkpoint
from gencli.checkpoint.save import save_checkpoint
from gencli.checkpoint.training import check_writable_target
from gencli.diffusion.config import DiffusionConfig
from gencli.diffusion.model.store import load_trained
from gencli.diffusion.sampling.samplers import sample_points
from gencli.diffusion.training.fit import save_trained
from gencli.diffusion.training.trainer import DiffusionTrainer


def _tiny_trainer(epochs=10):
    cfg = DiffusionConfig()
    cfg.data.n_points, cfg.model.hidden, cfg.train.epochs = 64, 16, epochs
    return cfg, DiffusionTrainer(cfg)


def test_round_trip_gives_identical_samples(tmp_path):
    cfg, tr = _tiny_trainer()
    tr.run(10)
    save_trained(tr, tmp_path / "ck")
    a, b = load_trained(tmp_path / "ck"), load_trained(tmp_path / "ck")
    xa = sample_points(a.model, 50, a.sde, 20, seed=1)
    assert torch.equal(xa, sample_points(b.model, 50, b.sde, 20, seed=1))
    assert a.cfg == cfg
    assert not (tmp_path / ".ck.tmp").exists() and [p.name for p in tmp_path.iterdir()] == ["ck"]


def test_resume_continues_exactly(tmp_path):
    _, straight = _tiny_trainer()
    straight.run(20)
    _, first = _tiny_trainer()
    first.run(10)
    save_trained(first, tmp_path / "ck")
    cfg, resumed = _tiny_trainer()
    resumed.load_state_dict(load_trained(tmp_path / "ck").checkpoint.load_train_state())
    resumed.run(20)
    assert resumed.losses == straight.losses
    for p, q in zip(resumed.model.parameters(), straight.model.parameters()):
        assert torch.equal(p, q)
    averaged, want = resumed.sampling_weights(), straight.sampling_weights()  # the moving average resumes too
    assert resumed.cfg.train.ema > 0 and averaged.keys() == want.keys()
    assert all(torch.equal(averaged[k], want[k]) for k in want)


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


def test_crafted_train_state_does_not_run_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, tr = _tiny_trainer()
    save_trained(tr, tmp_path / "ck")
    (tmp_path / "ck" / "train_state.pt").write_bytes(pickle.dumps({"x": _Evil()}))
    with pytest.raises(CheckpointError, match="unsafe"):
        load_trained(tmp_path / "ck").checkpoint.load_train_state()
    assert not (tmp_path / "pwned").exists()


def test_refuses_to_overwrite_other_things(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("keep me")
    with pytest.raises(CheckpointError, match="refusing"):
        check_writable_target(tmp_path / "notes", "diffusion")
    save_checkpoint(tmp_path / "lm", "lm", {"w": torch.zeros(1)}, {}, {})
    with pytest.raises(CheckpointError, match="holds a lm checkpoint"):
        check_writable_target(tmp_path / "lm", "diffusion")
    check_writable_target(tmp_path / "new", "diffusion")


def test_load_errors_name_the_problem(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing", "diffusion")
    save_checkpoint(tmp_path / "lm", "lm", {"w": torch.zeros(1)}, {"a": 1}, {})
    with pytest.raises(CheckpointError, match="expected a diffusion one"):
        load_checkpoint(tmp_path / "lm", "diffusion")
    (tmp_path / "lm" / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="corrupt weights"):
        load_checkpoint(tmp_path / "lm", "lm")
    (tmp_path / "lm" / "meta.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="corrupt meta.json"):
        load_checkpoint(tmp_path / "lm", "lm")


def test_failed_save_keeps_the_previous_checkpoint(tmp_path):
    save_checkpoint(tmp_path / "ck", "lm", {"w": torch.ones(2)}, {"v": 1}, {})

    class Boom(dict):
        def items(self):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        save_checkpoint(tmp_path / "ck", "lm", {"w": torch.zeros(2)}, {"v": 2}, {}, files=Boom(a="b"))
    ck = load_checkpoint(tmp_path / "ck", "lm")
    assert ck.config == {"v": 1} and torch.equal(ck.weights["w"], torch.ones(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck"]
