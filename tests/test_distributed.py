"""Data-parallel training: 2 gloo processes against 1 process, checkpoint, resume, and grad_accum."""

import csv
import json

import pytest

from tests.test_cli_lm import TINY
from tests.test_lm_core import CORPUS

FP32 = [*TINY, "--set", "train.precision=fp32", "--set", "model.dropout=0"]


def _losses(path):
    with open(path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    return [float(r["train_loss"]) for r in rows], [float(r["val_loss"]) for r in rows if r["val_loss"]]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("ddp") / "corpus.txt"
    path.write_text(CORPUS)
    return path


@pytest.mark.slow
def test_two_processes_train_like_one(cli, corpus, tmp_path):
    one = cli("lm", "train", "--corpus", corpus, "--ckpt", tmp_path / "one", "--max-iters", "20", *FP32, "--json")
    assert one.exit_code == 0, one.stderr
    two = cli(
        "lm",
        "train",
        "--corpus",
        corpus,
        "--ckpt",
        tmp_path / "two",
        "--max-iters",
        "20",
        *FP32,
        "--nproc",
        "2",
        "--json",
    )
    assert two.exit_code == 0, two.stderr
    assert "tokens (vocabulary" in two.stderr  # the main process's remark, passed on by the launcher
    train1, val1 = _losses(tmp_path / "one")
    train2, val2 = _losses(tmp_path / "two")
    assert len(train2) == 20 and train2 == pytest.approx(train1, rel=1e-4)
    assert val2 == pytest.approx(val1, rel=1e-4)
    meta = json.loads((tmp_path / "two" / "meta.json").read_text())
    assert meta["step"] == 20
    assert not list(tmp_path.glob(".two*")), "no scratch or half-written folder is left"
    gen = cli(
        "lm",
        "generate",
        "--ckpt",
        tmp_path / "two",
        "--prompt",
        "the cat",
        "--greedy",
        "--max-new-tokens",
        "5",
        "--json",
    )
    assert gen.exit_code == 0 and gen.json()["samples"][0].startswith("the cat")


@pytest.mark.slow
def test_resume_under_two_processes_continues_the_count(cli, corpus, tmp_path):
    assert (
        cli(
            "lm", "train", "--corpus", corpus, "--ckpt", tmp_path / "ck", "--max-iters", "10", *FP32, "--nproc", "2"
        ).exit_code
        == 0
    )
    r = cli(
        "lm",
        "train",
        "--corpus",
        corpus,
        "--ckpt",
        tmp_path / "ck",
        "--max-iters",
        "20",
        *FP32,
        "--nproc",
        "2",
        "--resume",
    )
    assert r.exit_code == 0, r.stderr
    assert cli("lm", "train", "--corpus", corpus, "--ckpt", tmp_path / "one", "--max-iters", "20", *FP32).exit_code == 0
    train_r, _ = _losses(tmp_path / "ck")
    train_1, _ = _losses(tmp_path / "one")
    assert len(train_r) == 20 and train_r == pytest.approx(train_1, rel=1e-4)


def test_a_batch_that_does_not_split_is_one_line(cli, corpus, tmp_path):
    r = cli(
        "lm",
        "train",
        "--corpus",
        corpus,
        "--ckpt",
        tmp_path / "x",
        *FP32,
        "--set",
        "train.batch_size=5",
        "--nproc",
        "2",
    )
    assert r.exit_code == 2 and "multiple of 2" in r.stderr and r.stderr.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_grad_accum_is_the_same_global_batch(cli, corpus, tmp_path):
    a = cli("lm", "train", "--corpus", corpus, "--ckpt", tmp_path / "a", "--max-iters", "8", *FP32)
    b = cli(
        "lm",
        "train",
        "--corpus",
        corpus,
        "--ckpt",
        tmp_path / "b",
        "--max-iters",
        "8",
        *FP32,
        "--set",
        "train.grad_accum=2",
    )
    assert a.exit_code == 0 and b.exit_code == 0, b.stderr
    assert _losses(tmp_path / "b")[0] == pytest.approx(_losses(tmp_path / "a")[0], rel=1e-4)


@pytest.mark.slow
def test_an_error_in_the_processes_is_their_one_line(cli, tmp_path):
    """The processes fail on a corpus that is not there: the launcher passes on their line and exit code 2."""
    r = cli("lm", "train", "--corpus", tmp_path / "missing.txt", "--ckpt", tmp_path / "x", *FP32, "--nproc", "2")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and "missing.txt" in r.stderr, r.stderr


def test_first_error_prefers_a_users_mistake_and_falls_back_to_the_launcher():
    from gencli.lm.training.launch import first_error

    records = [
        {"rank": 1, "kind": "error", "message": "RuntimeError: boom", "code": 1},
        {"rank": 0, "kind": "note", "message": "hello", "code": None},
        {"rank": 0, "kind": "error", "message": "corpus x: no such file", "code": 2},
    ]
    assert first_error(records, "") == ("corpus x: no such file", 2)
    assert first_error(records[:1], "") == ("RuntimeError: boom", 1)
    message, code = first_error([], "noise\nChildFailedError: rank 0 died\n")
    assert code == 1 and "rank 0 died" in message


def test_worker_records_round_trip(tmp_path, monkeypatch):
    from gencli.lm.training import worker_report

    monkeypatch.setenv(worker_report.ENV, str(tmp_path))
    for rank, kind, message in [(1, "error", "b"), (0, "note", "a"), (10, "note", "c")]:
        monkeypatch.setenv("RANK", str(rank))
        worker_report.record(kind, message, 2 if kind == "error" else None)
    (tmp_path / "rank2.jsonl").write_text('{"rank": 2, "kind": "no')  # a process killed while writing
    got = worker_report.read(tmp_path)
    assert [(r["rank"], r["message"]) for r in got] == [(0, "a"), (1, "b"), (10, "c")]
