"""The language-model analyses as library functions, against independent paths and invariants."""

import math

import numpy as np
import pytest
import torch

from gencli.core.errors import GencliError
from gencli.lm import analyses
from tests.test_cli_lm import TINY
from tests.test_lm_core import CORPUS


def test_sequence_logprob_is_the_sum_of_an_explicit_log_softmax(lm):
    res = analyses.sequence_logprob(lm, "the cat sat on the mat", context="look:")
    ids = lm.tokenizer.encode("look:") + lm.tokenizer.encode("the cat sat on the mat")
    with torch.no_grad():
        logits = lm.model(torch.tensor([ids]), explicit=True)[0].double()
    probs = torch.exp(logits - logits.max(-1, keepdim=True).values)
    probs = probs / probs.sum(-1, keepdim=True)  # softmax written out, not log_softmax
    n_ctx = len(lm.tokenizer.encode("look:"))
    expected = [math.log(probs[j - 1, ids[j]].item()) for j in range(n_ctx, len(ids))]
    assert res.logprobs == pytest.approx(expected, abs=1e-4)
    assert res.total == pytest.approx(sum(expected), abs=1e-3)
    assert res.to_dict()["first_token_scored"] is True
    ranks = [int((probs[j - 1] > probs[j - 1, ids[j]]).sum()) + 1 for j in range(n_ctx, len(ids))]
    assert res.ranks == ranks


def test_attention_rows_sum_to_one_and_stop_at_the_query(lm):
    res = analyses.attention_maps(lm, "a b c d e f g h i j", word=12, extra_blocks=[0])
    rows = res.rows()
    assert set(rows) == {"first", "last", "block0"}
    assert np.array_equal(rows["first"], rows["block0"])
    for m in res.matrices.values():
        assert np.allclose(m.sum(axis=1), 1, atol=1e-5) and np.allclose(np.triu(m, 1), 0)
    assert all(len(r) == res.query_index + 1 for r in rows.values())
    assert res.tables()[0].rows[-1][2] == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(GencliError, match="extra_blocks 9: out of range"):
        analyses.attention_maps(lm, "a b c", extra_blocks=[9])


def test_inversion_result_and_its_trace(lm):
    res = analyses.invert_sentence(lm, "the cat", steps=200)
    assert res.success and res.decoded[-1] == "the cat" and res.steps == len(res.losses) == len(res.decoded)
    changes = res.changes()
    assert changes[0][0] == 1 and changes[-1][2] == "the cat"
    assert all(a[2] != b[2] for a, b in zip(changes, changes[1:]))
    assert res.vectors.shape == (len(lm.tokenizer.encode("the cat")), lm.model.tok_emb.weight.shape[1])


def test_generation_greedy_is_repeatable_and_checks_its_options(lm):
    a = analyses.generate_text(lm, "the cat", 8, greedy=True)
    b = analyses.generate_text(lm, "the cat", 8, greedy=True, seed=5)
    assert a.samples == b.samples and a.samples[0].startswith("the cat")
    with pytest.raises(GencliError, match="top_p: must be in"):
        analyses.generate_text(lm, "the cat", 4, top_p=1.5)
    long = analyses.generate_text(lm, "word " * 100, 4, greedy=True)  # cropped to the block, text kept whole
    assert long.samples[0].startswith("word " * 100)
    assert long.settings["cropped_tokens"] == long.settings["prompt_tokens"] - lm.cfg.model.block_size > 0


def test_training_summary_reads_the_checkpoint(lm):
    s = analyses.training_summary(lm)
    assert s.steps.tolist() == list(range(1, 41)) and s.eval_steps.tolist() == [10, 20, 30, 40]
    assert s.metrics["best_val_loss"] == pytest.approx(s.eval_val.min())
    assert s.metrics["best_step"] == int(s.eval_steps[np.argmin(s.eval_val)])


def test_file_score_is_the_sum_of_its_windows_and_matches_text_scoring(lm, tmp_path):
    from gencli.lm.inference.score import window_plan

    text = CORPUS[:3000]
    path = tmp_path / "held_out.txt"
    path.write_text(text)
    res = analyses.file_logprob(lm, str(path), stride=10)
    ids = lm.tokenizer.encode(text)
    block = lm.cfg.model.block_size
    total, scored = 0.0, []
    for start, first, end in window_plan(len(ids), block, 10):  # each window on its own, one forward pass each
        with torch.no_grad():
            logp = torch.log_softmax(lm.model(torch.tensor([ids[start:end]]))[0].double(), dim=-1)
        for j in range(first, end):
            total += logp[j - start - 1, ids[j]].item()
            scored.append(j)
    assert scored == list(range(1, len(ids)))
    assert res.total == pytest.approx(total, abs=1e-3) and res.n_tokens == len(ids)
    assert res.bits_per_byte == pytest.approx(-total / math.log(2) / len(text.encode()), rel=1e-6)
    short = tmp_path / "short.txt"
    short.write_text("the cat sat on the mat")
    whole = analyses.file_logprob(lm, str(short))
    assert whole.total == pytest.approx(analyses.sequence_logprob(lm, "the cat sat on the mat").total, abs=1e-4)
    with pytest.raises(GencliError, match="stride"):
        analyses.file_logprob(lm, str(path), stride=block)


def test_patience_stops_training_and_says_so(cli, tmp_path):
    (tmp_path / "c.txt").write_text(CORPUS)
    r = cli(
        "lm",
        "train",
        "--corpus",
        tmp_path / "c.txt",
        "--ckpt",
        tmp_path / "ck",
        "--max-iters",
        "200",
        *TINY,
        "--set",
        "train.lr=0.05",
        "--set",
        "train.patience=2",
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    out = r.json()
    assert out["stopped_early"] is True and out["steps"] < 200
    evals_after_best = [s for s in range(10, out["steps"] + 1, 10) if s > out["best_step"]]
    assert len(evals_after_best) == 2


@pytest.mark.parametrize(
    "target, forbid, restart_after", [("the cat", False, 0), ("sat on the mat", True, 0), ("sat on the mat", True, 3)]
)
def test_real_token_prompt_success_agrees_with_greedy_generation(lm, target, forbid, restart_after):
    """Also with random restarts: the prompt kept is the best of every start, typed back to the same ids, and free of
    the forbidden words."""
    res = analyses.real_token_prompt(
        lm,
        target,
        prompt_len=6,
        steps=60,
        topk=16,
        candidates=32,
        forbid_target_words=forbid,
        restart_after=restart_after,
    )
    assert lm.tokenizer.encode(res.prompt) == res.prompt_ids  # a string a user can type back
    generated = analyses.generate_text(lm, res.prompt, len(res.target_ids), greedy=True).samples[0]
    assert res.success == generated.startswith(res.prompt + target) == (res.continuation == target)
    assert res.to_dict().keys() >= {"success", "prompt", "prompt_ids", "target_ids", "steps", "seconds"}
    if forbid:
        words = {"sat", "on", "the", "mat"}
        assert not {lm.tokenizer.piece(i).strip().lower() for i in res.prompt_ids} & words
    assert len(res.losses) == res.steps and all(a >= b for a, b in zip(res.losses, res.losses[1:]))  # best so far


def test_sentence_evidence_counts_words_in_order():
    text = "The cat sat. the CAT sat, on the mat!\nA dog sat on a log."
    e = analyses.sentence_evidence("the cat sat", text)
    assert e == {"occurrences": 2, "unseen_words": [], "unseen_pairs": []}
    e = analyses.sentence_evidence("the dog sat on the walnut", text)
    assert e["occurrences"] == 0 and e["unseen_words"] == ["walnut"]
    assert e["unseen_pairs"] == ["the dog", "the walnut"]  # "dog sat" and "sat on" and "on the" do occur


def test_real_token_prompt_says_what_the_training_text_holds(lm):
    from tests.test_lm_core import CORPUS

    res = analyses.real_token_prompt(
        lm,
        "sat on the mat",
        prompt_len=6,
        steps=3,
        topk=8,
        candidates=8,
        training_text=analyses.training_text_if_readable(lm),
    )
    words = CORPUS.lower().split()
    want = "sat on the mat".split()
    count = sum(words[i : i + 4] == want for i in range(len(words) - 3))  # the whole corpus: at least the training part
    assert 0 < res.to_dict()["training_text"]["occurrences"] <= count
    assert "occurs" in res.finding()


def test_text_start_keeps_whole_characters_within_the_byte_limit():
    from gencli.lm.analyses import text_start

    text = "Où est ma chatte? ça"  # two-byte characters at byte offsets 1 and 18
    for limit in range(len(text.encode()) + 2):
        cut = text_start(text, limit)
        assert text.startswith(cut) and len(cut.encode()) <= limit
        assert len(cut) == len(text) or len(text[: len(cut) + 1].encode()) > limit  # the longest such start
