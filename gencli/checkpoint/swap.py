"""A checkpoint folder replaced as a whole: the new one is written beside it and swapped in with renames.

A reader sees the old folder or the new one; one that meets the swap in progress (the folder briefly
missing) can tell by the temporary folders beside it and read again.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from gencli.core.atomic import folder_mode
from gencli.core.errors import WriteFailed


def swap_in_progress(path: Path) -> bool:
    """True while a save of `path` is between writing its new folder and removing the old one."""
    return any(path.parent.glob(f".{path.name}.tmp-*")) or any(path.parent.glob(f".{path.name}.old-*"))


def write_dir_atomic(path: Path, fill: Callable[[Path], None]) -> None:
    """Create `path` with contents written by `fill(tmpdir)`, swapped in by rename."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
        os.chmod(tmp, folder_mode())
    except OSError as e:
        raise WriteFailed(f"could not write the checkpoint {path} ({e.strerror}); nothing there was changed") from None
    try:
        fill(tmp)
        old = None
        if path.exists():
            old = path.parent / f".{path.name}.old-{os.getpid()}"
            if old.exists():
                shutil.rmtree(old)
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        why = "the disk is full" if e.errno == errno.ENOSPC else e.strerror
        raise WriteFailed(
            f"could not write the checkpoint {path} ({why}); the previous checkpoint there is intact"
        ) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
