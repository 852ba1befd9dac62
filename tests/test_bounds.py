"""Hostile input with bounded cost (bench/hostile_probes.py runs the same probes as a user would, with memory):
sizes that cannot fit are refused before allocation, checkpoints edited by hand are refused before a model is
built, and mistakes that once raised a raw exception end in one line with exit 2."""

import os
import shutil

import pytest
import yaml

from gencli.core import budget

BIG = "1000000000"


@pytest.fixture
def small_machine(monkeypatch):
    """A machine with 4 GB free: the estimates, not this machine's memory, decide."""
    monkeypatch.setattr(budget, "available_bytes", lambda: 4 * 10**9)


def _one_line_2(r, *needles):
    assert r.exit_code == 2 and r.stderr.count("\n") == 1, r.stderr
    for needle in needles:
        assert needle in r.stderr, r.stderr


def test_sizes_that_cannot_fit_are_refused_before_allocation(cli, diffusion_ckpts, lm, tmp_path, small_machine):
    ck = diffusion_ckpts["uncond"]
    _one_line_2(cli("diffusion", "sample", "--ckpt", ck, "--n", BIG), "--n", "would need about", "3.6 GB free")
    _one_line_2(cli("diffusion", "schedule", "--steps", BIG), "--steps", "would need")
    _one_line_2(cli("diffusion", "trajectory", "--ckpt", ck, "--n", "100000", "--steps", "100000"), "frames")
    _one_line_2(cli("diffusion", "data", "--n", BIG), "would need")
    train = ["diffusion", "train", "--ckpt", tmp_path / "d"]
    _one_line_2(cli(*train, "--set", f"data.n_points={BIG}"), "data.n_points", "would need")
    _one_line_2(cli(*train, "--set", "model.hidden=2000000"), "model.hidden", "weights would need")
    assert not (tmp_path / "d").exists(), "nothing was written"
    corpus = lm.checkpoint.path.parent / "corpus.txt"
    lm_train = ["lm", "train", "--corpus", corpus, "--ckpt", tmp_path / "l"]
    _one_line_2(cli(*lm_train, "--set", "train.batch_size=100000000"), "train.batch_size", "tokens would need")
    inv = ["lm", "invert", "--tokens", "--target", "the cat", "--ckpt", lm.checkpoint.path]
    _one_line_2(cli(*inv, "--candidates", BIG), "--candidates", "would need")
    # what fits runs: the same request on a machine that has the memory is not refused
    assert cli("diffusion", "sample", "--ckpt", ck, "--n", "50", "--steps", "5", "--json").exit_code == 0


def test_the_bound_streams_its_samples():
    """The VDM bound over many samples keeps a chunk in memory, not every (point, sample) pair: its result matches
    the same draws taken in one chunk."""
    import torch

    from gencli.diffusion.config import ModelConfig
    from gencli.diffusion.likelihood.bound import log_prob_bound
    from gencli.diffusion.model.denoiser import Denoiser
    from gencli.diffusion.process.sde import VESDE

    torch.manual_seed(0)
    model = Denoiser(ModelConfig(hidden=16), 0, None).eval()
    x = torch.tensor([[0.1, 0.2], [0.5, -0.3], [2.0, 2.0]])
    sde = VESDE(torch.exp(torch.tensor(-5.0)).item(), 1.0)
    n, m, steps = 3, 300, 100
    chunk = 70  # chunks that straddle points
    streamed = log_prob_bound(model, x, sde, steps, m, torch.Generator().manual_seed(3), chunk=chunk)
    # a second path: the same draws, chunk by chunk, but every term kept in an (N, M) matrix; torch's mean and std
    gen = torch.Generator().manual_seed(3)
    xs = x.repeat_interleave(m, dim=0)
    draws = []
    for a in range(0, n * m, chunk):
        size = min(chunk, n * m - a)
        draws.append((torch.randint(1, steps + 1, (size,), generator=gen), torch.randn((size, 2), generator=gen)))
    i = torch.cat([d[0] for d in draws])
    eps = torch.cat([d[1] for d in draws])
    t = i.float() / steps
    ratio = torch.exp(torch.tensor(2 * sde.log_ratio / steps)).item()
    terms = (0.5 * steps * (ratio - 1) * ((model(sde.perturb(xs, t, eps), t, None) - eps) ** 2).sum(1)).view(n, m)
    assert torch.allclose(streamed.diffusion, terms.mean(1), rtol=1e-5)
    assert torch.allclose(streamed.stderr, terms.std(1) / m**0.5, rtol=1e-4)


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_checkpoints_edited_by_hand_are_refused_before_a_model_is_built(cli, diffusion_ckpts, lm, tmp_path):
    for key, value in (("n_layer", 100_000_000), ("n_embd", 3_000_000)):
        ck = _copy(lm.checkpoint.path, tmp_path / f"lm-{key}")
        cfg = yaml.safe_load((ck / "config.yaml").read_text())
        cfg["model"][key] = value
        (ck / "config.yaml").write_text(yaml.safe_dump(cfg))
        _one_line_2(cli("lm", "generate", "--prompt", "a", "--ckpt", ck), "does not belong to these weights")
    # a block size is no weight's shape with rotary positions: a huge one allocates nothing (no T x T buffer) and
    # generates; with learned positions its table is a weight, and the claim is refused
    for positions in ("rotary", "learned"):
        ck = _copy(lm.checkpoint.path, tmp_path / f"lm-block-{positions}")
        cfg = yaml.safe_load((ck / "config.yaml").read_text())
        cfg["model"]["block_size"], cfg["model"]["positions"] = 20_000_000, positions
        (ck / "config.yaml").write_text(yaml.safe_dump(cfg))
        r = cli("lm", "generate", "--prompt", "a", "--ckpt", ck, "--max-new-tokens", "3")
        if positions == "rotary":
            assert r.exit_code == 0, r.stderr
        else:
            _one_line_2(r, "does not belong to these weights")
    ck = _copy(diffusion_ckpts["uncond"], tmp_path / "d-hidden")
    cfg = yaml.safe_load((ck / "config.yaml").read_text())
    cfg["model"]["hidden"] = 2_000_000
    (ck / "config.yaml").write_text(yaml.safe_dump(cfg))
    _one_line_2(cli("diffusion", "sample", "--ckpt", ck, "--n", "5"), "does not belong")
    for name, make in (
        ("zero", lambda p: p.symlink_to("/dev/zero")),
        ("fifo", lambda p: os.mkfifo(p)),
    ):
        ck = _copy(lm.checkpoint.path, tmp_path / f"lm-tok-{name}")
        (ck / "tokenizer.json").unlink()
        make(ck / "tokenizer.json")
        _one_line_2(cli("lm", "generate", "--prompt", "a", "--ckpt", ck), "not a regular file")
    ck = _copy(diffusion_ckpts["uncond"], tmp_path / "d-deep")
    (ck / "meta.json").write_text("[" * 100_000 + "]" * 100_000)
    _one_line_2(cli("diffusion", "sample", "--ckpt", ck, "--n", "5"), "corrupt meta.json")
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 50_000 + "]" * 50_000 + "\n")
    _one_line_2(cli("diffusion", "train", "--config", deep, "--ckpt", tmp_path / "x"), "nested too deeply")


def test_mistakes_that_raised_raw_exceptions_are_one_line(cli, diffusion_ckpts, lm, tmp_path):
    ck = diffusion_ckpts["uncond"]
    _one_line_2(cli("diffusion", "sample", "--ckpt", ck, "--seed", str(2**70)), "--seed")
    _one_line_2(cli("diffusion", "train", "--ckpt", tmp_path / "s", "--set", f"train.seed={2**70}"), "train.seed")
    _one_line_2(cli("lm", "generate", "--ckpt", lm.checkpoint.path, "--prompt", os.fsdecode(b"A\xff\xfe")), "UTF-8")
    _one_line_2(cli("diffusion", "sample", "--ckpt", ck, "--n", "5", "--out-dir", "/proc/x"), "/proc/x")
    _one_line_2(cli("report", "--quick", "--out", "/proc/x"), "/proc/x")


def test_a_tiny_temperature_is_the_greedy_limit_not_nan():
    """Sampling at a temperature far below any the CLI allows still gives a distribution: the likeliest token."""
    import torch

    from gencli.lm.inference.generate import generate

    class Fixed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.tok_emb = torch.nn.Embedding(5, 2)
            self.shape = type("Shape", (), {"block_size": 8})

        def forward(self, idx):
            return torch.tensor([0.0, 3.0, 1.0, -2.0, 2.9]).expand(idx.shape[0], idx.shape[1], 5)

        def reach(self) -> int:
            return 8

    out = generate(Fixed(), [0], 3, 1e-300, None, None, False, torch.Generator().manual_seed(0), cached=False)
    assert out == [0, 1, 1, 1]


def test_a_prompt_longer_than_the_block_blames_its_own_option(cli, lm):
    r = cli("lm", "invert", "--tokens", "--target", "the", "--ckpt", lm.checkpoint.path, "--prompt-len", BIG)
    _one_line_2(r, "--prompt-len", f"at most {lm.cfg.model.block_size - 1}")
    assert "--target" not in r.stderr
