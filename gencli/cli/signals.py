"""SIGTERM and SIGHUP handled as Ctrl-C is: the running command stops at the next Python instruction (a training
saves its resumable state, temporary folders and the writer lock are cleaned up), and the process exits 128 + the
signal's number, as a shell reports a signal (143 for SIGTERM, 129 for SIGHUP, 130 for Ctrl-C)."""

from __future__ import annotations

import signal

_received: list[int] = []


def _stop(signum: int, frame) -> None:
    """The first SIGTERM/SIGHUP raises KeyboardInterrupt where the program is; later ones are ignored, so the save
    that the first one started completes."""
    if not _received:
        _received.append(signum)
        for s in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        raise KeyboardInterrupt


def install() -> None:
    """Route SIGTERM and SIGHUP through KeyboardInterrupt (the main thread only, where Python runs handlers)."""
    for s in (signal.SIGTERM, signal.SIGHUP):
        try:
            if signal.getsignal(s) is signal.SIG_DFL:  # one that a caller set to ignore (nohup) stays ignored
                signal.signal(s, _stop)
        except (ValueError, OSError):  # not the main thread, or a platform without the signal
            pass


def interrupted_exit_code() -> int:
    """The exit code of a command stopped by a signal: 128 + its number (SIGINT: 130)."""
    return 128 + (_received[0] if _received else signal.SIGINT)


def stopped_by() -> str:
    """What stopped the command, for its last line: "interrupted" (Ctrl-C) or "terminated (SIGTERM)"."""
    return f"terminated ({signal.Signals(_received[0]).name})" if _received else "interrupted"
