"""The context models and their mixer: counts and matches against brute force over the history, the mixture a
distribution at every step, the weights' step the gradient of log p (finite differences), round trips."""

import numpy as np
import pytest

from gencli.lm.compression.codec import compress, decompress
from gencli.lm.inference.context_mix import ContextMixer, MatchModel, MixSettings, TokenContexts
from tests.test_lm_compress import NON_ASCII, with_adapt
from tests.test_lm_core import CORPUS

VOCAB = 12


def token_text(n: int, seed: int = 0) -> list[int]:
    """A token sequence with repeats: random phrases from a small set, with noise."""
    rng = np.random.default_rng(seed)
    phrases = [list(rng.integers(0, VOCAB, size=rng.integers(3, 9))) for _ in range(5)]
    out: list[int] = []
    while len(out) < n:
        out += phrases[rng.integers(0, 5)] if rng.random() < 0.8 else [int(rng.integers(0, VOCAB))]
    return [int(t) for t in out[:n]]


def test_order_k_counts_are_the_followers_of_the_last_k_tokens():
    ids = token_text(400)
    contexts = TokenContexts(3)
    for j in range(len(ids) - 1):
        contexts.add(ids[: j + 1], ids[j + 1])
    history = ids
    for k, got in enumerate(contexts.lookup(history), start=1):
        want: dict[int, int] = {}
        for j in range(k - 1, len(ids) - 1):
            if ids[j - k + 1 : j + 1] == history[-k:]:
                want[ids[j + 1]] = want.get(ids[j + 1], 0) + 1
        assert (got or {}) == want, k


def test_match_model_predicts_the_token_after_the_latest_earlier_occurrence():
    ids = token_text(300, seed=1)
    m, histories = MatchModel(4, 1), [[]]
    for t in ids[:-1]:
        histories[0].append(t)
        m.update(0, histories)
        predicted, length = m.predict(0, histories)
        if predicted is None:
            continue
        assert length >= 4
        # the tokens before the predicted one match the last `length` tokens of the history
        s, i = m.pointer[0]
        assert histories[0][i - length : i] == histories[0][-length:]
        assert i < len(histories[0]) and predicted == histories[0][i]


def run_mixer(ids: list[int], streams: int = 1):
    rng = np.random.default_rng(3)
    mixer = ContextMixer(MixSettings(orders=3, match_min=3, lr=0.05), streams, VOCAB)
    for j in range(0, len(ids) - streams, streams):
        p_net = rng.dirichlet(np.ones(VOCAB), size=streams)
        p = mixer.mix(p_net)
        yield mixer, p_net, p, ids[j : j + streams]
        mixer.learn(ids[j : j + streams], [p_net[k, t] for k, t in enumerate(ids[j : j + streams])])


def test_the_mixture_is_a_distribution_at_every_step():
    for _, _, p, _ in run_mixer(token_text(300), streams=2):
        assert np.all(p >= 0)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)


def mixture_log_p(a: np.ndarray, present: np.ndarray, x: np.ndarray) -> float:
    """log sum_i softmax(a over the present inputs)_i x_i."""
    e = np.where(present, np.exp(a - a[present].max()), 0.0)
    return float(np.log((e / e.sum()) @ x))


def test_the_weights_step_is_the_gradient_of_log_p():
    """The change of the mixing logits after a token is lr x d log p(token) / d a, the derivative taken here by
    central differences of the mixture written out again."""
    for step, (mixer, p_net, _, tokens) in enumerate(run_mixer(token_text(200))):
        if step < 20 or np.count_nonzero(mixer.pending[0][2]) < 4:  # a step where most inputs have a say
            continue
        s, w, present, _ = mixer.pending[0]
        x = mixer.input_probs(0, tokens[0], p_net[0, tokens[0]])
        a = mixer.weights[s].copy()

        eps, grad = 1e-6, np.zeros(len(a))
        for i in np.flatnonzero(present):
            up, down = a.copy(), a.copy()
            up[i] += eps
            down[i] -= eps
            grad[i] = (mixture_log_p(up, present, x) - mixture_log_p(down, present, x)) / (2 * eps)
        mixer.learn(tokens, [p_net[0, tokens[0]]])
        np.testing.assert_allclose(mixer.weights[s] - a, mixer.settings.lr * grad, atol=1e-7)
        assert np.abs(grad).max() > 1e-3
        return
    pytest.fail("no step had four inputs")


def test_mixing_makes_a_text_with_long_repeats_cheaper_and_round_trips(lm):
    text = (CORPUS[200:900] + NON_ASCII) * 4
    data = text.encode("utf-8")
    plain = compress(with_adapt(lm, streams=2, stream_tokens=16, mix_orders=0, byte_orders=0), data, True)
    mixed_lm = with_adapt(lm, streams=2, stream_tokens=16, mix_orders=4, mix_match=4, byte_orders=0)
    mixed = compress(mixed_lm, data, True)
    assert len(mixed.archive) < len(plain.archive)
    assert decompress(mixed_lm, mixed.archive) == data


@pytest.mark.parametrize("text", ["", "a", "b" * 2000, NON_ASCII * 3])
def test_mixing_round_trips(lm, text):
    m = with_adapt(lm, streams=3, stream_tokens=16, mix_orders=3, byte_orders=0)
    data = text.encode("utf-8")
    assert decompress(m, compress(m, data, True).archive) == data
