"""The language model against independent paths and invariants."""

import math

import pytest
import torch

from gencli.lm.data.corpus import CorpusError, download_alice, read_corpus, strip_gutenberg
from gencli.lm.data.tokenizer import TextTokenizer
from gencli.lm.inference.attention import attention_at_word
from gencli.lm.inference.generate import filter_logits
from gencli.lm.inference.score import score_tokens
from gencli.lm.inversion.vectors import invert_text
from gencli.lm.model.gpt import GPT, GPTShape
from gencli.lm.training.trainer import bits_per_byte, get_batch

CORPUS = " ".join(f"the cat number {i % 17} sat on the mat and looked at the dog." for i in range(300))


def tiny_gpt(vocab=300, block=16, seed=0):
    torch.manual_seed(seed)
    return GPT(GPTShape(vocab, block, 2, 2, 16)).eval()


@pytest.mark.parametrize("kind", ["bpe", "char"])
def test_tokenizer_round_trips_any_string(kind):
    tok = TextTokenizer.train(CORPUS, kind, 300)
    for s in ["I am a little squirrel holding a walnut", "héllo — 東京 🐿️", "  spaces\tand\nlines  "]:
        assert tok.decode(tok.encode(s)) == s
    if kind == "char":
        assert len(tok.encode("squirrel")) == len("squirrel")
    else:
        assert len(tok.encode("the cat sat")) < len("the cat sat")


def test_fused_and_explicit_attention_agree():
    m = tiny_gpt()
    x = torch.randint(0, 300, (3, 16))
    assert torch.allclose(m(x), m(x, explicit=True), atol=1e-5)


def test_key_dropout_equals_dropping_weight_columns_on_both_paths():
    torch.manual_seed(0)
    m = GPT(GPTShape(300, 16, 1, 2, 16, attn_dropout=0.5, attn_dropout_mode="keys")).double()
    m.train()
    x = torch.randint(0, 300, (3, 16))
    outs = []
    for explicit in (True, False):
        m.use_generator(torch.Generator().manual_seed(4))
        outs.append(m(x, explicit=explicit))
    assert torch.allclose(outs[0], outs[1], atol=1e-6)  # the explicit path takes its softmax in fp32
    # the same by hand: each example and head loses whole columns of its attention weights (scaled by 1/(1-p))
    attn = m.blocks[0].attn
    m.use_generator(torch.Generator().manual_seed(4))
    keep = attn.attn_drop(torch.ones((3, 2, 16, 1), dtype=torch.float64))
    assert ((keep == 0) | (keep == 2.0)).all() and (keep == 0).any()
    h = m.drop(m.tok_emb(x) + m.pos_emb(torch.arange(16)))
    q, k, v = attn.qkv(m.blocks[0].ln1(h)).split(16, dim=2)
    q, k, v = (t.view(3, 16, 2, 8).transpose(1, 2) for t in (q, k, v))
    causal = torch.ones(16, 16, dtype=torch.bool).tril()
    w = torch.softmax((q @ k.transpose(-2, -1) / math.sqrt(8)).masked_fill(~causal, float("-inf")), -1)
    y = (w * keep.transpose(-2, -1)) @ v  # column j of the weights times keep_j
    a = attn.proj(y.transpose(1, 2).reshape(3, 16, 16))
    h = h + a
    h = h + m.blocks[0].mlp(m.blocks[0].ln2(h))
    assert torch.allclose(m.head(m.ln_f(h)), outs[0], atol=1e-6)  # the explicit path takes its softmax in fp32


def test_attention_rows_sum_to_one_and_are_causal():
    m = tiny_gpt()
    _, maps = m(torch.randint(0, 300, (1, 12)), return_attention=True)
    for att in maps:
        assert torch.allclose(att.sum(-1), torch.ones_like(att.sum(-1)), atol=1e-6)
        assert (att[0].triu(diagonal=1) == 0).all()


def test_logits_do_not_depend_on_the_future():
    m = tiny_gpt()
    x = torch.randint(0, 300, (1, 10))
    y = x.clone()
    y[0, 7:] = (y[0, 7:] + 1) % 300
    assert torch.allclose(m(x)[0, :7], m(y)[0, :7], atol=1e-6)


def test_log_probs_total_rank_and_sliding_window():
    m = tiny_gpt(block=16)
    ids = torch.randint(0, 300, (14,), generator=torch.Generator().manual_seed(1)).tolist()
    scores = score_tokens(m, ids)
    assert [s.position for s in scores] == list(range(1, 14))
    logp = torch.log_softmax(m(torch.tensor([ids]))[0], -1)
    direct = sum(logp[j - 1, ids[j]].item() for j in range(1, 14))
    assert sum(s.logprob for s in scores) == pytest.approx(direct, abs=1e-4)
    assert all(math.isclose(s.prob, math.exp(s.logprob), rel_tol=1e-5) for s in scores)
    greedy = logp[4].argmax().item()
    assert score_tokens(m, ids[:5] + [greedy])[-1].rank == 1
    # a long text: every token after the first scored once, each with a full-enough window
    long_ids = (ids * 4)[:50]
    long_scores = score_tokens(m, long_ids)
    assert [s.position for s in long_scores] == list(range(1, 50))
    # window agrees with direct scoring where the context fits
    assert [round(s.logprob, 4) for s in long_scores[:15]] == [
        round(s.logprob, 4) for s in score_tokens(m, long_ids[:16])
    ]


def test_top_k_and_top_p_filters():
    logits = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    assert (
        torch.isinf(filter_logits(logits, top_k=2)[2:]).all()
        and torch.isfinite(filter_logits(logits, top_k=2)[:2]).all()
    )
    kept = torch.isfinite(filter_logits(logits, top_p=0.7))
    assert kept.tolist() == [True, True, False, False]


def test_inversion_reaches_a_short_target():
    m = tiny_gpt()
    target = [5, 17, 42, 99]
    res = invert_text(m, target, steps=300, lr=0.1)
    assert res.success and res.decoded_ids[-1] == target and res.steps <= 300
    assert res.losses[-1] < res.losses[0]


def test_attention_at_word_finds_the_query():
    tok = TextTokenizer.train(CORPUS, "char", 0)
    m = tiny_gpt(vocab=tok.vocab_size, block=64)
    ids = tok.encode("one two three four five")
    res = attention_at_word(m, tok, ids, 4)
    assert res.predicted_word == "four"
    assert tok.decode(res.token_ids) == "one two three " and res.query_index == len(res.token_ids) - 1
    for mat in res.matrices:
        assert torch.allclose(mat.sum(-1), torch.ones(mat.shape[0]), atol=1e-5)


def test_batches_are_shifted_windows():
    data = torch.arange(100)
    x, y = get_batch(data, 8, 4, torch.Generator().manual_seed(0))
    assert torch.equal(y, x + 1) and torch.equal(x[:, 1:], x[:, :-1] + 1)
    assert bits_per_byte(math.log(2), 10, 10) == pytest.approx(1.0)


def test_corpus_errors_and_download_path(tmp_path, monkeypatch):
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.raises(CorpusError, match="empty"):
        read_corpus(str(tmp_path / "empty.txt"))
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(CorpusError, match="not UTF-8"):
        read_corpus(str(tmp_path / "latin1.txt"))
    book = (
        "header\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\nThe story.\n*** END OF THE PROJECT GUTENBERG EBOOK "
        "X ***\nlicence"
    )
    assert strip_gutenberg(book) == "The story.\n"
    src = tmp_path / "pg11.txt"
    src.write_text(book)
    target = download_alice(tmp_path / "cache" / "alice.txt", url=src.as_uri())
    assert target.read_text() == "The story.\n"
    monkeypatch.delenv("GENCLI_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("GENCLI_ALICE_URL", src.as_uri())
    path, text = read_corpus("alice")  # downloads once into the cache
    assert text == "The story.\n" and path == tmp_path / "xdg" / "gencli" / "alice_in_wonderland.txt"
    monkeypatch.setenv("GENCLI_ALICE_URL", (tmp_path / "gone.txt").as_uri())
    assert read_corpus("alice")[1] == "The story.\n"  # served from the cache
    path.unlink()
    with pytest.raises(CorpusError, match="--corpus PATH"):
        read_corpus("alice")
    monkeypatch.setenv("GENCLI_ALICE_URL", src.as_uri())
    with pytest.raises(CorpusError, match="nor in the cache"):
        read_corpus("alice", download=False)  # the source is reachable, but a lookup that may not download does not
    assert not path.exists()


def test_learning_rate_warmup_and_cosine_against_the_formula():
    from gencli.core.config import resolve
    from gencli.lm.config import LMConfig
    from gencli.lm.training.trainer import learning_rate

    cfg = resolve(
        LMConfig,
        sets=[
            "train.lr=1e-3",
            "train.min_lr=1e-4",
            "train.warmup_iters=10",
            "train.max_iters=110",
            "train.lr_schedule=cosine",
        ],
    )
    lrs = [learning_rate(s, cfg) for s in range(110)]
    assert lrs[:10] == pytest.approx([1e-3 * (s + 1) / 10 for s in range(10)])
    assert lrs[10] == pytest.approx(1e-3) and lrs[60] == pytest.approx(
        5.5e-4
    )  # half way down: the mean of lr and floor
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:])) and lrs[-1] > 1e-4
    flat = resolve(LMConfig, sets=["train.lr=1e-3", "train.lr_schedule=constant", "train.warmup_iters=0"])
    assert {learning_rate(s, flat) for s in (0, 500, 1999)} == {1e-3}
    low = resolve(
        LMConfig, sets=["train.lr=1e-5", "train.min_lr=5e-5", "train.warmup_iters=0"]
    )  # a floor above lr: flat
    assert {learning_rate(s, low) for s in (0, 1000, 1999)} == {1e-5}


def test_tied_weights_share_the_matrix_and_survive_a_checkpoint(tmp_path):
    from gencli.checkpoint.load import load_checkpoint
    from gencli.checkpoint.save import save_checkpoint

    torch.manual_seed(0)
    model = GPT(GPTShape(300, 16, 2, 2, 16, tie_weights=True)).eval()
    assert model.head.weight is model.tok_emb.weight
    assert model.n_params() == GPT(GPTShape(300, 16, 2, 2, 16)).n_params() - 300 * 16
    save_checkpoint(tmp_path / "ck", "lm", model.state_dict(), {}, {})
    other = GPT(GPTShape(300, 16, 2, 2, 16, tie_weights=True)).eval()
    other.load_state_dict(load_checkpoint(tmp_path / "ck", "lm").weights)
    x = torch.tensor([[1, 5, 9, 2]])
    assert torch.equal(model(x), other(x)) and other.head.weight is other.tok_emb.weight


def test_weight_average_follows_its_recursion_and_is_what_is_evaluated():
    from gencli.core.config import resolve
    from gencli.lm.config import LMConfig
    from gencli.lm.data.split import encode_split, split_text
    from gencli.lm.training.trainer import LMTrainer

    sets = [
        "model.preset=custom",
        "model.n_layer=2",
        "model.n_head=2",
        "model.n_embd=16",
        "model.block_size=16",
        "model.dropout=0.1",
        "train.batch_size=4",
        "train.eval_batches=2",
        "train.eval_every=100",
    ]
    train, val = encode_split(TextTokenizer.train(CORPUS, "char"), *split_text(CORPUS, 0.1), 16, "corpus")
    trainer = LMTrainer(resolve(LMConfig, sets=sets + ["train.ema=0.25"]), 257, train, val, torch.device("cpu"))
    seen = []
    trainer.run(
        6,
        on_step=lambda *_: seen.append({k: v.clone() for k, v in trainer.model.state_dict().items()}),
        eval_at_end=False,
    )
    expected = seen[0]  # the first step copies the weights, then a = 0.25 per step
    for w in seen[1:]:
        expected = {k: 0.75 * expected[k] + 0.25 * w[k] for k in w}
    got = trainer.weights()
    assert all(torch.allclose(got[k], expected[k], atol=1e-6) for k in expected)
    assert not torch.allclose(got["blocks.0.attn.qkv.weight"], seen[-1]["blocks.0.attn.qkv.weight"])
    plain = LMTrainer(resolve(LMConfig, sets=sets), 257, train, val, torch.device("cpu"))
    plain.model.load_state_dict(expected)
    assert trainer.estimate(val) == pytest.approx(plain.estimate(val), rel=1e-5)  # evaluated without dropout


def test_bpe_dropout_segments_the_same_bytes_and_matches_the_tokenizer_at_zero():
    from gencli.lm.data.augment import BPESegmenter, dropout_stream

    text = CORPUS + " Zebras, café; naïve\nnew line  two spaces"
    tok = TextTokenizer.train(text, "bpe", 320)
    seg = BPESegmenter(tok)
    assert seg.encode(text) == tok.encode(text)  # p = 0: the tokenizers library's own (Rust) segmentation
    a, b = seg.encode(text, 0.3, seed=1), seg.encode(text, 0.3, seed=2)
    assert a != b and len(a) > len(tok.encode(text))  # skipped merges leave more, shorter tokens
    assert tok.decode(a) == tok.decode(b) == text and seg.encode(text, 0.3, seed=1) == a
    train = torch.tensor(tok.encode(text))
    stream = dropout_stream(tok, train, 0.3, seed=5, copies=2)
    assert torch.equal(stream[: len(train)], train) and tok.decode(stream.tolist()) == text * 3


def test_evaluation_runs_eval_batches_on_validation_and_eval_train_batches_on_training():
    from gencli.core.config import resolve
    from gencli.lm.config import LMConfig
    from gencli.lm.data.split import encode_split, split_text
    from gencli.lm.training.trainer import LMTrainer

    sets = [
        "model.preset=custom",
        "model.n_layer=1",
        "model.n_head=2",
        "model.n_embd=16",
        "model.block_size=16",
        "train.batch_size=4",
        "train.eval_batches=6",
        "train.eval_train_batches=2",
    ]
    train, val = encode_split(TextTokenizer.train(CORPUS, "char"), *split_text(CORPUS, 0.1), 16, "corpus")
    trainer = LMTrainer(resolve(LMConfig, sets=sets), 257, train, val, torch.device("cpu"))
    seen = []
    loss = trainer.loss
    trainer.loss = lambda x, y, net=None: seen.append(len(x)) or loss(x, y, net)
    val_loss = trainer.evaluate()
    assert seen == [4] * 8  # 6 validation batches, then 2 training batches: the cost of one evaluation
    assert trainer.history.eval_val == [val_loss] and val_loss == trainer.estimate(val)
    assert trainer.history.eval_train == [trainer.estimate(train, 2)]
