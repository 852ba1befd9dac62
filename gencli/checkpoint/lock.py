"""One writer per checkpoint: an exclusive OS lock on `.NAME.lock` beside the folder.

The OS releases the lock when its process ends, however it ends, so a killed writer never blocks the next one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gencli.checkpoint.format import CheckpointError

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows: no lock there
    fcntl = None


_held_locks: dict[Path, tuple[int, Path]] = {}


def lock_for_writing(path: Path) -> None:
    """Take the exclusive writer lock of checkpoint folder `path` for this process (a no-op when it holds it already).

    Another process holding it is refused at once, in one line naming the folder and that
    process's pid. The OS releases the lock when its process ends, so a killed writer never
    blocks the next one; the lock file is removed when the lock is given back.
    """
    key = Path(path).absolute()
    if fcntl is None or key in _held_locks:
        return
    key.parent.mkdir(parents=True, exist_ok=True)
    lock_path = key.parent / f".{key.name}.lock"
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise CheckpointError(
                f"{path}: another gencli process (pid {holder}) is writing this checkpoint; wait for "
                "it to finish or choose another --ckpt"
            ) from None
        try:
            same = os.stat(lock_path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:  # else the holder removed the file between our open and our lock: take the new one
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    _held_locks[key] = (fd, lock_path)


def writer_of(path: Path) -> str | None:
    """The pid of the process holding the writer lock of `path` (another one), or None when nobody writes it."""
    key = Path(path).absolute()
    lock_path = key.parent / f".{key.name}.lock"
    if fcntl is None or key in _held_locks or not lock_path.is_file():
        return None
    try:
        fd = os.open(lock_path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # a shared lock is refused while a writer holds its own
        except OSError:
            return os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def release_writer_lock(path: Path) -> None:
    """Give back the writer lock of `path` if this process holds it (and remove its lock file)."""
    held = _held_locks.pop(Path(path).absolute(), None)
    if held is not None:
        fd, lock_path = held
        lock_path.unlink(missing_ok=True)


@contextmanager
def writer_lock(path: Path) -> Iterator[None]:
    """The writer lock of `path`, taken on entry and given back if the block raises; a block that succeeds leaves it
    held, for the training it prepared (`training_into` gives it back when that training ends)."""
    lock_for_writing(path)
    try:
        yield
    except BaseException:
        release_writer_lock(path)
        raise
