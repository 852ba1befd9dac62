"""Format 3's bit coder: the binary coder, the vocabulary trie, the token distribution it codes (a distribution
over the whole vocabulary at every step), the mixer's gradient, and archives of texts a context model must learn."""

import copy
import math

import numpy as np
import pytest

from gencli.lm.compression import kernels
from gencli.lm.compression.bit_coding import DECODE, ENCODE, SCORE, ByteMixer, ByteMixSettings
from gencli.lm.compression.codec import Header, compress, decompress
from gencli.lm.compression.token_trie import build_trie, token_strings
from gencli.lm.data.tokenizer import TextTokenizer
from gencli.lm.model.store import TrainedLM
from tests.test_lm_compress import NON_ASCII, with_adapt
from tests.test_lm_core import CORPUS

SMALL = ByteMixSettings(table_bits=10, apm_bits=8)  # small tables, so a state can be copied hundreds of times


@pytest.fixture(scope="module")
def tokenizer():
    return TextTokenizer.train(CORPUS, "bpe", 300)


def test_binary_coder_round_trip_and_size():
    """Random bits at random probabilities (the extremes included) decode back, in about sum -log2 p bits."""
    rng = np.random.default_rng(3)
    n = 20_000
    p16 = rng.integers(1, 65536, n)
    p16[:50], p16[50:100] = 1, 65535
    bits = (rng.random(n) < p16 / 65536).astype(np.int64)
    bits[:5], bits[50:55] = 1, 0  # a few of the dearest bits there are
    state, out = kernels.new_state(), np.zeros(n, dtype=np.uint8)
    for b, p in zip(bits, p16):
        kernels.encode_bit(state, out, int(b), int(p))
    data = kernels.finish(state, out)
    ideal = sum(-math.log2(p / 65536 if b else 1 - p / 65536) for b, p in zip(bits, p16))
    assert ideal / 8 <= len(data) <= ideal / 8 * 1.001 + 4
    buf = np.frombuffer(data, dtype=np.uint8).copy()
    dec = kernels.new_state()
    kernels.start_decoder(dec, buf)
    back = [kernels.decode_bit(dec, buf, int(p)) for p in p16]
    assert back == bits.tolist()


def test_trie_spells_every_text_and_sorts_its_prefixes(tokenizer):
    """The tokens' bytes, concatenated, are the text's UTF-8; sorted, each prefix's tokens form one range."""
    strings, specials = token_strings(tokenizer)
    for text in (CORPUS[:500], NON_ASCII):
        ids = tokenizer.encode(text)
        spelled = b"".join(strings[i] if strings[i] is not None else b"<|endoftext|>" for i in ids)
        assert spelled == text.encode("utf-8")
    trie = build_trie(tokenizer)
    rows = [bytes(trie.table[r, : trie.lengths[r]]) for r in range(len(trie.order))]
    assert rows == sorted(rows) and rows == [strings[i] for i in trie.order]
    assert list(trie.specials) == specials and all(trie.rank[s] == -1 for s in specials)
    for prefix in (b"t", b"th", b" ", b"\xc3"):
        inside = [r for r, s in enumerate(rows) if s.startswith(prefix)]
        assert inside == list(range(inside[0], inside[-1] + 1))


def _mixer(tokenizer, mode=SCORE, data=b""):
    trie = build_trie(tokenizer)
    prime = trie.rank[tokenizer.encode(CORPUS[:3000])]
    return ByteMixer(trie, SMALL, [4000, 4000], prime, mode, data), trie


def test_the_coded_tokens_form_a_distribution_at_every_step(tokenizer):
    """From the state at a step (after learning some text), the probabilities the coder gives every token of the
    vocabulary, 2^-bits, sum to 1: each binary choice splits its probability exactly."""
    rng = np.random.default_rng(0)
    mixer, trie = _mixer(tokenizer)
    ids = tokenizer.encode(CORPUS[3000:3400] + NON_ASCII)
    vocab = tokenizer.vocab_size
    for step, (a, b) in enumerate(zip(ids[0::2], ids[1::2])):
        probs = rng.dirichlet(np.full(vocab, 0.3), size=2)
        if step in (0, 7, 40):
            for stream in (0, 1):
                total = 0.0
                for t in range(vocab):
                    probe = copy.deepcopy(mixer)
                    bits, _ = probe.code(probs[: stream + 1], [a, t] if stream else [t])
                    total += 2.0 ** -bits[stream]
                assert total == pytest.approx(1.0, abs=1e-9)
        mixer.code(probs, [a, b])


def test_encoder_and_decoder_agree_and_score_is_the_encoders_cost(tokenizer):
    rng = np.random.default_rng(1)
    ids = tokenizer.encode(CORPUS[5000:6500] + NON_ASCII)
    steps = [ids[i : i + 2] for i in range(0, len(ids) - 1, 2)]
    dists = [rng.dirichlet(np.full(tokenizer.vocab_size, 0.5), size=2) for _ in steps]
    enc, _ = _mixer(tokenizer, ENCODE)
    score, _ = _mixer(tokenizer, SCORE)
    bits = sum(float(enc.code(p, t)[0].sum()) for p, t in zip(dists, steps))
    assert sum(float(score.code(p, t)[0].sum()) for p, t in zip(dists, steps)) == pytest.approx(bits, rel=1e-12)
    data = enc.finish()
    assert bits / 8 <= len(data) + 1 and len(data) <= bits / 8 * 1.002 + 4
    dec, _ = _mixer(tokenizer, DECODE, data)
    assert [dec.decode(p) for p in dists] == steps
    assert dec.bytes_read >= len(data)


def test_primed_tables_are_shared_not_changed(tokenizer):
    """A second coder of one priming text copies the tables the first computed; what the first then learns while
    coding must not leak into them: the third coder gives the same costs as the first, and they equal a priming
    done anew (the cache emptied)."""
    from gencli.lm.compression import bit_coding

    rng = np.random.default_rng(5)
    ids = tokenizer.encode(CORPUS[4000:4600])
    steps = [ids[i : i + 2] for i in range(0, len(ids) - 1, 2)]
    dists = [rng.dirichlet(np.full(tokenizer.vocab_size, 0.5), size=2) for _ in steps]

    def costs():
        mixer, _ = _mixer(tokenizer, SCORE)
        return [mixer.code(p, t)[0].tolist() for p, t in zip(dists, steps)]

    first = costs()
    other, _ = _mixer(tokenizer, SCORE)
    other.code(dists[0], steps[1])  # another coder from the cache learns something else
    assert costs() == first
    bit_coding._PRIMED.clear()
    assert costs() == first


def test_mixer_step_is_the_gradient_of_log_p():
    """mix_update moves w by lr times d/dw [bit ln p + (1 - bit) ln(1 - p)], p = squash(w . x): against central
    finite differences."""
    rng = np.random.default_rng(2)
    for bit in (0, 1):
        w, x = rng.normal(size=7), rng.normal(size=7) * 3

        def log_lik(v, x=x, bit=bit):
            p = kernels.squash(kernels.mix_dot(v, x))
            return math.log(p if bit else 1 - p)

        h = 1e-6
        grad = np.array([(log_lik(w + h * e) - log_lik(w - h * e)) / (2 * h) for e in np.eye(7)])
        stepped = w.copy()
        kernels.mix_update(stepped, x, bit, kernels.squash(kernels.mix_dot(w, x)), 0.01)
        assert np.allclose((stepped - w) / 0.01, grad, atol=1e-6)


def test_apm_interpolates_and_moves_toward_the_bit():
    table = kernels.apm_table(4)
    p, j, f = kernels.apm_lookup(table, 2, 0.3)
    assert p == pytest.approx(0.3, abs=0.02)  # starts near the identity
    for _ in range(200):
        p, j, f = kernels.apm_lookup(table, 2, 0.3)
        kernels.apm_update(table, 2, j, f, 1, 0.05)
    assert kernels.apm_lookup(table, 2, 0.3)[0] > 0.9  # context 2 learned that these bits are 1
    assert kernels.apm_lookup(table, 1, 0.3)[0] == pytest.approx(0.3, abs=0.02)  # other contexts untouched


REPEATS = "Quillbottom's seventeen zebras juggled marmalade at dawn. " * 30
RUN = "z" * 3000


@pytest.mark.parametrize("text", [RUN, REPEATS, "", "a", NON_ASCII], ids=["run", "repeats", "empty", "one", "utf8"])
def test_format_3_round_trips(lm, text):
    data = text.encode("utf-8")
    c = compress(lm, data, True)
    assert Header.parse(c.archive, "x")[0].version == 3
    assert decompress(lm, c.archive) == data


def test_byte_models_learn_what_the_network_cannot(lm):
    """Long exact repeats of a phrase the model never saw: the match and context models make format 3 far cheaper
    than the same streams without them (format 2)."""
    data = REPEATS.encode()
    with_bytes = compress(lm, data, True)
    without = compress(with_adapt(lm, byte_orders=0), data, True)
    assert Header.parse(without.archive, "x")[0].version == 2
    assert with_bytes.model_bits < 0.5 * without.model_bits
    trace = with_bytes.mixer
    assert trace is not None and trace.weights.shape == (with_bytes.n_tokens, len(trace.inputs)) == (1650, 12)


def test_priming_text_is_part_of_the_fingerprint(lm):
    """An archive coded after the checkpoint's priming text is refused by the same weights without it."""
    assert len(lm.prime) > 1000  # lm train kept the end of the training text
    archive = compress(lm, b"The Queen had only one way of settling all difficulties.", True).archive
    bare = TrainedLM(lm.cfg, lm.model, lm.tokenizer, lm.checkpoint, b"")
    with pytest.raises(Exception, match="another checkpoint"):
        decompress(bare, archive)


def test_format_2_archives_are_still_read(lm):
    data = (CORPUS[:800] + NON_ASCII).encode()
    c = compress(lm, data, True, version=2)
    assert Header.parse(c.archive, "x")[0].version == 2
    assert decompress(lm, c.archive) == data


def test_damaged_format_3_archives_are_refused(lm):
    """A flipped bit, bytes after the coded data, a cut: each refused (ArchiveError), nothing returned."""
    from gencli.lm.compression.codec import ArchiveError

    data = (CORPUS[:1500] + NON_ASCII).encode()
    archive = compress(lm, data, True).archive
    flipped = bytearray(archive)
    flipped[len(archive) // 2] ^= 0x04
    for bad, why in ((bytes(flipped), "does not decode|damaged"), (archive + b"\x5a\x17", "left over")):
        with pytest.raises(ArchiveError, match=why):
            decompress(lm, bad)
    with pytest.raises(ArchiveError):
        decompress(lm, archive[: len(archive) - 40])
