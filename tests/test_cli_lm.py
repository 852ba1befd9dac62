"""Every lm command through the real app on a tiny model and a generated corpus."""

import csv
import math
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from gencli.cli.app import app
from tests.test_lm_core import CORPUS

TINY = [
    "--set",
    "model.preset=custom",
    "--set",
    "model.n_layer=2",
    "--set",
    "model.n_head=2",
    "--set",
    "model.n_embd=16",
    "--set",
    "model.block_size=32",
    "--set",
    "tokenizer.vocab_size=300",
    "--set",
    "train.batch_size=4",
    "--set",
    "train.eval_every=10",
    "--set",
    "train.eval_batches=2",
    # a constant rate without dropout: 30 steps must learn the toy corpus, and a run split by --max-iters must
    # follow the same schedule as one run (a cosine is defined over max_iters)
    "--set",
    "train.lr_schedule=constant",
    "--set",
    "train.warmup_iters=0",
    "--set",
    "model.dropout=0",
    "--set",
    "model.attn_dropout=0",
]


@pytest.fixture(scope="module")
def lm_ckpt(tmp_path_factory):
    root = tmp_path_factory.mktemp("lm")
    (root / "corpus.txt").write_text(CORPUS)
    r = CliRunner().invoke(
        app,
        [
            "lm",
            "train",
            "--corpus",
            str(root / "corpus.txt"),
            "--ckpt",
            str(root / "ck"),
            "--max-iters",
            "30",
            *TINY,
            "--json",
        ],
    )
    assert r.exit_code == 0, r.stderr
    return root


def test_train_json_files_and_metrics(lm_ckpt):
    ck = lm_ckpt / "ck"
    for name in (
        "model.safetensors",
        "last.safetensors",
        "tokenizer.json",
        "config.yaml",
        "meta.json",
        "train_state.pt",
        "metrics.csv",
        "loss.png",
    ):
        assert (ck / name).is_file(), name
    with open(ck / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 30 and rows[9]["val_loss"] != "" and rows[8]["val_loss"] == ""


DROPOUT = ["--set", "model.dropout=0.2", "--set", "model.attn_dropout=0.2", "--set", "train.precision=fp32"]


@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["--set", "train.ema=0.2"],
        ["--set", "train.bpe_dropout=0.1"],
        [*DROPOUT, "--set", "train.attention=explicit"],
        [*DROPOUT, "--set", "train.attention=fused"],
    ],
    ids=["plain", "weight-average", "bpe-dropout", "dropout-explicit", "dropout-fused"],
)
def test_resume_gives_the_same_curve_as_one_run(cli, lm_ckpt, tmp_path, extra):
    from gencli.checkpoint.load import load_checkpoint

    corpus = lm_ckpt / "corpus.txt"
    one = cli(
        "lm", "train", "--corpus", corpus, "--ckpt", tmp_path / "one", "--max-iters", "20", *TINY, *extra, "--json"
    )
    assert one.exit_code == 0, one.stderr
    assert (
        cli("lm", "train", "--corpus", corpus, "--ckpt", tmp_path / "two", "--max-iters", "10", *TINY, *extra).exit_code
        == 0
    )
    two = cli(
        "lm",
        "train",
        "--corpus",
        corpus,
        "--ckpt",
        tmp_path / "two",
        "--max-iters",
        "20",
        *TINY,
        *extra,
        "--resume",
        "--json",
    )
    assert two.exit_code == 0, two.stderr
    a = (tmp_path / "one" / "metrics.csv").read_text()
    b = (tmp_path / "two" / "metrics.csv").read_text()
    assert a == b
    last = [
        load_checkpoint(tmp_path / k, "lm", extra=("last.safetensors",)).extra_weights["last.safetensors"]
        for k in ("one", "two")
    ]
    assert all(torch.equal(last[0][k], last[1][k]) for k in last[0])
    assert {"train_loss", "val_loss", "tokens_per_s", "wall_s", "files"} <= two.json().keys()


def test_analyses(cli, lm_ckpt):
    ck = lm_ckpt / "ck"
    gen = cli(
        "lm", "generate", "--ckpt", ck, "--prompt", "the cat", "--max-new-tokens", "5", "--num-samples", "2", "--json"
    ).json()
    assert len(gen["samples"]) == 2 and all(s.startswith("the cat") for s in gen["samples"])
    g1 = cli(
        "lm", "generate", "--ckpt", ck, "--prompt", "the cat", "--greedy", "--max-new-tokens", "8", "--json"
    ).json()
    g2 = cli(
        "lm", "generate", "--ckpt", ck, "--prompt", "the cat", "--greedy", "--max-new-tokens", "8", "--json"
    ).json()
    assert g1["samples"] == g2["samples"]
    inv = cli("lm", "invert", "--ckpt", ck, "--target", "the cat", "--steps", "200", "--json").json()
    assert {"success", "steps", "decoded"} <= inv.keys() and inv["success"] and inv["decoded"] == "the cat"
    att = cli("lm", "attention", "--ckpt", ck, "--prompt", "a b c d e f g h i j", "--json").json()
    assert set(att["blocks"]) == {"first", "last"}
    for row in att["blocks"].values():
        assert len(row) == att["query_index"] + 1 and sum(row) == pytest.approx(1.0, abs=1e-4)
    assert Path(att["files"]["attention_figure"]).is_file()
    pr = cli("lm", "prob", "--ckpt", ck, "--text", "the cat sat on the mat", "--json").json()
    assert pr["total_logprob"] == pytest.approx(sum(t["logprob"] for t in pr["tokens"]), abs=1e-5)
    assert all(t["logprob"] <= 0 and t["rank"] >= 1 for t in pr["tokens"])
    ctx = cli("lm", "prob", "--ckpt", ck, "--text", "the cat", "--context", "look:", "--json").json()
    assert ctx["first_token_scored"] and len(ctx["tokens"]) == 2
    sampled = cli("lm", "prob", "--ckpt", ck, "--sample", "--max-new-tokens", "6", "--json").json()
    assert sampled["total_logprob"] == pytest.approx(sum(t["logprob"] for t in sampled["tokens"]), abs=1e-5)
    assert all(t["prob"] == pytest.approx(math.exp(t["logprob"]), rel=1e-4) for t in sampled["tokens"])


@pytest.mark.parametrize(
    "args, needle",
    [
        (["lm", "train", "--corpus", "missing.txt"], "not found"),
        (["lm", "train", "--set", "model.n_embd=10", "--set", "model.n_head=3"], "divisible"),
        (["lm", "train", "--set", "train.batch_size=0"], "batch_size"),
        (["lm", "generate", "--ckpt", "nowhere"], "no checkpoint"),
        (["lm", "generate", "--temperature", "0"], "--temperature"),
    ],
)
def test_bad_input(cli, args, needle):
    r = cli(*args)
    assert r.exit_code == 2 and needle in r.stderr and r.stderr.count("\n") == 1


def test_bad_input_with_a_checkpoint(cli, lm_ckpt, tmp_path):
    ck = lm_ckpt / "ck"
    long = "word " * 100
    for args in (
        ["lm", "invert", "--target", long],
        ["lm", "attention", "--prompt", long],
    ):
        r = cli(*args, "--ckpt", ck)
        assert r.exit_code == 2 and "block size" in r.stderr
    # generation crops a long prompt to its last block instead (tests/test_trust.py checks the cropping)
    assert cli("lm", "generate", "--prompt", long, "--ckpt", ck, "--max-new-tokens", "4").exit_code == 0
    short = tmp_path / "short.txt"
    short.write_text("tiny")
    r = cli("lm", "train", "--corpus", short, "--ckpt", tmp_path / "x", *TINY)
    assert r.exit_code == 2 and "too short" in r.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert "empty" in cli("lm", "train", "--corpus", empty, "--ckpt", tmp_path / "x").stderr
    r = cli(
        "lm",
        "train",
        "--corpus",
        lm_ckpt / "corpus.txt",
        "--ckpt",
        tmp_path / "x",
        *TINY,
        "--set",
        "tokenizer.kind=char",
        "--set",
        "train.bpe_dropout=0.1",
    )
    assert r.exit_code == 2 and "bpe_dropout" in r.stderr and not (tmp_path / "x").exists()
    r = cli("lm", "prob", "--ckpt", ck, "--text", "x", "--sample")
    assert r.exit_code == 2
    r = cli(
        "lm",
        "train",
        "--corpus",
        lm_ckpt / "corpus.txt",
        "--ckpt",
        ck,
        "--resume",
        *TINY,
        "--set",
        "model.n_layer=3",
        "--max-iters",
        "40",
    )
    assert r.exit_code == 2 and "cannot change" in r.stderr


def test_ctrl_c_then_resume_matches_one_run(cli, lm_ckpt, tmp_path, monkeypatch):
    from gencli.lm.training.trainer import LMTrainer

    corpus = lm_ckpt / "corpus.txt"
    assert cli("lm", "train", "--corpus", corpus, "--ckpt", tmp_path / "one", "--max-iters", "20", *TINY).exit_code == 0
    real = LMTrainer.loss

    def interrupted(self, x, y, net=None):
        if self.model.training and self.step == 13:
            raise KeyboardInterrupt
        return real(self, x, y, net)

    monkeypatch.setattr(LMTrainer, "loss", interrupted)
    r = cli("lm", "train", "--corpus", corpus, "--ckpt", tmp_path / "two", "--max-iters", "20", *TINY)
    assert r.exit_code == 130 and "--resume" in r.stderr
    monkeypatch.setattr(LMTrainer, "loss", real)
    assert (
        cli(
            "lm", "train", "--corpus", corpus, "--ckpt", tmp_path / "two", "--max-iters", "20", *TINY, "--resume"
        ).exit_code
        == 0
    )
    assert (tmp_path / "one" / "metrics.csv").read_text() == (tmp_path / "two" / "metrics.csv").read_text()


def test_prob_file_json_keys_and_errors(cli, lm_ckpt, tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("the cat sat on the mat and looked at the dog. " * 20)
    r = cli("lm", "prob", "--ckpt", lm_ckpt / "ck", "--file", f, "--stride", "8", "--json")
    assert r.exit_code == 0, r.stderr
    out = r.json()
    assert {"total_logprob", "tokens", "bytes", "bits_per_byte", "stride", "files"} <= out.keys()
    assert out["bytes"] == len(f.read_bytes()) and out["stride"] == 8
    assert out["bits_per_byte"] == pytest.approx(-out["total_logprob"] / math.log(2) / out["bytes"])
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe bad")
    r = cli("lm", "prob", "--ckpt", lm_ckpt / "ck", "--file", bad)
    assert r.exit_code == 2 and "not UTF-8" in r.stderr and r.stderr.count("\n") == 1
    # --file is a file, never the corpus name: with no ./alice it is refused, whatever GENCLI_DATA_DIR holds
    r = cli("lm", "prob", "--ckpt", lm_ckpt / "ck", "--file", "alice")
    assert r.exit_code == 2 and "--file alice: no such file" in r.stderr and r.stderr.count("\n") == 1


def test_library_errors_name_parameters_and_the_cli_names_flags(lm, cli):
    """A notebook caller reads the parameter it passed; a shell user reads the flag it typed."""
    from gencli.core.errors import ParameterError
    from gencli.lm import analyses

    with pytest.raises(ParameterError, match="^top_p: must be in"):
        analyses.generate_text(lm, "the", 3, top_p=2.0)
    with pytest.raises(ParameterError, match="^extra_blocks 9: out of range"):
        analyses.attention_maps(lm, "the cat sat on the mat and", 3, extra_blocks=[9])
    ck = str(lm.checkpoint.path)
    r = cli("lm", "generate", "--ckpt", ck, "--prompt", "the", "--top-p", "2")
    assert r.exit_code == 2 and r.stderr.startswith("error: --top-p: must be in")
    r = cli("lm", "attention", "--ckpt", ck, "--prompt", "the cat sat on the mat and", "--word", "3", "--block", "9")
    assert r.exit_code == 2 and r.stderr.startswith("error: --block 9: out of range")
    r = cli("lm", "prob", "--ckpt", ck, "--file", "missing.txt")
    assert r.exit_code == 2 and r.stderr.startswith("error: --file missing.txt: no such file")
