"""Finding and reading the text corpus: a file, or `alice` from the data dir, the cache, or a download."""

from __future__ import annotations

import os
import re
import urllib.request
from pathlib import Path

from gencli.core.atomic import write_text_atomic
from gencli.core.errors import GencliError
from gencli.core.paths import cache_dir

ALICE_FILE = "alice_in_wonderland.txt"
ALICE_URL = "https://www.gutenberg.org/cache/epub/11/pg11.txt"  # Project Gutenberg ebook 11, plain text
DATA_DIR_ENV = "GENCLI_DATA_DIR"
URL_ENV = "GENCLI_ALICE_URL"


class CorpusError(GencliError):
    """A corpus that is missing, empty, not UTF-8 or too short."""


def strip_gutenberg(text: str) -> str:
    """The text between Project Gutenberg's `*** START OF ...` and `*** END OF ...` lines."""
    start = re.search(r"^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG.*$", text, re.MULTILINE | re.IGNORECASE)
    end = re.search(r"^\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG.*$", text, re.MULTILINE | re.IGNORECASE)
    body = text[start.end() if start else 0 : end.start() if end else len(text)]
    return body.strip() + "\n"


def download_alice(target: Path, url: str | None = None, timeout: float = 30.0) -> Path:
    """Download the book once, strip the Gutenberg header and footer, cache it atomically."""
    url = url or os.environ.get(URL_ENV) or ALICE_URL
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            raw = r.read()
    except Exception as e:
        raise CorpusError(
            f"could not download Alice in Wonderland from {url} ({type(e).__name__}); "
            f"pass a text file with --corpus PATH or set {DATA_DIR_ENV} to a folder holding {ALICE_FILE}"
        ) from None
    text = strip_gutenberg(raw.decode("utf-8-sig", errors="replace"))
    return write_text_atomic(target, text)


def resolve_corpus(name: str, download: bool = True) -> Path:
    """The file behind a corpus name: a path, or `alice` ($GENCLI_DATA_DIR, cache, then a download when allowed)."""
    if name != "alice":
        path = Path(name).expanduser()
        if not path.is_file():
            raise CorpusError(f"corpus file not found: {path}")
        return path
    data_dir = os.environ.get(DATA_DIR_ENV)
    if data_dir:
        path = Path(data_dir) / ALICE_FILE
        if path.is_file():
            return path
    cached = cache_dir() / ALICE_FILE
    if cached.is_file():
        return cached
    if not download:
        raise CorpusError(f"{ALICE_FILE} is neither in ${DATA_DIR_ENV} nor in the cache {cache_dir()}")
    return download_alice(cached)


def read_corpus(name: str, download: bool = True) -> tuple[Path, str]:
    """The corpus path and its text; errors name the file and the problem."""
    path = resolve_corpus(name, download)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise CorpusError(f"corpus {path} is not UTF-8 text (bad byte at offset {e.start})") from None
    except OSError as e:
        raise CorpusError(f"corpus {path}: cannot read ({e.strerror})") from None
    if not text.strip():
        raise CorpusError(f"corpus {path} is empty")
    return path, text
