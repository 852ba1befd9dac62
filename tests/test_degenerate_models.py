"""The report completes whatever a model writes or fails to reach, and each finding says what happened instead."""

import copy
import dataclasses

import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from gencli.cli.app import app
from gencli.core.config import resolve
from gencli.diffusion.model.store import load_trained as load_diffusion
from gencli.lm import analyses
from gencli.lm.model.store import load_trained
from gencli.report.build import _Builder, build_sections
from gencli.report.config import QUICK, ReportConfig
from tests.test_cli_lm import TINY
from tests.test_lm_core import CORPUS

PROMPT = "a b c d e f g h i j"


@pytest.fixture(scope="module")
def tiny_lm(lm):
    """The tiny trained LM of conftest.py, made degenerate by `_writing` below."""
    return lm


def _writing(lm, token: str | None):
    """A copy of the model whose output ignores its input: always `token` (logit 48 above the rest), or uniform
    (None)."""
    model = copy.deepcopy(lm.model)
    C, V = model.shape.n_embd, model.shape.vocab_size
    with torch.no_grad():
        model.ln_f.weight.zero_()
        model.ln_f.bias.fill_(3.0)
        model.head = nn.Linear(C, V, bias=False)
        model.head.weight.zero_()
        if token is not None:
            model.head.weight[lm.tokenizer.encode(token)[0]] = 1.0
    for p in model.parameters():
        p.requires_grad_(False)
    return dataclasses.replace(lm, model=model.eval())


def test_greedy_that_writes_no_word_falls_back_to_a_seeded_sample(tiny_lm):
    uniform = _writing(tiny_lm, None)  # greedy repeats token 0; a sample from the uniform writes words
    res = analyses.attention_maps(uniform, PROMPT, word=12)
    assert res.how == "sampled" and res.word == 12
    assert "Greedy decoding did not reach word 12" in res.finding()


def test_a_model_that_never_writes_a_word_gets_the_last_whole_word(tiny_lm):
    stuck = _writing(tiny_lm, "x")  # "jxxxx...": the prompt's last word never ends
    res = analyses.attention_maps(stuck, PROMPT, word=12)
    assert res.how == "last word" and res.word == 9 and res.predicted_word == "i"
    text = res.finding()
    assert "did not write 12 words" in text and "last whole word" in text
    spaced = _writing(tiny_lm, " ")  # only whitespace after the prompt: the prompt's last word is whole
    assert analyses.attention_maps(spaced, PROMPT, word=12).word == 10


def test_an_inversion_that_fails_says_so(tiny_lm):
    stuck = _writing(tiny_lm, "x")
    res = analyses.invert_sentence(stuck, "the cat", steps=5)
    assert not res.success and res.steps == 5
    assert res.finding().startswith("The inversion did not reach the target in 5 steps")


@pytest.fixture(scope="module")
def one_epoch_diffusion(tmp_path_factory):
    root = tmp_path_factory.mktemp("degenerate-diffusion")
    for name, extra in (("u", []), ("c", ["--conditional"])):
        r = CliRunner().invoke(
            app,
            [
                "diffusion",
                "train",
                "--ckpt",
                str(root / name),
                "--set",
                "data.n_points=256",
                "--set",
                "train.epochs=1",
                *extra,
            ],
        )
        assert r.exit_code == 0, r.stderr
    return load_diffusion(root / "u"), load_diffusion(root / "c")


def test_every_section_completes_on_degenerate_models(tiny_lm, one_epoch_diffusion, tmp_path):
    small = {
        **QUICK,
        "diffusion": {
            **QUICK["diffusion"],
            "n_samples": 300,
            "steps": 20,
            "steps_sweep": [1, 20],
            "grid_points": 100,
            "prob_samples": 32,
            "invert_iterations": 5,
            "invert_steps": 10,
        },
        "lm": {**QUICK["lm"], "invert_steps": 5, "prob_tokens": 5},
    }
    cfg = resolve(ReportConfig, base=small)
    b = _Builder(tmp_path, cfg, True, False, torch.device("cpu"), lambda name, total: lambda *a, **k: None)
    uncond, cond = one_epoch_diffusion
    ctx = b.context()
    stuck = _writing(tiny_lm, "x")
    moved = copy.deepcopy(stuck.cfg)
    moved.data.corpus = str(tmp_path / "moved-away.txt")  # the training corpus is gone: L6 codes the unseen story alone
    ctx.models = {"diffusion": uncond, "cond": cond, "lm": dataclasses.replace(stuck, cfg=moved)}
    sections = build_sections(ctx)
    ids = [s.id for s in sections]
    assert {"U1", "U6", "bonus", "C6", "C7", "L2", "L3", "L4", "L5", "L6"} <= set(ids)
    for s in sections:
        if s.id != "C2":
            assert s.finding, s.id
    by_id = {s.id: s for s in sections}
    assert "did not reach the target" in by_id["L2"].finding
    assert "did not write 12 words" in by_id["L3"].finding
    assert "could not be read" in by_id["L6"].finding and "On the unseen story" in by_id["L6"].finding
    assert "decoded to the original bytes" in by_id["L6"].finding


@pytest.mark.parametrize("precision", ["bf16", "fp32"])
def test_inversion_and_attention_on_each_numeric_path(tmp_path, precision):
    (tmp_path / "corpus.txt").write_text(CORPUS)
    r = CliRunner().invoke(
        app,
        [
            "lm",
            "train",
            "--corpus",
            str(tmp_path / "corpus.txt"),
            "--ckpt",
            str(tmp_path / "ck"),
            "--max-iters",
            "30",
            *TINY,
            "--set",
            f"train.precision={precision}",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.stderr
    lm = load_trained(tmp_path / "ck")
    assert lm.checkpoint.meta["metrics"]["numeric_path"]["path"].startswith(precision)
    inv = analyses.invert_sentence(lm, "the cat sat", steps=200)
    assert inv.success and inv.decoded[-1] == "the cat sat"
    att = analyses.attention_maps(lm, PROMPT, word=12)
    assert att.word <= 12 and abs(att.rows()["last"].sum() - 1) < 1e-5
