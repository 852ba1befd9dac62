"""lm compress / decompress and adaptive scoring: round trips, size against the model's bits, refusals, and the
adaptive methods against independent computations."""

import copy
import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gencli.lm.compression.codec import ArchiveError, Header, coded_log2probs, compress, decompress
from gencli.lm.data.unseen import UNSEEN_TEXT
from gencli.lm.inference.adaptive import NeuralCache, TextPredictor, segment_plan, text_log2probs
from gencli.lm.model.store import TrainedLM
from tests.test_lm_core import CORPUS

NON_ASCII = "Ça va? Ünïcödé — naïve café, 日本語のテキスト, emoji 🙂🐇\r\n\ttabs\0and a NUL, <|endoftext|> too.\n"
TEXTS = {
    "empty": "",
    "one byte": "a",
    "non-ASCII UTF-8": NON_ASCII,
    "many blocks": CORPUS[:1500] + NON_ASCII + UNSEEN_TEXT[:1500],
}


def with_adapt(lm: TrainedLM, **settings) -> TrainedLM:
    """The same model with other adapt settings."""
    cfg = copy.deepcopy(lm.cfg)
    cfg.adapt = dataclasses.replace(cfg.adapt, **settings)
    return TrainedLM(cfg, lm.model, lm.tokenizer, lm.checkpoint, lm.prime)


@pytest.mark.parametrize("adaptive", [False, True], ids=["static", "adaptive"])
@pytest.mark.parametrize("name", list(TEXTS))
def test_round_trip(lm, name, adaptive):
    data = TEXTS[name].encode("utf-8")
    c = compress(lm, data, adaptive)
    assert decompress(lm, c.archive) == data
    assert Header.parse(c.archive, "x")[0].adaptive == adaptive


@pytest.mark.parametrize("adaptive", [False, True], ids=["static", "adaptive"])
def test_file_size_is_the_model_bits(lm, adaptive):
    """The coded part of the archive is within 0.5% (and the coder's last word) of sum -log2 p."""
    data = TEXTS["many blocks"].encode("utf-8")
    c = compress(lm, data, adaptive)
    ids = lm.tokenizer.encode(data.decode())
    independent = -float(coded_log2probs(lm, ids, adaptive).sum())
    assert c.model_bits == pytest.approx(independent, rel=1e-9)
    coded_bits = 8 * (len(c.archive) - c.header_bytes)
    assert abs(coded_bits - c.model_bits) <= 0.005 * c.model_bits + 32


def test_adaptive_learns_a_repeated_unseen_phrase(lm):
    """A phrase the model never saw, repeated: the cache and the SGD steps make it cheaper than the static model
    does."""
    text = "Zephyrine Quillbottom waved. " * 12
    ids = lm.tokenizer.encode(text)
    static = -text_log2probs(lm.model, ids, lm.cfg.adapt, False).sum()
    cache_only = -text_log2probs(lm.model, ids, dataclasses.replace(lm.cfg.adapt, lr=0.0), True).sum()
    sgd_only = -text_log2probs(lm.model, ids, dataclasses.replace(lm.cfg.adapt, cache_size=0, lr=1e-2), True).sum()
    assert cache_only < static and sgd_only < static


def test_a_position_does_not_see_the_padding_or_later_tokens(lm):
    """Each static distribution equals the model's softmax on exactly the tokens before it (no padding, no future)."""
    ids = lm.tokenizer.encode(TEXTS["many blocks"])[:200]
    got = text_log2probs(lm.model, ids, lm.cfg.adapt, False)
    block = lm.cfg.model.block_size
    assert got[0] == pytest.approx(-math.log2(lm.tokenizer.vocab_size))
    with torch.no_grad():
        for seg in segment_plan(len(ids), block, lm.cfg.adapt.segment_for(block)):
            for j in (seg.first, seg.end - 1):
                logits = lm.model(torch.tensor([ids[seg.start : j]]))[0, -1]
                want = torch.log_softmax(logits.double(), -1)[ids[j]].item() / math.log(2)
                assert got[j] == pytest.approx(want, abs=1e-4)


def test_segment_plan_covers_each_token_once_with_enough_context():
    for n, block, seg in [(2, 8, 4), (100, 16, 8), (101, 16, 15), (50, 64, 1)]:
        plan = segment_plan(n, block, seg)
        covered = [j for s in plan for j in range(s.first, s.end)]
        assert covered == list(range(1, n))
        for s in plan:
            assert 0 <= s.start < s.first and s.end - s.start <= block
            assert s.first - s.start >= min(s.first, block - seg)


def test_neural_cache_matches_its_formula():
    """p(w) = sum_{i: next_i = w} exp(theta h.h_i) / sum_i exp(theta h.h_i), over the last `size` pairs only."""
    g = torch.Generator().manual_seed(0)
    keys, nexts = torch.randn(7, 5, generator=g), [3, 1, 3, 0, 2, 1, 3]
    cache = NeuralCache(size=5, dim=5, vocab=4, theta=0.7)
    for k, w in zip(keys, nexts):
        cache.add(k, w)
    h = torch.randn(5, generator=g)
    kept = range(2, 7)  # the ring holds the last 5
    weights = {i: math.exp(0.7 * float(h @ keys[i])) for i in kept}
    total = sum(weights.values())
    want = [sum(weights[i] for i in kept if nexts[i] == w) / total for w in range(4)]
    assert cache.probs(h).tolist() == pytest.approx(want, rel=1e-5)
    assert NeuralCache(3, 5, 4, 1.0).probs(h) is None


def test_dynamic_evaluation_is_one_sgd_step(lm):
    """after_segment moves the weights as torch.optim.SGD does on the segment's mean cross-entropy."""
    settings = dataclasses.replace(lm.cfg.adapt, lr=0.05, cache_size=0, decay=0.0)
    pred = TextPredictor(lm.model, settings, adapt=True)
    ids = lm.tokenizer.encode(CORPUS[:400])
    seg = segment_plan(len(ids), pred.block, 8)[3]
    reference = copy.deepcopy(lm.model).float().train(False).requires_grad_(True)
    opt = torch.optim.SGD(reference.parameters(), lr=0.05)
    x = torch.tensor([ids[seg.start : seg.end]])
    logits = reference(x)[0, seg.row(seg.first) : seg.row(seg.end - 1) + 1]
    F.cross_entropy(logits, torch.tensor(ids[seg.first : seg.end])).backward()
    opt.step()
    pred.after_segment(pred.window(ids, seg), seg)
    for a, b in zip(pred.model.parameters(), reference.parameters()):
        assert torch.allclose(a, b, atol=1e-6)
    assert any(not torch.equal(a, b) for a, b in zip(pred.model.parameters(), lm.model.parameters()))


def test_tampered_archive_is_refused(lm):
    data = TEXTS["many blocks"].encode("utf-8")
    archive = bytearray(compress(lm, data, True).archive)
    archive[len(archive) // 2] ^= 0x10
    with pytest.raises(ArchiveError):
        decompress(lm, bytes(archive))
    with pytest.raises(ArchiveError, match="not a gencli archive"):
        decompress(lm, b"PK" + bytes(archive[2:]))


def test_another_checkpoint_or_settings_are_refused(lm):
    archive = compress(lm, b"The cat sat on the mat.", True).archive
    with pytest.raises(ArchiveError, match="another checkpoint"):
        decompress(with_adapt(lm, cache_lambda=0.5), archive)
    other = copy.deepcopy(lm.model)
    with torch.no_grad():
        other.head.weight[0, 0] += 1e-3
    with pytest.raises(ArchiveError, match="another checkpoint"):
        decompress(TrainedLM(lm.cfg, other, lm.tokenizer, lm.checkpoint), archive)


def test_probabilities_are_distributions(lm):
    """Every distribution the coder gets sums to 1 and is positive (the cache mixture included)."""
    ids = lm.tokenizer.encode(CORPUS[:300])
    pred = TextPredictor(lm.model, lm.cfg.adapt, adapt=True)
    for seg in segment_plan(len(ids), pred.block, 8)[:4]:
        p = pred.segment_probs(ids, seg)
        assert np.allclose(p.sum(1), 1, atol=1e-5) and (p > 0).all()


# --- the commands ---------------------------------------------------------------------------------------------


@pytest.fixture
def lm_ckpt(lm):
    return lm.checkpoint.path


def test_cli_round_trip_and_json(cli, lm_ckpt, tmp_path):
    src = tmp_path / "story.txt"
    src.write_text(TEXTS["many blocks"])
    r = cli("lm", "compress", str(src), "--ckpt", str(lm_ckpt), "--json")
    assert r.exit_code == 0, r.stderr
    out = r.json()
    archive = tmp_path / "story.txt.gcz"
    assert out["output_bytes"] == archive.stat().st_size and out["input_bytes"] == src.stat().st_size
    assert out["bits_per_byte"] == pytest.approx(8 * out["output_bytes"] / out["input_bytes"])
    assert out["adapt"] is True and out["seconds"] > 0 and out["format"] == archive.read_bytes()[3] == 3
    src.rename(tmp_path / "original.txt")
    r = cli("lm", "decompress", str(archive), "--ckpt", str(lm_ckpt))
    assert r.exit_code == 0, r.stderr
    assert src.read_bytes() == (tmp_path / "original.txt").read_bytes()
    # prob --file --adapt reports the bits compress coded
    p = cli(
        "lm", "prob", "--file", str(src), "--adapt", "--ckpt", str(lm_ckpt), "--json", "--out-dir", str(tmp_path / "p")
    )
    assert p.exit_code == 0, p.stderr
    assert p.json()["bits_per_byte"] == pytest.approx(out["model_bits_per_byte"], rel=1e-9)


def test_cli_refusals_write_nothing(cli, lm_ckpt, tmp_path):
    src = tmp_path / "a.txt"
    src.write_text("Alice and the cat.")
    assert cli("lm", "compress", str(src), "--ckpt", str(lm_ckpt)).exit_code == 0
    archive = tmp_path / "a.txt.gcz"
    before = archive.read_bytes()
    r = cli("lm", "compress", str(src), "--ckpt", str(lm_ckpt))  # exists, no --force
    assert r.exit_code == 2 and "--force" in r.stderr and archive.read_bytes() == before
    damaged = tmp_path / "d.gcz"
    damaged.write_bytes(before[:-1] + bytes([before[-1] ^ 0xFF]))
    r = cli("lm", "decompress", str(damaged), "--ckpt", str(lm_ckpt))
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and not (tmp_path / "d").exists()
    binary = tmp_path / "b.bin"
    binary.write_bytes(b"ok \xff\xfe not text")
    r = cli("lm", "compress", str(binary), "--ckpt", str(lm_ckpt))
    assert r.exit_code == 2 and "not UTF-8" in r.stderr and not (tmp_path / "b.bin.gcz").exists()
    r = cli("lm", "decompress", str(src), "--ckpt", str(lm_ckpt))  # no .gcz and no -o
    assert r.exit_code == 2 and "-o" in r.stderr
    r = cli("lm", "decompress", str(src), "-o", str(tmp_path / "x"), "--ckpt", str(lm_ckpt))  # not an archive
    assert r.exit_code == 2 and "not a gencli archive" in r.stderr and not (tmp_path / "x").exists()


def test_cache_weight_follows_the_gradient_of_log_p(lm):
    """lambda += eta * d log p(x) / d lambda, with p = (1 - lambda) p_model + lambda p_cache; kept in its range."""
    pred = TextPredictor(
        lm.model, dataclasses.replace(lm.cfg.adapt, cache_lambda=0.2, cache_lambda_lr=0.05), adapt=True
    )
    V = pred.vocab
    pm, pc = torch.full((V,), 1.0 / V), torch.zeros(V)
    pc[7] = 1.0
    pred.last = (pm, pc)
    pred.after_token(torch.zeros(lm.model.shape.n_embd), 7)
    mix = 0.8 / V + 0.2
    assert pred.lam == pytest.approx(0.2 + 0.05 * (1 - 1 / V) / mix)
    pred.last = (pm, pc)
    pred.after_token(torch.zeros(lm.model.shape.n_embd), 3)  # the cache gave token 3 nothing: lambda falls
    assert pred.lam < 0.2 + 0.05 * (1 - 1 / V) / mix
    for _ in range(200):
        pred.last = (pm, pc)
        pred.after_token(torch.zeros(lm.model.shape.n_embd), 3)
    assert pred.lam == pytest.approx(0.01)


def test_token_sizes_add_up_to_the_utf8_length(lm):
    from gencli.lm.compression.codec import token_bytes

    sizes = token_bytes(lm)
    for text in TEXTS.values():
        assert sum(sizes[i] for i in lm.tokenizer.encode(text)) == len(text.encode("utf-8"))


def test_a_header_that_lies_about_the_size_is_refused_early(lm):
    data = TEXTS["many blocks"].encode("utf-8")
    c = compress(lm, data, False)
    header, at = Header.parse(c.archive, "x")
    impossible = dataclasses.replace(header, n_tokens=header.n_bytes + 1)
    with pytest.raises(ArchiveError, match="damaged header"):
        decompress(lm, impossible.to_bytes() + c.archive[at:])
    shorter = dataclasses.replace(header, n_bytes=100, n_tokens=90)
    with pytest.raises(ArchiveError, match="longer than 100 bytes"):
        decompress(lm, shorter.to_bytes() + c.archive[at:])


def test_classic_sizes_are_the_cost_after_the_given_text():
    import bz2

    from gencli.lm.compression.classic import conditional_sizes

    given, texts = CORPUS.encode(), {"a": UNSEEN_TEXT.encode(), "b": NON_ASCII.encode()}
    sizes = conditional_sizes(texts, given)
    for name, text in texts.items():
        assert sizes[name, "bzip2 -9"] == len(bz2.compress(given + text, 9)) - len(bz2.compress(given, 9))
    assert {coder for _, coder in sizes} >= {"PPMd order 8", "bzip2 -9", "xz -9e"}


def test_crafted_archives_are_refused_before_decoding(lm):
    """Headers that claim more than their payload can hold, counts too long to be counts, unknown flags and bytes
    after the coded data: each refused with ArchiveError, quickly (no plan or decode is built for the claim)."""
    import time

    from gencli.lm.compression.codec import max_tokens, varint

    c = compress(lm, TEXTS["many blocks"].encode("utf-8"), False)
    header, at = Header.parse(c.archive, "x")
    payload = c.archive[at:]
    start = time.perf_counter()
    huge = dataclasses.replace(header, n_bytes=2**60, n_tokens=2**60)
    with pytest.raises(ArchiveError, match="claims"):
        decompress(lm, huge.to_bytes())  # no payload at all: the 31-byte archive of the hostile probe
    with pytest.raises(ArchiveError, match="claims"):
        decompress(lm, huge.to_bytes() + payload)
    few_tokens = dataclasses.replace(header, n_bytes=header.n_tokens * 1000)  # more bytes than tokens can spell
    with pytest.raises(ArchiveError, match="at most"):
        decompress(lm, few_tokens.to_bytes() + payload)
    long_count = c.archive[:5] + b"\xff" * 3000 + b"\x01" + c.archive[5:]
    with pytest.raises(ArchiveError, match="longer than 9 bytes"):
        decompress(lm, long_count)
    flagged = bytearray(c.archive)
    flagged[4] |= 0x80
    with pytest.raises(ArchiveError, match="unknown flags"):
        decompress(lm, bytes(flagged))
    with pytest.raises(ArchiveError, match="left over"):
        decompress(lm, c.archive + b"\x17\x2a\x99\x01" * 4)
    assert time.perf_counter() - start < 30
    # the bound holds for what the coder really writes: the likeliest token, over and over
    assert c.n_tokens <= max_tokens(len(payload), lm.tokenizer.vocab_size)
    assert varint(2**62)[-1] < 0x80 and len(varint(2**62)) == 9


def test_cli_reads_the_magic_before_the_file(cli, lm_ckpt, tmp_path, monkeypatch):
    """A large file that is not an archive is refused from its first bytes; a FIFO or device is not read at all."""
    import os

    big = tmp_path / "big.gcz"
    with big.open("wb") as f:
        f.truncate(6 * 2**30)  # sparse: 6 GB that reading whole would allocate
    r = cli("lm", "decompress", str(big), "-o", str(tmp_path / "out"), "--ckpt", str(lm_ckpt))
    assert r.exit_code == 2 and "no GCZ magic" in r.stderr and not (tmp_path / "out").exists()
    fifo = tmp_path / "fifo.gcz"
    os.mkfifo(fifo)
    r = cli("lm", "decompress", str(fifo), "-o", str(tmp_path / "out"), "--ckpt", str(lm_ckpt))
    assert r.exit_code == 2 and "not a regular file" in r.stderr
