"""The held-out split is made on the text, and the tokenizer learns from the training part only."""

import numpy as np
import pytest
import torch

from gencli.core.config import ConfigSources
from gencli.lm.data.corpus import CorpusError
from gencli.lm.data.split import encode_split, split_text
from gencli.lm.data.tokenizer import TextTokenizer
from gencli.lm.training.fit import prepare

TRAIN_LINES = [f"the cat number {i % 13} sat on the mat and looked at the dog." for i in range(240)]
VAL_LINES = [f"zyzzyva {i % 5} met the quokka zyzzyva by the river." for i in range(30)]  # words only in the last part


def test_split_text_keeps_every_character_and_cuts_at_a_line_start():
    text = "\n".join(TRAIN_LINES + VAL_LINES) + "\n"
    train, val = split_text(text, 0.1)
    assert train + val == text
    assert train.endswith("\n")
    assert abs(len(val) - 0.1 * len(text)) <= 0.01 * len(text)  # moved by at most a tenth of the validation part
    one_line = "word " * 1000  # no line start near the cut: the cut stays where the fraction puts it
    assert len(split_text(one_line, 0.1)[1]) == 500


def test_tokenizer_never_learns_validation_only_words(tmp_path):
    text = "\n".join(TRAIN_LINES + VAL_LINES) + "\n"
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(text)
    sets = [
        f"data.corpus={corpus}",
        "tokenizer.vocab_size=400",
        "model.preset=nano",
        "model.block_size=16",
        "data.val_fraction=0.12",
    ]
    run = prepare(tmp_path / "ck", False, ConfigSources(sets=tuple(sets)))
    leaky = TextTokenizer.train(text, "bpe", 400)
    assert len(leaky.encode(" zyzzyva")) == 1  # trained on everything, the held-out word is one token...
    assert len(run.tokenizer.encode(" zyzzyva")) > 2  # ...trained on the training part, it is spelled out
    train_text, val_text = split_text(text, 0.12)
    assert "zyzzyva" in val_text and "zyzzyva" not in train_text
    assert run.tokenizer.decode(run.trainer.val_data.tolist()) == val_text
    assert run.val_bytes == len(val_text.encode("utf-8"))


def test_too_short_a_part_is_a_corpus_error():
    tok = TextTokenizer.train("abc", "char")
    with pytest.raises(CorpusError, match="too short"):
        encode_split(tok, "a" * 100, "b" * 10, 16, "tiny.txt")


def test_chunked_encoding_gives_the_ids_of_the_whole_text(tmp_path, monkeypatch):
    """Cut after newlines that precede a non-space character, the chunks encode to the whole text's ids (BPE never
    merges across such a cut); the token cache writes them once and maps them from disk the second time."""
    from gencli.lm.data import token_cache

    lines = [f"Line {i}: the cat  sat\ton the mat, {'  ' * (i % 3)}again{'.' * (i % 4)}" for i in range(400)]
    text = "\n".join(lines) + "\n\n  indented after a blank line\n" + "tail without a newline"
    tok = TextTokenizer.train(text, "bpe", 320)
    cut = len(text) // 2
    bounds = token_cache.chunk_bounds(text, 0, len(text), chunk=500)
    assert len(bounds) > 10 and bounds[0][0] == 0 and bounds[-1][1] == len(text)
    assert all(a == b for (_, a), (b, _) in zip(bounds, bounds[1:]))
    assert all(text[a - 1] == "\n" and not text[a].isspace() for a, _ in bounds[1:])
    monkeypatch.setattr(token_cache, "CHUNK_CHARS", 500)
    monkeypatch.setenv("GENCLI_CACHE_DIR", str(tmp_path))
    whole_train, whole_val = tok.encode(text[:cut]), tok.encode(text[cut:])
    for key in (None, "k1"):
        train, val, reused = token_cache.token_ids(tok, text, cut, key)
        assert train.tolist() == whole_train and val.tolist() == whole_val and not reused
    train, val, reused = token_cache.token_ids(tok, text, cut, "k1")
    assert reused and isinstance(train, np.memmap) and train.tolist() == whole_train
    assert token_cache.corpus_key(10, "a", tok, 5) != token_cache.corpus_key(10, "a", tok, 6)


def test_a_long_text_trains_its_tokenizer_on_a_bounded_sample(monkeypatch):
    from gencli.lm.data import token_cache

    monkeypatch.setattr(token_cache, "TOKENIZER_SAMPLE_CHARS", 6400)
    text = "".join(f"line {i:05d} of the text\n" for i in range(4000))
    sample = token_cache.tokenizer_sample(text, len(text) - 100)
    assert len(sample) <= 6400 and "line 00000" in sample and "line 0399" in sample
    assert all(line.startswith("line ") and line.endswith("text") for line in sample.splitlines())
    assert token_cache.tokenizer_sample("short\n", 6) == "short\n"


def test_a_large_corpus_is_read_in_blocks_with_the_ids_of_the_whole_text(tmp_path, monkeypatch):
    """Above the size limit the corpus is never held whole: blocks cut after a newline that precedes printable
    ASCII encode to the ids of the whole part, the split falls on a line start, the tokenizer learns from whole
    lines, and a training on it runs (its ids come from the cache the second time)."""
    from gencli.lm.data import large_corpus

    lines = [f"Line {i}: the cat — naïve café {'  ' * (i % 3)}again{'.' * (i % 4)}\n" for i in range(3000)]
    lines[7] = "\n"  # blank lines and indented ones: newlines that are not safe cuts
    lines[8] = "   indented\n"
    text = "".join(lines)
    path = tmp_path / "big.txt"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(large_corpus, "BLOCK_BYTES", 700)
    size, digest = large_corpus.scan(path)
    assert size == len(text.encode("utf-8"))
    cut = large_corpus.byte_split(path, size, 0.1)
    raw = path.read_bytes()
    assert raw[cut - 1 : cut] == b"\n" and abs((size - cut) - size * 0.1) <= size * 0.01
    tok = TextTokenizer.train(raw[:cut].decode(), "bpe", 320)
    for a, b, name in ((0, cut, "train"), (cut, size, "val")):
        out = tmp_path / f"{name}.i32"
        large_corpus.encode_range(tok, path, a, b, out)
        assert np.fromfile(out, dtype=np.int32).tolist() == tok.encode(raw[a:b].decode())
    sample = large_corpus.tokenizer_text(path, cut)
    assert sample and all(line.startswith(("Line ", "   indented")) for line in sample.splitlines() if line)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\n" * 10 + b"\xff\n")
    with pytest.raises(CorpusError, match="offset 50"):
        large_corpus.scan(bad)
    monkeypatch.setattr(large_corpus, "LARGE_CORPUS_BYTES", 1000)
    monkeypatch.setenv("GENCLI_CACHE_DIR", str(tmp_path / "cache"))
    sources = ConfigSources(
        sets=("model.preset=nano", "model.block_size=16", "tokenizer.vocab_size=300", "train.max_iters=2"),
        explicit={"data.corpus": str(path)},
    )
    run = prepare(tmp_path / "ck", False, sources)
    assert run.trainer.train_data.dtype == torch.int32 and len(list((tmp_path / "cache" / "tokens").iterdir())) == 2
