"""Concurrent and hostile use: one writer per checkpoint, readers that never see half a save, a full disk."""

import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import torch

from gencli.checkpoint import save as checkpoint_save
from gencli.checkpoint.load import load_checkpoint
from gencli.checkpoint.save import save_checkpoint
from gencli.core.atomic import replacing
from tests.conftest import TINY_DIFFUSION

SLOW_TRAIN = ["--set", "data.n_points=1000", "--set", "train.epochs=100000", "--set", "model.hidden=32"]


def _default_sigint() -> None:
    """A process started in the background inherits an ignored SIGINT, and Python keeps it ignored: give it back its
    default, so that the child turns Ctrl-C into KeyboardInterrupt as in a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _gencli(*args, cwd):
    return subprocess.Popen(
        [sys.executable, "-m", "gencli", *map(str, args)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )


def _wait_for_lock(lock, pid, seconds=60.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if lock.is_file() and lock.read_text().strip() == str(pid):
            return
        time.sleep(0.05)
    raise AssertionError(f"{lock} was never taken by pid {pid}")


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind, signum",
    [
        ("diffusion", signal.SIGINT),
        ("lm", signal.SIGINT),
        ("diffusion", signal.SIGTERM),
        ("lm", signal.SIGTERM),
        ("diffusion", signal.SIGHUP),
    ],
    ids=["diffusion-ctrl-c", "lm-ctrl-c", "diffusion-sigterm", "lm-sigterm", "diffusion-sighup"],
)
def test_a_second_writer_is_refused_at_once_and_the_first_keeps_its_checkpoint(tmp_path, kind, signum):
    """A second writer is refused while the first trains; then Ctrl-C, SIGTERM (a batch system, `timeout`) or SIGHUP
    (a closed terminal) stops the first as Ctrl-C does: a resumable state, no leftovers, exit 128 + the signal."""
    if kind == "diffusion":
        first_args = ["diffusion", "train", "--ckpt", "same", *SLOW_TRAIN]
        second_args = ["diffusion", "train", "--ckpt", "same", "--seed", "7", *TINY_DIFFUSION]
    else:
        from tests.test_cli_lm import TINY
        from tests.test_lm_core import CORPUS

        (tmp_path / "c.txt").write_text(CORPUS)
        first_args = ["lm", "train", "--corpus", "c.txt", "--ckpt", "same", *TINY, "--max-iters", "100000"]
        second_args = ["lm", "train", "--corpus", "c.txt", "--ckpt", "same", *TINY, "--max-iters", "5"]
    first = _gencli(*first_args, cwd=tmp_path)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(first.stderr), daemon=True).start()  # the first's progress notes
    try:
        _wait_for_lock(tmp_path / ".same.lock", first.pid)
        second = subprocess.run(
            [sys.executable, "-m", "gencli", *second_args], cwd=tmp_path, capture_output=True, text=True
        )
        assert second.returncode == 2, second.stderr
        assert second.stderr.count("\n") == 1 and f"pid {first.pid}" in second.stderr and "same" in second.stderr
        # Ctrl-C once the first is training (the LM prints its model line first): it saves a resumable state and stops
        end = time.monotonic() + 60
        while kind == "lm" and not any("parameters" in line for line in lines) and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(1.0)
        first.send_signal(signum)
        assert first.wait(timeout=120) == 128 + signum, "".join(lines)
    finally:
        if first.poll() is None:  # never leave a long training running behind a failed test
            first.kill()
            first.wait()
    ckpt = load_checkpoint(tmp_path / "same", kind)
    assert ckpt.meta["interrupted"] is True and ckpt.meta["step"] > 0
    assert not list(tmp_path.glob(".same*")), "no lock, scratch or half-written folder is left"


@pytest.mark.slow
def test_a_killed_writer_does_not_block_the_next(tmp_path):
    first = _gencli("diffusion", "train", "--ckpt", "same", *SLOW_TRAIN, cwd=tmp_path)
    try:
        _wait_for_lock(tmp_path / ".same.lock", first.pid)
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    second = subprocess.run(
        [sys.executable, "-m", "gencli", "diffusion", "train", "--ckpt", "same", *TINY_DIFFUSION],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert second.returncode == 0, second.stderr
    assert load_checkpoint(tmp_path / "same", "diffusion").meta["step"] == 60
    assert not list(tmp_path.glob(".same*")), "the dead writer's lock and scratch folders are gone"


def test_a_reader_never_sees_half_a_save(tmp_path):
    path = tmp_path / "ck"

    def save(step: int) -> None:
        save_checkpoint(path, "diffusion", {"w": torch.full((64, 64), float(step))}, {"step": step}, {"step": step})

    save(0)
    done = threading.Event()

    def writer() -> None:
        for step in range(1, 60):
            save(step)
        done.set()

    t = threading.Thread(target=writer)
    t.start()
    reads = 0
    while not done.is_set() or reads < 5:
        ck = load_checkpoint(path, "diffusion")
        step = ck.meta["step"]
        assert ck.config == {"step": step} and torch.equal(ck.weights["w"], torch.full((64, 64), float(step)))
        reads += 1
    t.join()
    assert reads >= 5


def test_a_full_disk_keeps_the_checkpoint_and_says_so(tmp_path, cli, monkeypatch):
    assert cli("diffusion", "train", "--ckpt", tmp_path / "ck", *TINY_DIFFUSION).exit_code == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "ck").iterdir()}

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint_save, "save_file", full)
    r = cli("diffusion", "train", "--ckpt", tmp_path / "ck", *TINY_DIFFUSION, "--force")
    assert r.exit_code == 1 and r.stderr.count("\n") == 1
    assert "disk is full" in r.stderr and "intact" in r.stderr and str(tmp_path / "ck") in r.stderr
    assert {p.name: p.read_bytes() for p in (tmp_path / "ck").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck"]


def test_temporary_names_never_collide(tmp_path):
    target = tmp_path / "f.txt"
    with replacing(target) as a, replacing(target) as b:
        assert a != b and a.parent == b.parent == tmp_path
        a.write_text("a")
        b.write_text("b")
    assert target.read_text() == "a"  # the outer block ends last
    assert json.loads(json.dumps(sorted(p.name for p in tmp_path.iterdir()))) == ["f.txt"]


_SAVE_AND_DIE = """
import os, sys, torch
from gencli.checkpoint import swap
from gencli.checkpoint.save import save_checkpoint
path, step, use_exchange = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
def save(n):
    save_checkpoint(path, "diffusion", {"w": torch.full((3,), float(n))}, {"n": n}, {"step": n})
save(1)
if not use_exchange:
    swap.exchange = lambda a, b: False
swap.step_hook = lambda name: os._exit(9) if name == step else None
save(2)
"""


@pytest.mark.parametrize(
    "step, use_exchange",
    [
        ("filled", True),
        ("exchanged", True),
        ("old removed", True),
        ("filled", False),
        ("old moved", False),
        ("new moved", False),
        ("old removed", False),
    ],
)
def test_a_kill_at_each_step_of_a_save_leaves_a_checkpoint_that_loads(tmp_path, step, use_exchange):
    """A process killed (os._exit, no cleanup) at each step of the swap: the next read finds the old checkpoint or
    the new one, whole, and no scratch folder is left behind it."""
    from gencli.checkpoint import swap

    if use_exchange:  # Linux has the atomic exchange; it swaps two names and nothing else
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        (tmp_path / "a" / "in-a").touch()
        assert swap.exchange(tmp_path / "a", tmp_path / "b") and (tmp_path / "b" / "in-a").exists()
    path = tmp_path / "ck"
    r = subprocess.run([sys.executable, "-c", _SAVE_AND_DIE, str(path), step, "1" if use_exchange else "0"])
    assert r.returncode == 9, "the writer was stopped at the step"
    ckpt = load_checkpoint(path, "diffusion")
    n = ckpt.meta["step"]
    assert n in (1, 2) and torch.equal(ckpt.weights["w"], torch.full((3,), float(n)))
    assert n == (1 if step in ("filled", "old moved") else 2)
    assert not list(tmp_path.glob(".ck*")), "the killed save's scratch is cleared by the next read"
