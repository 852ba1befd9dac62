"""The held-out split is made on the text, and the tokenizer learns from the training part only."""

import pytest

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
