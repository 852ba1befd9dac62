"""Format 2 of lm compress: the text as streams advancing together by KV-cached steps. The plan covers every token
once, each distribution is the model's on exactly the tokens before it in its stream, the SGD step is the one
written out by hand, and archives of both formats come back byte for byte."""

import copy
import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gencli.lm.compression.codec import Header, compress, decompress
from gencli.lm.inference.lockstep import LockstepPredictor, lockstep_log2probs, stream_plan
from tests.test_lm_compress import NON_ASCII, with_adapt
from tests.test_lm_core import CORPUS


@pytest.mark.parametrize("n", [0, 1, 7, 256, 1000, 4099])
@pytest.mark.parametrize("streams", [1, 3, 16])
def test_stream_plan_covers_every_token_once_in_contiguous_streams(n, streams):
    settings = dataclasses.replace(with_adapt_settings(), streams=streams, stream_tokens=64)
    plan = stream_plan(n, settings)
    assert plan.streams == max(1, min(streams, n // 64))
    coded = [i for step in range(plan.steps) for i in plan.positions(step)]
    assert sorted(coded) == list(range(n))
    assert max(plan.lengths) - min(plan.lengths) <= 1
    for k in range(plan.streams - 1):
        assert plan.starts[k] + plan.lengths[k] == plan.starts[k + 1]  # contiguous, in order


def with_adapt_settings():
    from gencli.lm.config import AdaptConfig

    return AdaptConfig()


def test_static_distributions_are_the_model_on_each_streams_own_prefix(lm):
    """Without adaptation, token j of a stream gets softmax(model(stream tokens before it)) (the full forward with
    its sliding-window mask past the block): the cached steps, batched over streams, change nothing."""
    lm = with_adapt(lm, streams=3, stream_tokens=20)
    ids = lm.tokenizer.encode(CORPUS[:1200])
    got = lockstep_log2probs(lm.model, ids, lm.cfg.adapt, False)
    plan = stream_plan(len(ids), lm.cfg.adapt)
    assert plan.streams == 3
    with torch.no_grad():
        for start, length in zip(plan.starts, plan.lengths):
            assert got[start] == pytest.approx(-math.log2(lm.tokenizer.vocab_size))  # no context: uniform
            for j in (1, 2, length // 2, length - 1):
                logits = lm.model(torch.tensor([ids[start : start + j]]))[0, -1]
                want = torch.log_softmax(logits.double(), -1)[ids[start + j]].item() / math.log(2)
                assert got[start + j] == pytest.approx(want, abs=1e-4)


def test_dynamic_evaluation_is_one_sgd_step_on_each_streams_last_segment(lm):
    """After `segment` steps the predictor's next distributions are those of the weights after one SGD step of
    rate lr on the cross-entropy of every stream's tokens so far (computed here by hand), on the last block - 1
    tokens of each stream."""
    lr, segment = 0.05, 6
    lm = with_adapt(
        lm, streams=2, stream_tokens=10, lr=lr, segment=segment, cache_size=0, temperature=1.0, mix_orders=0
    )
    ids = lm.tokenizer.encode(CORPUS[:400])
    plan = stream_plan(len(ids), lm.cfg.adapt)
    predictor = LockstepPredictor(lm.model, lm.cfg.adapt, True, plan)
    for _ in range(segment):
        predictor.probs()
        predictor.advance([ids[i] for i in plan.positions(predictor.step)])
    got = predictor.probs()

    model = copy.deepcopy(lm.model).float().requires_grad_(True)
    windows = torch.tensor([ids[s : s + segment] for s in plan.starts])  # (2, segment): all tokens so far
    logits = model(windows[:, :-1], explicit=True)[:, -(segment - 1) :]
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), windows[:, 1:].reshape(-1))
    grads = torch.autograd.grad(loss, list(model.parameters()))
    with torch.no_grad():
        for p, g in zip(model.parameters(), grads):
            p.sub_(lr * g)
        want = torch.softmax(model(windows[:, -(lm.cfg.model.block_size - 1) :])[:, -1], dim=-1).double().numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_the_cache_and_the_sgd_steps_make_a_repeated_unseen_phrase_cheaper(lm):
    text = "Zephyrine Quillbottom waved. " * 12
    ids = lm.tokenizer.encode(text)
    settings = dataclasses.replace(lm.cfg.adapt, streams=1)
    static = -lockstep_log2probs(lm.model, ids, settings, False).sum()
    cache_only = -lockstep_log2probs(lm.model, ids, dataclasses.replace(settings, lr=0.0), True).sum()
    sgd_only = -lockstep_log2probs(lm.model, ids, dataclasses.replace(settings, cache_size=0, lr=1e-2), True).sum()
    assert cache_only < static and sgd_only < static


ROUND_TRIPS = {
    "many streams": CORPUS[:3000] + NON_ASCII,
    "a long run of one byte": "a" * 3000,
    "long exact repeats": (CORPUS[500:1100] + "\n") * 5,
}


@pytest.mark.parametrize("adaptive", [False, True], ids=["static", "adaptive"])
@pytest.mark.parametrize("name", list(ROUND_TRIPS))
def test_format_2_round_trip_with_several_streams(lm, name, adaptive):
    lm = with_adapt(lm, streams=5, stream_tokens=16, segment=8, byte_orders=0)
    data = ROUND_TRIPS[name].encode("utf-8")
    c = compress(lm, data, adaptive)
    header = Header.parse(c.archive, "x")[0]
    assert header.version == 2
    assert stream_plan(header.n_tokens, lm.cfg.adapt).streams > 1
    assert decompress(lm, c.archive) == data


@pytest.mark.parametrize("adaptive", [False, True], ids=["static", "adaptive"])
def test_format_1_archives_are_still_read(lm, adaptive):
    data = (CORPUS[:800] + NON_ASCII).encode("utf-8")
    c = compress(lm, data, adaptive, version=1)
    assert Header.parse(c.archive, "x")[0].version == 1
    assert decompress(lm, c.archive) == data


def test_other_stream_settings_are_refused(lm):
    """The stream settings are in the fingerprint: an archive decodes only with the ones that wrote it."""
    from gencli.lm.compression.codec import ArchiveError

    data = CORPUS[:2000].encode("utf-8")
    c = compress(with_adapt(lm, streams=4, stream_tokens=16), data, False)
    with pytest.raises(ArchiveError, match="another checkpoint"):
        decompress(with_adapt(lm, streams=3, stream_tokens=16), c.archive)
