"""`gencli lm compress` and `gencli lm decompress`: files in the manner of gzip, coded by the language model."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from gencli.cli import console
from gencli.cli.options import CkptReadOpt, JsonOpt
from gencli.core.errors import GencliError, WriteFailed
from gencli.core.lazy import lazy_module
from gencli.core.paths import LM_CHECKPOINT

codec = lazy_module("gencli.lm.compression.codec")
store = lazy_module("gencli.lm.model.store")
atomic = lazy_module("gencli.core.atomic")

SUFFIX = ".gcz"

STDIO = Path("-")  # `-` as INPUT reads stdin; as OUTPUT (or with -c) writes stdout, in gzip's manner

TextArg = Annotated[
    Path, typer.Argument(metavar="INPUT", help="The UTF-8 text file to compress (- : stdin).", show_default=False)
]
ArchiveArg = Annotated[
    Path, typer.Argument(metavar="INPUT", help="The .gcz file to decompress (- : stdin).", show_default=False)
]
OutputOpt = Annotated[
    Path | None, typer.Option("-o", "--output", help="The file to write (- : stdout; default: see above).")
]
StdoutOpt = Annotated[bool, typer.Option("-c", "--stdout", help="Write to stdout and keep INPUT, as gzip -c does.")]
ForceOpt = Annotated[bool, typer.Option("--force", "-f", help="Replace OUTPUT if it exists (or write to a terminal).")]


def read_input(path: Path, check_start: Callable[[bytes], None] | None = None) -> bytes:
    """The bytes of a regular file (or stdin); `check_start` sees the first bytes before the rest is read."""
    stream = sys.stdin.buffer if path == STDIO else None
    if stream is None and not path.is_file():
        raise GencliError(
            f"{path}: "
            + (
                "is a directory, not a file"
                if path.is_dir()
                else "not a regular file"
                if path.exists()
                else "no such file"
            )
        )
    try:
        with stream or path.open("rb") as f:
            head = f.read(8)
            if check_start is not None:
                check_start(head)
            return head + f.read()
    except OSError as e:
        raise GencliError(f"{path}: cannot read ({e.strerror})") from None


def output_path(src: Path, output: Path | None, to_stdout: bool, default: Path | None, as_json: bool) -> Path:
    """Where the result goes: -o, stdout (-c, or `-` as either end), else `default`."""
    dst = STDIO if to_stdout or (output is None and src == STDIO) else (output or default)
    if dst is None:
        raise GencliError(f"{src}: does not end in {SUFFIX}; give the output file with -o")
    if dst == STDIO and as_json:
        raise GencliError("--json: the result goes to stdout; write it to a file with -o to have the JSON there")
    return dst


def check_output(src: Path, dst: Path, force: bool) -> None:
    """Refuse to overwrite (without --force), to write over the input itself, to replace anything but a regular file,
    or to write binary data to a terminal (without --force)."""
    if dst == STDIO:
        if sys.stdout.isatty() and not force:
            raise GencliError("refusing to write to a terminal; redirect stdout, or use -o FILE (--force to insist)")
        return
    if dst.exists() and src != STDIO and src.resolve() == dst.resolve():
        raise GencliError(f"{dst}: the output would replace the input")
    if dst.is_dir():
        raise GencliError(f"{dst} is a directory")
    if dst.exists() and not dst.is_file():
        raise GencliError(f"{dst}: exists and is not a regular file; refusing to replace it")
    if dst.exists() and not force:
        raise GencliError(f"{dst} exists; use --force to replace it")


def write_output(dst: Path, data: bytes) -> None:
    if dst == STDIO:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        atomic.write_bytes_atomic(dst, data)
    except OSError as e:
        raise WriteFailed(f"{dst}: cannot write ({e.strerror}); nothing was written") from None


def say(text: str, to_stdout: bool) -> None:
    """The one-line summary: on stdout, or on stderr when stdout carries the data."""
    (console.err if to_stdout else console.out).print(text, markup=False, soft_wrap=True)


def per_byte(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "n/a (an empty input)"


def compress(
    input: TextArg,
    output: OutputOpt = None,
    ckpt: CkptReadOpt = None,
    adapt: Annotated[
        bool,
        typer.Option(
            "--adapt/--no-adapt",
            help="Adapt to the text while coding it (temperature, neural cache, dynamic evaluation, and the "
            "network mixed bit by bit with context models of the bytes so far; the checkpoint's adapt section). "
            "--no-adapt: the trained network alone.",
        ),
    ] = True,
    force: ForceOpt = False,
    to_stdout: StdoutOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Compress a UTF-8 text file with the language model (range coding of each next-token distribution).

    The output is INPUT.gcz unless -o is given (- or -c: stdout; - as INPUT: stdin to stdout); decompress it with the
    same checkpoint.
    The file size is the model's likelihood of the text (the sum of -log2 p over its tokens; adaptive coding mixes
    the network's prediction with context models of the bytes, archive format 3), plus a header of about 17 bytes.

    Example: gencli lm compress notes.txt && gencli lm decompress notes.txt.gcz -o copy.txt
    """
    dst = output_path(input, output, to_stdout, input.with_name(input.name + SUFFIX), json_)
    check_output(input, dst, force)
    data = read_input(input)
    lm = store.load_trained(ckpt or LM_CHECKPOINT)
    start = time.perf_counter()
    with console.progress(1, "compressing") as advance:
        result = codec.compress(lm, data, adapt, str(input), lambda done, total: advance(completed=done / total))
    seconds = time.perf_counter() - start
    write_output(dst, result.archive)
    summary = {
        "input": str(input),
        "output": str(dst),
        "input_bytes": len(data),
        "output_bytes": len(result.archive),
        "bits_per_byte": result.bits_per_byte,
        "model_bits_per_byte": result.model_bits_per_byte,
        "tokens": result.n_tokens,
        "adapt": adapt,
        "format": codec.Header.parse(result.archive, str(dst))[0].version,
        "seconds": seconds,
    }
    if json_:
        console.emit_json(summary)
    else:
        say(
            f"{input} -> {dst}: {len(data):,} -> {len(result.archive):,} bytes, {per_byte(result.bits_per_byte)} bits "
            f"per byte (the model's {per_byte(result.model_bits_per_byte)}), {'adaptive' if adapt else 'static'}, "
            f"{seconds:.1f} s",
            dst == STDIO,
        )


def decompress(
    input: ArchiveArg,
    output: OutputOpt = None,
    ckpt: CkptReadOpt = None,
    force: ForceOpt = False,
    to_stdout: StdoutOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Decompress a .gcz file written by `gencli lm compress` with the same checkpoint.

    The output is INPUT without .gcz unless -o is given (- or -c: stdout; - as INPUT: stdin to stdout). Nothing is
    written unless the result matches the original's checksum.

    Example: gencli lm decompress notes.txt.gcz -o copy.txt
    """
    dst = output_path(input, output, to_stdout, input.with_suffix("") if input.suffix == SUFFIX else None, json_)
    check_output(input, dst, force)
    archive = read_input(input, lambda head: codec.check_magic(head, str(input)))
    lm = store.load_trained(ckpt or LM_CHECKPOINT)
    start = time.perf_counter()
    with console.progress(1, "decompressing") as advance:
        data = codec.decompress(lm, archive, str(input), lambda done, total: advance(completed=done / total))
    seconds = time.perf_counter() - start
    write_output(dst, data)
    summary = {
        "input": str(input),
        "output": str(dst),
        "archive_bytes": len(archive),
        "text_bytes": len(data),
        "adapt": codec.Header.parse(archive, str(input))[0].adaptive,
        "format": codec.Header.parse(archive, str(input))[0].version,
        "round_trip": True,
        "seconds": seconds,
    }
    if json_:
        console.emit_json(summary)
    else:
        say(
            f"{input} -> {dst}: {len(archive):,} -> {len(data):,} bytes, checksum matches, {seconds:.1f} s",
            dst == STDIO,
        )
