"""Atomic file writes: a temporary file beside the target, unique to this writer, then one rename.

A reader sees the old file or the new one, never half of either; two processes writing the
same target never touch each other's temporary files (their names come from mkstemp).
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gencli.core.errors import GencliError


@functools.cache
def umask() -> int:
    """The process's umask (read once: os.umask can only be read by setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a new file gets under the user's umask, as `open` would give it (mkstemp gives 0600)."""
    return 0o666 & ~umask()


def folder_mode() -> int:
    """The mode a new folder gets under the user's umask (mkdtemp gives 0700)."""
    return 0o777 & ~umask()


def check_replaceable(path: Path) -> None:
    """Refuse to replace anything but a regular file (a folder, a device, a FIFO, a socket)."""
    if path.exists() and not path.is_file():
        raise GencliError(f"{path}: exists and is not a regular file; refusing to replace it")


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a fresh temporary path beside `path`; when the block ends without error it replaces `path` (a regular
    file, or nothing), with the mode the user's umask gives; else it is removed."""
    path = Path(path)
    check_replaceable(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write `data` to `path` atomically."""
    with replacing(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text_atomic(path: Path, text: str) -> Path:
    """Write UTF-8 `text` to `path` atomically."""
    return write_bytes_atomic(path, text.encode("utf-8"))
