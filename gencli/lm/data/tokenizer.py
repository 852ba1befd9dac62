"""Byte-level BPE (or single-byte) tokenizers built with the `tokenizers` library."""

from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from gencli.core.errors import GencliError

END_OF_TEXT = "<|endoftext|>"


class TextTokenizer:
    """Encodes any string to ids and back exactly (every byte is in the vocabulary)."""

    def __init__(self, tok: Tokenizer):
        self.tok = tok

    @classmethod
    def train(cls, text: str, kind: str = "bpe", vocab_size: int = 2048) -> TextTokenizer:
        """Train on `text`: BPE merges up to vocab_size, or none for `char` (single bytes)."""
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        size = vocab_size if kind == "bpe" else 257
        trainer = trainers.BpeTrainer(
            vocab_size=size,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            special_tokens=[END_OF_TEXT],
            show_progress=False,
        )
        tok.train_from_iterator(text.splitlines(keepends=True), trainer)
        return cls(tok)

    @classmethod
    def load(cls, path: Path, text: str | None = None) -> TextTokenizer:
        """The tokenizer saved at `path` (or its JSON `text`, already read from there)."""
        try:
            return cls(Tokenizer.from_str(text) if text is not None else Tokenizer.from_file(str(path)))
        except Exception:
            raise GencliError(f"{path}: missing or corrupt tokenizer.json") from None

    def to_json(self) -> str:
        return self.tok.to_str()

    @property
    def vocab_size(self) -> int:
        return self.tok.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        """The token ids of a text; one that is not valid Unicode (bytes the shell could not decode) is refused."""
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise GencliError(f"the text is not valid UTF-8 (an undecodable byte at character {e.start})") from None
        return self.tok.encode(text).ids

    def decode(self, ids: list[int]) -> str:
        return self.tok.decode(list(ids), skip_special_tokens=False)

    def piece(self, i: int) -> str:
        """The text of one token (bytes that are not valid UTF-8 alone show as U+FFFD)."""
        return self.decode([i])
