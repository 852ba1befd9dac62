"""A checkpoint folder replaced as a whole, safe against a kill at any instant.

The new folder is written beside the old one as `.NAME.tmp-PID-XXXX` and swapped in by one atomic exchange of the
two names (Linux renameat2 RENAME_EXCHANGE): at every instant `NAME` is a complete checkpoint, old or new, and a
kill leaves at most a scratch folder beside it. Where the exchange is not available the swap takes two renames
through `.NAME.old-PID`; a kill between them leaves no `NAME`, and `recover` (run before every read and write)
moves the old folder back. Scratch folders of writers that are no longer running are removed by `recover` too.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from gencli.core.atomic import folder_mode
from gencli.core.errors import WriteFailed

RENAME_EXCHANGE = 2  # linux/fs.h

# Test hook: called with the name of each step of a save ("filled", "exchanged" or "old moved", "new moved",
# "old removed"), so that a test can stop the process at each one as a kill would.
step_hook: Callable[[str], None] | None = None


def _step(name: str) -> None:
    if step_hook is not None:
        step_hook(name)


@functools.cache
def _renameat2() -> Callable | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def exchange(a: Path, b: Path) -> bool:
    """Swap the names `a` and `b` in one atomic step; False where the system cannot (then nothing changed)."""
    fn = _renameat2()
    if fn is None:
        return False
    at_cwd = -100  # AT_FDCWD
    if fn(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):  # no exchange on this file system
        return False
    raise OSError(err, os.strerror(err), str(b))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def _leftovers(path: Path) -> list[tuple[Path, str, int]]:
    """(folder, "tmp" or "old", writer pid) of the scratch folders of saves of `path`."""
    out = []
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(tmp|old)-(\d+)(-.*)?$")
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return out
    for entry in entries:
        m = pattern.match(entry.name)
        if m:
            out.append((entry, m.group(1), int(m.group(2))))
    return out


def recover(path: Path) -> None:
    """Finish what a killed save of `path` left: move its old folder back when `path` is missing, and remove the
    scratch folders of writers that are no longer running."""
    path = Path(path)
    dead = [(p, kind) for p, kind, pid in _leftovers(path) if not _alive(pid)]
    if not os.path.lexists(path):
        for p, kind in dead:
            if kind == "old":
                try:
                    os.rename(p, path)  # fails harmlessly if another process got there first
                except OSError:
                    pass
                break
    for p, _ in dead:
        if p.exists() and p != path:
            shutil.rmtree(p, ignore_errors=True)


def swap_in_progress(path: Path) -> bool:
    """True while a running writer is between writing its new folder and removing the old one."""
    return any(_alive(pid) for _, _, pid in _leftovers(Path(path)))


def write_dir_atomic(path: Path, fill: Callable[[Path], None]) -> None:
    """Create `path` with contents written by `fill(tmpdir)`, swapped in atomically (see the module's docstring)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        recover(path)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-{os.getpid()}-", dir=path.parent))
        os.chmod(tmp, folder_mode())
    except OSError as e:
        raise WriteFailed(f"could not write the checkpoint {path} ({e.strerror}); nothing there was changed") from None
    try:
        fill(tmp)
        _step("filled")
        if path.exists() and exchange(tmp, path):
            _step("exchanged")
            shutil.rmtree(tmp, ignore_errors=True)  # now the old checkpoint
            _step("old removed")
            return
        old = None
        if path.exists():
            old = path.parent / f".{path.name}.old-{os.getpid()}"
            if old.exists():
                shutil.rmtree(old)
            os.replace(path, old)
            _step("old moved")
        os.replace(tmp, path)
        _step("new moved")
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
            _step("old removed")
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        why = "the disk is full" if e.errno == errno.ENOSPC else e.strerror
        raise WriteFailed(
            f"could not write the checkpoint {path} ({why}); the previous checkpoint there is intact"
        ) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
